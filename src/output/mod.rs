//! Writing lists: CSV, Parquet or JSON lines, always to a temporary file that
//! is renamed into place only when everything succeeded (`commit` does the
//! renaming for a whole run).

pub mod commit;

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::{anyhow, Context, Result};
use chrono::Timelike;
use polars::prelude::*;

use crate::segment::ast::Format;
use crate::text::number_text;

/// One column as text, cell by cell, in the project's export format.
enum Cells<'a> {
    Text(&'a StringChunked),
    Int(Int64Chunked),
    Float(Float64Chunked),
    Bool(&'a BooleanChunked),
    Date(Int32Chunked),
    Datetime(Int64Chunked),
}

impl<'a> Cells<'a> {
    fn new(c: &'a Column) -> Result<Cells<'a>> {
        Ok(match c.dtype() {
            DataType::String => Cells::Text(c.str()?),
            DataType::Boolean => Cells::Bool(c.bool()?),
            DataType::Date => Cells::Date(c.cast(&DataType::Int32)?.i32()?.clone()),
            DataType::Datetime(_, _) => Cells::Datetime(c.cast(&DataType::Datetime(TimeUnit::Milliseconds, None))?.cast(&DataType::Int64)?.i64()?.clone()),
            DataType::Float32 | DataType::Float64 => Cells::Float(c.cast(&DataType::Float64)?.f64()?.clone()),
            dt if dt.is_integer() => Cells::Int(c.cast(&DataType::Int64)?.i64()?.clone()),
            _ => return Err(anyhow!("column `{}` has a type that cannot be exported ({})", c.name(), c.dtype())),
        })
    }

    /// Appends cell `i` to `buf`; false (nothing appended) when it is missing.
    /// Dates are formatted by hand: chrono's formatter parses its pattern
    /// for every cell, which was a tenth of the time spent writing lists.
    fn write(&self, i: usize, buf: &mut Vec<u8>) -> bool {
        use std::io::Write as _;
        match self {
            Cells::Text(ca) => ca.get(i).map(|v| buf.extend_from_slice(v.as_bytes())).is_some(),
            Cells::Int(ca) => ca.get(i).map(|v| write!(buf, "{v}").expect("writing to memory")).is_some(),
            Cells::Float(ca) => ca.get(i).map(|v| buf.extend_from_slice(number_text(v).as_bytes())).is_some(),
            Cells::Bool(ca) => ca.get(i).map(|v| buf.extend_from_slice(if v { b"true" } else { b"false" })).is_some(),
            Cells::Date(ca) => ca.get(i).map(|d| push_date(buf, crate::dates::from_days(d))).is_some(),
            Cells::Datetime(ca) => match ca.get(i).and_then(chrono::DateTime::from_timestamp_millis) {
                Some(t) => {
                    let t = t.naive_utc();
                    push_date(buf, t.date());
                    buf.push(b'T');
                    push_2(buf, t.hour());
                    buf.push(b':');
                    push_2(buf, t.minute());
                    buf.push(b':');
                    push_2(buf, t.second());
                    true
                }
                None => false,
            },
        }
    }

    fn text(&self, i: usize) -> Option<String> {
        let mut buf = Vec::new();
        self.write(i, &mut buf).then(|| String::from_utf8(buf).expect("cells are UTF-8"))
    }

    fn json(&self, i: usize) -> serde_json::Value {
        use serde_json::Value as J;
        match self {
            Cells::Int(ca) => ca.get(i).map(J::from).unwrap_or(J::Null),
            Cells::Float(ca) => ca
                .get(i)
                .map(|v| if v.fract() == 0.0 && v.abs() < 1e15 { J::from(v as i64) } else { serde_json::Number::from_f64(v).map(J::Number).unwrap_or(J::Null) })
                .unwrap_or(J::Null),
            Cells::Bool(ca) => ca.get(i).map(J::Bool).unwrap_or(J::Null),
            _ => self.text(i).map(J::String).unwrap_or(J::Null),
        }
    }
}

fn push_2(buf: &mut Vec<u8>, v: u32) {
    buf.push(b'0' + (v / 10 % 10) as u8);
    buf.push(b'0' + (v % 10) as u8);
}

/// YYYY-MM-DD, as chrono's `%Y-%m-%d` writes it.
fn push_date(buf: &mut Vec<u8>, d: chrono::NaiveDate) {
    use chrono::Datelike;
    let y = d.year();
    if (0..=9999).contains(&y) {
        push_2(buf, y as u32 / 100);
        push_2(buf, y as u32 % 100);
    } else {
        buf.extend_from_slice(d.format("%Y").to_string().as_bytes());
    }
    buf.push(b'-');
    push_2(buf, d.month());
    buf.push(b'-');
    push_2(buf, d.day());
}

pub struct CsvStyle {
    pub separator: u8,
    pub bom: bool,
    /// Text cells a spreadsheet would run as a formula get a leading `'`.
    pub escape_formulas: bool,
}

impl CsvStyle {
    /// Plain CSV: commas, no BOM, cells as they are.
    pub const PLAIN: CsvStyle = CsvStyle { separator: b',', bom: false, escape_formulas: false };

    /// The style a segment's `export.csv` asks for.
    pub fn of(export: &crate::segment::ast::Export) -> CsvStyle {
        use crate::segment::ast::Formulas;
        let escape_formulas = match export.formulas {
            Formulas::Auto => export.bom,
            Formulas::Keep => false,
            Formulas::Escape => true,
        };
        CsvStyle { separator: export.separator, bom: export.bom, escape_formulas }
    }
}

/// Whether a spreadsheet would read this text cell as a formula (OWASP's
/// list of leading characters for CSV injection).
fn looks_like_formula(cell: &[u8]) -> bool {
    matches!(cell.first(), Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r'))
}

/// A list written to a temporary file beside its target, flushed to disk,
/// waiting to be renamed into place (`commit::OutputDir::commit`).
#[derive(Debug)]
pub struct Staged {
    pub tmp: PathBuf,
    pub target: PathBuf,
}

impl Staged {
    /// Removes the temporary file: the run will not use it.
    pub fn discard(self) {
        let _ = std::fs::remove_file(&self.tmp);
    }
}

/// Writes the rows of `df` (columns already named as exported) that `keep`
/// keeps (all without it) to a new temporary file beside `target`. Its name
/// cannot be predicted and it is created exclusively, so a planted link is
/// never followed; its contents reach the disk before it is returned.
pub fn stage(df: &mut DataFrame, keep: Option<&BooleanChunked>, target: &Path, format: Format, style: &CsvStyle) -> Result<Staged> {
    let dir = match target.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let mut tmp = commit::temp_file(dir).with_context(|| format!("{}: cannot create a temporary file in {}", target.display(), dir.display()))?;
    write(df, keep, tmp.as_file_mut(), format, style)
        .and_then(|_| Ok(tmp.as_file().sync_all()?))
        .with_context(|| format!("{}: cannot write", target.display()))?;
    let tmp = tmp.into_temp_path().keep().with_context(|| format!("{}: cannot keep the temporary file", target.display()))?;
    Ok(Staged { tmp, target: target.to_path_buf() })
}

/// Writes a whole file in one go, for files outside a run's output folder
/// (`rfm --scores`): temporary file, then rename.
pub fn write_atomic(df: &mut DataFrame, target: &Path, format: Format, style: &CsvStyle) -> Result<()> {
    let staged = stage(df, None, target, format, style)?;
    std::fs::rename(&staged.tmp, target).map_err(|e| {
        let _ = std::fs::remove_file(&staged.tmp);
        anyhow!("{}: cannot move the finished file into place: {e}", target.display())
    })
}

/// Writes bytes to a file whole or not at all: temporary file, then rename.
pub fn write_bytes_atomic(target: &Path, bytes: &[u8]) -> Result<()> {
    let dir = match target.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let mut tmp = commit::temp_file(dir).with_context(|| format!("{}: cannot create a temporary file in {}", target.display(), dir.display()))?;
    tmp.write_all(bytes).and_then(|_| tmp.as_file().sync_all()).with_context(|| format!("{}: cannot write", target.display()))?;
    tmp.persist(target).map_err(|e| anyhow!("{}: cannot move the finished file into place: {}", target.display(), e.error))?;
    Ok(())
}

/// Like [`write_bytes_atomic`], but never replaces a file: an existing
/// `target` is an error and is left as it was.
pub fn write_new_atomic(target: &Path, bytes: &[u8]) -> Result<()> {
    let dir = match target.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let mut tmp = commit::temp_file(dir).with_context(|| format!("{}: cannot create a temporary file in {}", target.display(), dir.display()))?;
    tmp.write_all(bytes).and_then(|_| tmp.as_file().sync_all()).with_context(|| format!("{}: cannot write", target.display()))?;
    tmp.persist_noclobber(target).map_err(|e| anyhow!("{}: cannot create it: {}", target.display(), e.error))?;
    Ok(())
}

/// Rows written per block: a list is filtered and written a block at a
/// time, so writing holds a block of it, never a copy of the whole list.
const BLOCK: usize = 1 << 16;

/// The rows `keep` keeps, a block at a time, each block in one chunk.
fn blocks<'a>(df: &'a DataFrame, keep: Option<&'a BooleanChunked>) -> impl Iterator<Item = Result<DataFrame>> + 'a {
    (0..df.height()).step_by(BLOCK).map(move |start| {
        let mut part = df.slice(start as i64, BLOCK);
        if let Some(keep) = keep {
            part = part.filter(&keep.slice(start as i64, BLOCK))?;
        }
        part.rechunk_mut();
        Ok(part)
    })
}

/// Writes a list to standard output (`-o -`), as CSV: nothing else of the
/// run goes there.
pub fn write_stdout(df: &mut DataFrame, keep: Option<&BooleanChunked>, style: &CsvStyle) -> Result<()> {
    let mut stdout = std::io::stdout();
    write(df, keep, &mut stdout, Format::Csv, style).context("standard output: cannot write the list")?;
    stdout.flush().context("standard output: cannot write the list")
}

/// The rows of `df` as JSON objects, columns in order, values typed as in a
/// JSON Lines export.
pub fn json_rows(df: &DataFrame) -> Result<Vec<serde_json::Value>> {
    let names: Vec<String> = df.get_column_names().iter().map(|n| n.to_string()).collect();
    let cells: Vec<Cells> = df.columns().iter().map(Cells::new).collect::<Result<_>>()?;
    Ok((0..df.height()).map(|i| serde_json::Value::Object(names.iter().cloned().zip(cells.iter().map(|c| c.json(i))).collect())).collect())
}

fn write<W: Write + Send>(df: &mut DataFrame, keep: Option<&BooleanChunked>, file: &mut W, format: Format, style: &CsvStyle) -> Result<()> {
    match format {
        Format::Parquet => {
            let mut rows = match keep {
                Some(keep) => df.filter(keep)?,
                None => df.clone(),
            };
            rows.rechunk_mut_par();
            ParquetWriter::new(file).finish(&mut rows)?;
        }
        Format::Csv => {
            let mut out = BufWriter::new(&mut *file);
            if style.bom {
                out.write_all("\u{feff}".as_bytes())?;
            }
            let mut w = csv::WriterBuilder::new().delimiter(style.separator).from_writer(out);
            w.write_record(df.get_column_names().iter().map(|n| n.as_str()))?;
            let mut record = csv::ByteRecord::new();
            let mut cell = Vec::new();
            for part in blocks(df, keep) {
                let part = part?;
                let cells: Vec<Cells> = part.columns().iter().map(Cells::new).collect::<Result<_>>()?;
                let text: Vec<bool> = cells.iter().map(|c| matches!(c, Cells::Text(_))).collect();
                for i in 0..part.height() {
                    record.clear();
                    for (c, is_text) in cells.iter().zip(&text) {
                        cell.clear();
                        if style.escape_formulas && *is_text {
                            c.write(i, &mut cell);
                            if looks_like_formula(&cell) {
                                cell.insert(0, b'\'');
                            }
                        } else {
                            c.write(i, &mut cell);
                        }
                        record.push_field(&cell);
                    }
                    w.write_byte_record(&record)?;
                }
            }
            w.into_inner().map_err(|e| anyhow!("{}", e.error()))?.flush()?;
        }
        Format::Jsonl => {
            let mut out = BufWriter::new(file);
            // Each object is written key by key, in the export's column
            // order: a JSON map would sort the keys.
            let names: Vec<String> = df.get_column_names().iter().map(|n| serde_json::to_string(n.as_str())).collect::<Result<_, _>>()?;
            for part in blocks(df, keep) {
                let part = part?;
                let cells: Vec<Cells> = part.columns().iter().map(Cells::new).collect::<Result<_>>()?;
                for i in 0..part.height() {
                    out.write_all(b"{")?;
                    for (j, (n, c)) in names.iter().zip(&cells).enumerate() {
                        if j > 0 {
                            out.write_all(b",")?;
                        }
                        out.write_all(n.as_bytes())?;
                        out.write_all(b":")?;
                        serde_json::to_writer(&mut out, &c.json(i))?;
                    }
                    out.write_all(b"}\n")?;
                }
            }
            out.flush()?;
        }
    }
    Ok(())
}

/// The first `limit` rows of `df` as text cells, for terminal tables.
pub fn text_rows(df: &DataFrame, limit: usize) -> Result<Vec<Vec<String>>> {
    let cells: Vec<Cells> = df.columns().iter().map(Cells::new).collect::<Result<_>>()?;
    Ok((0..df.height().min(limit)).map(|i| cells.iter().map(|c| c.text(i).unwrap_or_default()).collect()).collect())
}

/// Every cell of a column as text (None when missing), as lists write it.
pub fn text_cells(c: &Column) -> Result<Vec<Option<String>>> {
    let cells = Cells::new(c)?;
    Ok((0..c.len()).map(|i| cells.text(i)).collect())
}

/// The format a file's extension asks for (CSV unless .parquet or .jsonl).
pub fn format_for(path: &Path) -> Format {
    match path.extension().map(|e| e.to_string_lossy().to_ascii_lowercase()).as_deref() {
        Some("parquet") => Format::Parquet,
        Some("jsonl") | Some("ndjson") => Format::Jsonl,
        _ => Format::Csv,
    }
}

/// A table for the terminal: its header, rows of text cells, which
/// columns align right, and which one may be cut short to fit.
pub struct Grid {
    pub header: Vec<String>,
    pub rows: Vec<Vec<String>>,
    right: Vec<bool>,
    /// The column cut short (ending in …) on a narrow terminal; by default
    /// the widest column that is not all numbers.
    pub shrink: Shrink,
}

pub enum Shrink {
    WidestText,
    Never,
}

/// The narrowest a shortened column may become before the table is
/// printed one record per block instead.
const MIN_SHRUNK: usize = 10;

impl Grid {
    pub fn new(header: Vec<String>) -> Grid {
        let right = vec![false; header.len()];
        Grid { header, rows: Vec::new(), right, shrink: Shrink::WidestText }
    }

    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    pub fn align_right(&mut self, column: usize) {
        if let Some(r) = self.right.get_mut(column) {
            *r = true;
        }
    }

    /// The table as text, fitted to [`table_width`].
    pub fn render(&self) -> String {
        self.render_to(table_width())
    }

    /// The table as text, no wider than `width` when one is given: whole
    /// when it fits; else with headers of several words on two lines; else
    /// also with one column cut short; else, on a terminal too narrow even
    /// for that, one block of `header  value` lines per row.
    pub fn render_to(&self, width: Option<usize>) -> String {
        let whole = self.comfy(&self.header, &self.rows);
        let Some(width) = width else { return whole };
        if line_width(&whole) <= width {
            return whole;
        }
        let stacked: Vec<String> = self.header.iter().map(|h| two_lines(h)).collect();
        let text = self.comfy(&stacked, &self.rows);
        let used = line_width(&text);
        if used <= width {
            return text;
        }
        if let Some(c) = self.shrinkable() {
            let w = self.rows.iter().map(|r| r.get(c).map_or(0, |v| v.chars().count())).chain(stacked[c].lines().map(|l| l.chars().count())).max().unwrap_or(0);
            let over = used - width;
            if w >= over + MIN_SHRUNK {
                let rows: Vec<Vec<String>> =
                    self.rows.iter().map(|r| r.iter().enumerate().map(|(i, v)| if i == c { cut(v, w - over) } else { v.clone() }).collect()).collect();
                let text = self.comfy(&stacked, &rows);
                if line_width(&text) <= width {
                    return text;
                }
            }
        }
        self.records(width)
    }

    fn shrinkable(&self) -> Option<usize> {
        match self.shrink {
            Shrink::Never => None,
            Shrink::WidestText => {
                let numeric = |i: usize| self.rows.iter().all(|r| r.get(i).is_none_or(|v| v.is_empty() || v.parse::<f64>().is_ok()));
                let width = |i: usize| self.rows.iter().map(|r| r.get(i).map_or(0, |v| v.chars().count())).max().unwrap_or(0);
                (0..self.header.len()).filter(|&i| !numeric(i)).max_by_key(|&i| width(i))
            }
        }
    }

    fn comfy(&self, header: &[String], rows: &[Vec<String>]) -> String {
        let mut t = comfy_table::Table::new();
        t.load_preset(comfy_table::presets::UTF8_FULL_CONDENSED);
        t.set_content_arrangement(comfy_table::ContentArrangement::Disabled);
        t.set_header(header.to_vec());
        for r in rows {
            t.add_row(r.clone());
        }
        for (i, right) in self.right.iter().enumerate() {
            if let (true, Some(c)) = (*right, t.column_mut(i)) {
                c.set_cell_alignment(comfy_table::CellAlignment::Right);
            }
        }
        t.to_string()
    }

    /// One block per row, a line per column.
    fn records(&self, width: usize) -> String {
        let label = self.header.iter().map(|h| h.chars().count()).max().unwrap_or(0);
        let room = width.saturating_sub(label + 2).max(MIN_SHRUNK);
        let blocks: Vec<String> = self
            .rows
            .iter()
            .map(|row| {
                let lines: Vec<String> =
                    self.header.iter().zip(row).map(|(h, v)| format!("{h:<label$}  {}", cut(&v.replace('\n', " "), room)).trim_end().to_string()).collect();
                lines.join("\n")
            })
            .collect();
        blocks.join("\n\n")
    }
}

fn line_width(text: &str) -> usize {
    text.lines().map(|l| l.chars().count()).max().unwrap_or(0)
}

/// A value cut to `n` characters, the last one `…`.
fn cut(v: &str, n: usize) -> String {
    if v.chars().count() <= n {
        return v.to_string();
    }
    let mut s: String = v.chars().take(n.saturating_sub(1)).collect();
    s.push('…');
    s
}

/// A header split at the space nearest its middle.
fn two_lines(h: &str) -> String {
    let mid = h.chars().count() / 2;
    let best = h.char_indices().filter(|(_, c)| *c == ' ').min_by_key(|(i, _)| h[..*i].chars().count().abs_diff(mid));
    match best {
        Some((i, _)) => format!("{}\n{}", &h[..i], &h[i + 1..]),
        None => h.to_string(),
    }
}

/// The width tables are fitted to: `AUDIENCE_WIDTH` when set (0 for no
/// limit), else the terminal's when stdout is one. A file or a pipe gets
/// tables at full width, so scripts and pasted output never lose a cell.
pub fn table_width() -> Option<usize> {
    use std::io::IsTerminal;
    if let Some(w) = crate::exec::options().width {
        return usize::try_from(w).ok().filter(|w| *w > 0);
    }
    if !std::io::stdout().is_terminal() {
        return None;
    }
    comfy_table::Table::new().width().map(usize::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counts() -> Grid {
        let mut g = Grid::new(vec!["segment".into(), "name".into(), "members".into(), "no consent".into()]);
        g.row(vec!["at-risk-200".into(), "À risque, plus de 200 € dépensés".into(), "34".into(), "9".into()]);
        g.row(vec!["gmail".into(), "Adresses Gmail".into(), "756".into(), "0".into()]);
        g.align_right(2);
        g
    }

    #[test]
    fn a_table_is_whole_without_a_width_or_when_it_fits() {
        let g = counts();
        let whole = g.render_to(None);
        assert!(whole.contains("À risque, plus de 200 € dépensés"));
        assert_eq!(g.render_to(Some(200)), whole);
    }

    #[test]
    fn a_narrow_terminal_cuts_the_widest_text_column_one_line_per_row() {
        let text = counts().render_to(Some(52));
        assert!(text.lines().all(|l| l.chars().count() <= 52), "{text}");
        assert!(text.contains("│ at-risk-200 ┆ À risque, plu… ┆      34 ┆ 9       │"), "{text}");
        // Header, two-line header, rule, two rows, borders: no wrapped row.
        assert_eq!(text.lines().count(), 7, "{text}");
    }

    #[test]
    fn a_very_narrow_terminal_gets_one_record_per_block() {
        let text = counts().render_to(Some(30));
        let want = "segment     at-risk-200\nname        À risque, plus de…\nmembers     34\nno consent  9\n\n\
                    segment     gmail\nname        Adresses Gmail\nmembers     756\nno consent  0";
        assert_eq!(text, want);
    }

    /// A list longer than a block is written whole, in order, with exactly
    /// the rows its mask keeps.
    #[test]
    fn lists_longer_than_a_block_keep_every_kept_row() {
        let n = 2 * BLOCK + 123;
        let keys: Vec<String> = (0..n).map(|i| format!("c{i}@x.fr")).collect();
        let amounts: Vec<Option<i64>> = (0..n).map(|i| (i % 5 != 0).then_some(i as i64)).collect();
        let mut df = DataFrame::new_infer_height(vec![Column::new("email".into(), keys), Column::new("n".into(), amounts)]).unwrap();
        let keep: BooleanChunked = (0..n).map(|i| Some(i % 3 == 0)).collect();
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("list.csv");
        let staged = stage(&mut df, Some(&keep), &target, Format::Csv, &CsvStyle::PLAIN).unwrap();
        let mut want = String::from("email,n\n");
        for i in (0..n).filter(|i| i % 3 == 0) {
            let n = if i % 5 == 0 { String::new() } else { i.to_string() };
            want.push_str(&format!("c{i}@x.fr,{n}\n"));
        }
        assert!(std::fs::read_to_string(&staged.tmp).unwrap() == want, "the written list differs");
    }
}
