//! Reading CSV exports as they come out of real tools: BOM, separators other
//! than the comma, Windows-1252 bytes, `\r\n` line ends, quoted fields over
//! several lines. The result is a table of trimmed text cells; typing is
//! `infer`'s job.
//!
//! The parser is written by hand rather than on the `csv` crate because the
//! messages need what that crate does not give: the line where an unclosed
//! quote starts, and the line of every ragged row.

pub use crate::types::Encoding;
use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Result};

use super::input::Snapshot;

/// Separators `separator: auto` chooses from, in order of preference on a tie.
const CANDIDATES: [u8; 4] = [b',', b';', b'\t', b'|'];
/// Records looked at by separator detection.
const DETECT_RECORDS: usize = 50;
/// Ragged rows named one by one in the error before the rest are counted.
const RAGGED_SHOWN: usize = 5;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct CsvDialect {
    /// `None` picks among `,` `;` tab `|` from the first lines.
    pub separator: Option<u8>,
    pub encoding: Encoding,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct RawTable {
    /// Trimmed header names, BOM stripped.
    pub headers: Vec<String>,
    /// Column-major cells, trimmed; an empty or blank cell is missing.
    pub columns: Vec<Cells>,
    /// 1-based line in its file where each data row starts.
    pub row_lines: Vec<u64>,
    /// Things worth telling the user that are not errors.
    pub notes: Vec<String>,
    /// The files read, in order, each with its number of rows: row `i` comes
    /// from the file whose range holds it (see [`RawTable::origin`]).
    pub files: Vec<(PathBuf, usize)>,
    /// What each file was when it was read, to check later that it has not
    /// changed.
    pub inputs: Vec<Snapshot>,
}

/// One column's cells, trimmed, end to end in a few buffers (one per piece
/// of the file parsed apart): a cell per row without an allocation of its
/// own. A cell that trims to nothing is missing, so "empty" and "missing"
/// are the same here.
#[derive(Clone, Debug, Default)]
pub struct Cells {
    chunks: Vec<Chunk>,
}

#[derive(Clone, Debug, Default)]
struct Chunk {
    text: String,
    ends: Vec<usize>,
}

#[allow(clippy::len_without_is_empty)]
impl Cells {
    fn last(&mut self) -> &mut Chunk {
        if self.chunks.is_empty() {
            self.chunks.push(Chunk::default());
        }
        self.chunks.last_mut().expect("one chunk at least")
    }

    /// Adds a cell, trimmed.
    pub fn push(&mut self, cell: &str) {
        let chunk = self.last();
        chunk.text.push_str(crate::text::trim(cell));
        chunk.ends.push(chunk.text.len());
    }

    pub fn len(&self) -> usize {
        self.chunks.iter().map(|c| c.ends.len()).sum()
    }

    /// The cells in order; the iterator knows its length, so that what is
    /// collected from it is allocated once.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = Option<&str>> + '_ {
        let cells = self.chunks.iter().flat_map(|chunk| {
            let mut start = 0;
            chunk.ends.iter().map(move |&end| {
                let cell = &chunk.text[start..end];
                start = end;
                (!cell.is_empty()).then_some(cell)
            })
        });
        Counted { inner: cells, left: self.len() }
    }

    /// Adds `other`'s cells after these, without copying them.
    pub fn append(&mut self, other: Cells) {
        self.chunks.extend(other.chunks.into_iter().filter(|c| !c.ends.is_empty()));
    }

    /// Makes room for `rows` more cells of `bytes` bytes in all.
    fn reserve(&mut self, rows: usize, bytes: usize) {
        let chunk = self.last();
        chunk.text.reserve(bytes);
        chunk.ends.reserve(rows);
    }

    fn bytes(&self) -> usize {
        self.chunks.iter().map(|c| c.text.len()).sum()
    }
}

/// An iterator of known length.
struct Counted<I> {
    inner: I,
    left: usize,
}

impl<I: Iterator> Iterator for Counted<I> {
    type Item = I::Item;

    fn next(&mut self) -> Option<I::Item> {
        let item = self.inner.next()?;
        self.left -= 1;
        Some(item)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left, Some(self.left))
    }
}

impl<I: Iterator> ExactSizeIterator for Counted<I> {}

/// Cells are equal when they hold the same cells, however chunked.
impl PartialEq for Cells {
    fn eq(&self, other: &Cells) -> bool {
        self.iter().eq(other.iter())
    }
}

impl<'a> FromIterator<Option<&'a str>> for Cells {
    fn from_iter<I: IntoIterator<Item = Option<&'a str>>>(iter: I) -> Self {
        let mut cells = Cells::default();
        for cell in iter {
            cells.push(cell.unwrap_or(""));
        }
        cells
    }
}

impl RawTable {
    #[cfg(test)]
    pub fn row_count(&self) -> usize {
        self.row_lines.len()
    }

    /// The file and line a data row comes from, for messages.
    pub fn origin(&self, row: usize) -> Option<(&Path, u64)> {
        let line = *self.row_lines.get(row)?;
        let mut start = 0;
        for (path, n) in &self.files {
            if row < start + n {
                return Some((path.as_path(), line));
            }
            start += n;
        }
        None
    }

    #[cfg(test)]
    /// The index of the column named exactly `name`.
    pub fn column_index(&self, name: &str) -> Option<usize> {
        self.headers.iter().position(|h| h == name)
    }
}

/// Reads one CSV file into trimmed text cells.
pub fn read_csv(path: &Path, dialect: &CsvDialect) -> Result<RawTable> {
    let file = path.display().to_string();
    let (bytes, snapshot) = super::input::read(path)?;
    let mut notes = Vec::new();
    let text = decode(bytes, dialect.encoding, &file, &mut notes)?;
    let separator = dialect.separator.unwrap_or_else(|| detect_separator(&text));

    let mut parser = Parser::new(&text, separator);
    let mut fields = Vec::new();
    let header_line = loop {
        match parser.next_record(&mut fields).map_err(|e| e.into_error(&file))? {
            None => bail!("{file}: the file is empty; it needs at least a header line naming the columns"),
            Some(_) if is_blank(&fields) => continue,
            Some(line) => break line,
        }
    };
    let header = fields.iter().map(|f| f.to_string()).collect();
    let headers = check_headers(header, header_line, &file)?;
    let width = headers.len();

    let body = parse_body(&text, parser.pos, parser.line, separator, width).map_err(|e| e.into_error(&file))?;
    if !body.ragged.is_empty() {
        return Err(ragged_error(&file, &body.ragged, width, separator, dialect.separator.is_none()));
    }
    let (columns, row_lines) = (body.columns, body.row_lines);

    let rows = row_lines.len();
    Ok(RawTable { headers, columns, row_lines, notes, files: vec![(path.to_path_buf(), rows)], inputs: vec![snapshot] })
}

/// Reads the files a glob matched (already sorted) into one table. They must
/// have the same column names, in any order; columns follow the first file.
pub fn read_csv_files(paths: &[PathBuf], dialect: &CsvDialect) -> Result<RawTable> {
    let Some((first_path, rest)) = paths.split_first() else {
        bail!("no files to read (the pattern matched nothing)");
    };
    let mut table = read_csv(first_path, dialect)?;
    let mut problems = Vec::new();
    for path in rest {
        let other = read_csv(path, dialect)?;
        let positions: HashMap<&str, usize> = other.headers.iter().enumerate().map(|(i, h)| (h.as_str(), i)).collect();
        let missing: Vec<&str> = table.headers.iter().filter(|h| !positions.contains_key(h.as_str())).map(String::as_str).collect();
        let known: HashSet<&str> = table.headers.iter().map(String::as_str).collect();
        let extra: Vec<&str> = other.headers.iter().filter(|h| !known.contains(h.as_str())).map(String::as_str).collect();
        if !missing.is_empty() || !extra.is_empty() {
            let mut what = Vec::new();
            if !missing.is_empty() {
                what.push(format!("lacks {}", quoted_list(&missing)));
            }
            if !extra.is_empty() {
                what.push(format!("has {} in addition", quoted_list(&extra)));
            }
            problems.push(format!("{}: its columns differ from {}: it {}", path.display(), first_path.display(), what.join(" and ")));
            continue;
        }
        let order: Vec<usize> = table.headers.iter().map(|h| positions[h.as_str()]).collect();
        let mut other_columns: Vec<Option<Cells>> = other.columns.into_iter().map(Some).collect();
        for (column, &from) in table.columns.iter_mut().zip(&order) {
            column.append(other_columns[from].take().expect("each column is moved once"));
        }
        table.row_lines.extend(other.row_lines);
        table.notes.extend(other.notes);
        table.files.extend(other.files);
        table.inputs.extend(other.inputs);
    }
    if !problems.is_empty() {
        bail!("{}\nfiles joined by one pattern must have the same column names (in any order)", problems.join("\n"));
    }
    Ok(table)
}

/// Picks the separator among `,` `;` tab `|` from the header and the first
/// lines: the one found in the header whose count is the same on most lines,
/// then the one with the most columns. Separators inside quotes are ignored.
/// Defaults to `,`.
pub fn detect_separator(sample: &str) -> u8 {
    let sample = sample.strip_prefix('\u{feff}').unwrap_or(sample);
    let mut best: Option<(usize, usize, u8)> = None;
    for &sep in &CANDIDATES {
        let counts = separator_counts(sample, sep);
        let Some((&header, rest)) = counts.split_first() else {
            continue;
        };
        if header == 0 {
            continue;
        }
        let agreeing = rest.iter().filter(|&&c| c == header).count();
        let score = (agreeing, header);
        if best.is_none_or(|(a, h, _)| score > (a, h)) {
            best = Some((agreeing, header, sep));
        }
    }
    best.map_or(b',', |(_, _, sep)| sep)
}

/// Separators outside quotes on each of the first non-blank records of
/// `sample`; a record cut off by the end of the sample is left out.
fn separator_counts(sample: &str, sep: u8) -> Vec<usize> {
    let bytes = sample.as_bytes();
    let mut counts = Vec::new();
    let mut count = 0;
    let mut in_quotes = false;
    let mut field_start = true;
    let mut blank = true;
    let mut i = 0;
    while i < bytes.len() && counts.len() < DETECT_RECORDS {
        let b = bytes[i];
        if in_quotes {
            if b == b'"' {
                if bytes.get(i + 1) == Some(&b'"') {
                    i += 1;
                } else {
                    in_quotes = false;
                }
            }
        } else if b == b'\n' || b == b'\r' {
            if !blank {
                counts.push(count);
            }
            count = 0;
            field_start = true;
            blank = true;
        } else if b == sep {
            count += 1;
            field_start = true;
            blank = false;
        } else if b == b'"' && field_start {
            in_quotes = true;
            field_start = false;
            blank = false;
        } else if b != b' ' {
            field_start = false;
            blank = false;
        }
        i += 1;
    }
    if !in_quotes && !blank && counts.len() < DETECT_RECORDS {
        counts.push(count);
    }
    counts
}

/// Bytes to text following `encoding`; a UTF-8 BOM is dropped. A UTF-16
/// BOM says the file is UTF-16 whatever `encoding` says: no UTF-8 or
/// Windows-1252 text starts with those bytes.
fn decode(mut bytes: Vec<u8>, encoding: Encoding, file: &str, notes: &mut Vec<String>) -> Result<String> {
    if bytes.starts_with(b"\xEF\xBB\xBF") {
        bytes.drain(..3);
    }
    for (bom, utf16, name) in [(b"\xFF\xFE", encoding_rs::UTF_16LE, "UTF-16LE"), (b"\xFE\xFF", encoding_rs::UTF_16BE, "UTF-16BE")] {
        if bytes.starts_with(bom) {
            return utf16
                .decode_without_bom_handling_and_without_replacement(&bytes[2..])
                .map(|text| text.into_owned())
                .ok_or_else(|| anyhow!("{file}: the file starts with a {name} byte order mark but is not valid {name}; save it again as UTF-8"));
        }
    }
    let windows_1252 = |bytes: &[u8]| encoding_rs::WINDOWS_1252.decode_without_bom_handling(bytes).0.into_owned();
    // Valid UTF-8 becomes the text in place, without a copy: an export can
    // be gigabytes.
    match encoding {
        Encoding::Windows1252 => Ok(windows_1252(&bytes)),
        Encoding::Auto => match String::from_utf8(bytes) {
            Ok(text) => Ok(text),
            Err(e) => {
                let bytes = e.as_bytes();
                if holds_utf8_letters(bytes) {
                    let at = e.utf8_error().valid_up_to();
                    let line = 1 + bytes[..at].iter().filter(|&&b| b == b'\n').count();
                    bail!(
                        "{file}:{line}: the file mixes two encodings: it holds UTF-8 accented letters, but byte 0x{:02X} on this line \
                         is not UTF-8; fix the file (save it again as UTF-8), or set `csv.encoding` (utf-8 or windows-1252) in audience.yaml",
                        bytes[at]
                    );
                }
                notes.push(format!("{file}: read as Windows-1252 (not valid UTF-8)"));
                Ok(windows_1252(bytes))
            }
        },
        Encoding::Utf8 => match String::from_utf8(bytes) {
            Ok(text) => Ok(text),
            Err(e) => {
                let at = e.utf8_error().valid_up_to();
                let bytes = e.as_bytes();
                let line = 1 + bytes[..at].iter().filter(|&&b| b == b'\n').count();
                Err(anyhow!(
                    "{file}:{line}: the file is not valid UTF-8 (byte 0x{:02X}); if it comes from Excel or \
                     older software, set `csv.encoding: windows-1252` in audience.yaml",
                    bytes[at]
                ))
            }
        },
    }
}

/// Whether invalid UTF-8 still holds letters written as valid UTF-8
/// multi-byte sequences (`é` as C3 A9): then it is UTF-8 with a stray byte,
/// not Windows-1252, whose accented letters are single bytes (only an
/// accented capital followed by a symbol, as `Ã©`, looks like UTF-8 there,
/// and text rarely holds one). UTF-8 symbols alone (`€`) do not count.
fn holds_utf8_letters(bytes: &[u8]) -> bool {
    bytes.utf8_chunks().any(|chunk| chunk.valid().chars().any(|c| !c.is_ascii() && c.is_alphabetic()))
}

/// Header names trimmed and checked: none empty, none twice. Empty names at
/// the end (a line ending with a separator) are dropped.
fn check_headers(fields: Vec<String>, line: u64, file: &str) -> Result<Vec<String>> {
    let mut headers: Vec<String> = fields.iter().map(|f| f.trim().to_owned()).collect();
    while headers.len() > 1 && headers.last().is_some_and(String::is_empty) {
        headers.pop();
    }
    let mut problems = Vec::new();
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for (i, name) in headers.iter().enumerate() {
        if name.is_empty() {
            problems.push(format!("{file}:{line}: column {} has no name in the header; give it one in the file", i + 1));
        } else if let Some(first) = seen.get(name.as_str()) {
            problems.push(format!("{file}:{line}: the header names \"{name}\" twice (columns {} and {}); rename one in the file", first + 1, i + 1));
        } else {
            seen.insert(name, i);
        }
    }
    if !problems.is_empty() {
        bail!("{}", problems.join("\n"));
    }
    Ok(headers)
}

fn ragged_error(file: &str, ragged: &[(u64, usize)], width: usize, separator: u8, detected: bool) -> anyhow::Error {
    let (line, n) = ragged[0];
    let sep = match separator {
        b'\t' => "\\t".to_owned(),
        b => (b as char).to_string(),
    };
    let how = if detected { "detected" } else { "set" };
    let mut message = format!(
        "{file}:{line}: row has {n} fields but the header has {width} (is the separator right? it is \
         \"{sep}\" ({how}); set csv.separator in audience.yaml)"
    );
    if ragged.len() > 1 {
        let shown: Vec<String> = ragged[1..].iter().take(RAGGED_SHOWN).map(|(l, _)| l.to_string()).collect();
        let more = ragged.len() - 1 - shown.len();
        message.push_str(&format!(
            "\n{} more rows have the wrong number of fields: lines {}{}",
            ragged.len() - 1,
            shown.join(", "),
            if more > 0 { format!(" and {more} more") } else { String::new() }
        ));
    }
    anyhow!(message)
}

fn quoted_list(names: &[&str]) -> String {
    names.iter().map(|n| format!("\"{n}\"")).collect::<Vec<_>>().join(", ")
}

fn is_blank(fields: &[Cow<str>]) -> bool {
    fields.len() == 1 && fields[0].trim().is_empty()
}

/// The data rows of a file, parsed.
#[derive(Default)]
struct Body {
    columns: Vec<Cells>,
    /// 1-based line where each row starts.
    row_lines: Vec<u64>,
    /// Rows with the wrong number of fields: their line and field count.
    ragged: Vec<(u64, usize)>,
    /// Where parsing stopped, and the line there.
    end: usize,
    line: u64,
}

impl Body {
    fn append(&mut self, other: Body) {
        for (column, more) in self.columns.iter_mut().zip(other.columns) {
            column.append(more);
        }
        self.row_lines.extend(other.row_lines);
        self.ragged.extend(other.ragged);
        self.end = other.end;
        self.line = other.line;
    }
}

/// Parses the records that start in `from..stop` (the last may run past
/// `stop`), `line` being the line number at `from`.
fn parse_records(text: &str, from: usize, line: u64, stop: usize, sep: u8, width: usize) -> std::result::Result<Body, Unclosed> {
    let mut parser = Parser { text, pos: from, line, sep };
    let mut body = Body { columns: vec![Cells::default(); width], ..Body::default() };
    let mut fields = Vec::new();
    while parser.pos < stop {
        let Some(line) = parser.next_record(&mut fields)? else { break };
        if is_blank(&fields) {
            continue;
        }
        let n = fields.len();
        // Extra fields are tolerated when empty: many tools end each line with
        // a separator.
        if n < width || fields[width..].iter().any(|f| !f.trim().is_empty()) {
            body.ragged.push((line, n));
            continue;
        }
        for (column, field) in body.columns.iter_mut().zip(&fields) {
            column.push(field);
        }
        body.row_lines.push(line);
        if body.row_lines.len() == SIZING_ROWS {
            reserve(&mut body, parser.pos - from, stop.saturating_sub(from));
        }
    }
    body.end = parser.pos;
    body.line = parser.line;
    Ok(body)
}

/// Rows parsed before the buffers are sized for the rest.
const SIZING_ROWS: usize = 1000;

/// Sizes the buffers for the whole piece from its first rows (`read` bytes
/// of `total`): growing them by doubling copies each and touches twice the
/// memory.
fn reserve(body: &mut Body, read: usize, total: usize) {
    let rows = body.row_lines.len();
    let scale = |n: usize| (n as f64 * total as f64 / read.max(1) as f64 * 1.05) as usize;
    body.row_lines.reserve(scale(rows).saturating_sub(rows));
    for column in &mut body.columns {
        let bytes = column.bytes();
        column.reserve(scale(rows).saturating_sub(rows), scale(bytes).saturating_sub(bytes));
    }
}

/// Parses the rows after the header on every core: the text is cut after
/// line ends into one piece per core, each parsed on its own. A cut is only
/// trusted when the piece before it, parsed from a known record start, ends
/// exactly there; a cut inside a quoted field fails that test and the rest
/// is parsed in one piece from where the trusted part ended. The result is
/// the same as one parse from the start.
fn parse_body(text: &str, from: usize, line: u64, sep: u8, width: usize) -> std::result::Result<Body, Unclosed> {
    const MIN_PIECE: usize = 1 << 20;
    let threads = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    parse_pieces(text, from, line, sep, width, threads.min((text.len() - from) / MIN_PIECE).max(1))
}

fn parse_pieces(text: &str, from: usize, line: u64, sep: u8, width: usize, pieces: usize) -> std::result::Result<Body, Unclosed> {
    let len = text.len();
    let bytes = text.as_bytes();
    let mut cuts = vec![(from, line)];
    let mut counted = (from, line);
    for k in 1..pieces {
        let target = from + (len - from) * k / pieces;
        let Some(nl) = bytes[target..].iter().position(|&b| b == b'\n') else { break };
        let cut = target + nl + 1;
        if cut >= len || cut <= counted.0 {
            break;
        }
        counted = (cut, counted.1 + line_breaks(&bytes[counted.0..cut]));
        cuts.push(counted);
    }
    if cuts.len() == 1 {
        return parse_records(text, from, line, len, sep, width);
    }
    let stops: Vec<usize> = cuts.iter().skip(1).map(|c| c.0).chain([len]).collect();
    let results: Vec<std::result::Result<Body, Unclosed>> = std::thread::scope(|scope| {
        let handles: Vec<_> =
            cuts.iter().zip(&stops).map(|(&(start, line), &stop)| scope.spawn(move || parse_records(text, start, line, stop, sep, width))).collect();
        handles.into_iter().map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p))).collect()
    });
    let mut results = results.into_iter();
    let mut body = results.next().expect("one piece at least")?;
    for (piece, &(start, _)) in results.zip(&cuts[1..]) {
        if body.end != start {
            // The cut fell inside a record: parse the rest in one piece.
            let rest = parse_records(text, body.end, body.line, len, sep, width)?;
            body.append(rest);
            return Ok(body);
        }
        body.append(piece?);
    }
    Ok(body)
}

/// Line ends in `bytes` as the parser counts them: `\n`, `\r\n` and a lone `\r`.
fn line_breaks(bytes: &[u8]) -> u64 {
    let mut n = 0;
    for (i, &b) in bytes.iter().enumerate() {
        if b == b'\n' || (b == b'\r' && bytes.get(i + 1) != Some(&b'\n')) {
            n += 1;
        }
    }
    n
}

struct Unclosed {
    line: u64,
}

impl Unclosed {
    fn into_error(self, file: &str) -> anyhow::Error {
        anyhow!(
            "{file}:{}: a quoted field starts on this line and its quote is never closed; check the \
             quotes there (a quote inside a quoted field is written twice: \"\")",
            self.line
        )
    }
}

/// RFC 4180 with the leniency of common readers: a quote inside an unquoted
/// field is kept as is, text after a closing quote is appended, and `\n`,
/// `\r\n` and `\r` all end a line.
struct Parser<'a> {
    text: &'a str,
    pos: usize,
    line: u64,
    sep: u8,
}

impl<'a> Parser<'a> {
    fn new(text: &'a str, sep: u8) -> Self {
        Parser { text, pos: 0, line: 1, sep }
    }

    /// The next record's fields into `fields`; returns the line it starts on.
    fn next_record(&mut self, fields: &mut Vec<Cow<'a, str>>) -> std::result::Result<Option<u64>, Unclosed> {
        fields.clear();
        if self.pos >= self.text.len() {
            return Ok(None);
        }
        let line = self.line;
        loop {
            fields.push(self.field()?);
            let bytes = self.text.as_bytes();
            match bytes.get(self.pos) {
                Some(&b) if b == self.sep => self.pos += 1,
                Some(b'\r') => {
                    self.pos += if bytes.get(self.pos + 1) == Some(&b'\n') { 2 } else { 1 };
                    self.line += 1;
                    break;
                }
                Some(b'\n') => {
                    self.pos += 1;
                    self.line += 1;
                    break;
                }
                _ => break,
            }
        }
        Ok(Some(line))
    }

    /// One field, leaving `pos` on the separator or line end that follows it.
    fn field(&mut self) -> std::result::Result<Cow<'a, str>, Unclosed> {
        let bytes = self.text.as_bytes();
        let start = self.pos;
        let mut i = start;
        while bytes.get(i) == Some(&b' ') {
            i += 1;
        }
        if bytes.get(i) != Some(&b'"') {
            let end = self.plain_end(start);
            self.pos = end;
            let text: &'a str = self.text;
            return Ok(Cow::Borrowed(&text[start..end]));
        }
        let quote_line = self.line;
        let mut value = String::new();
        let mut chunk = i + 1;
        i += 1;
        loop {
            match bytes.get(i) {
                None => return Err(Unclosed { line: quote_line }),
                Some(b'"') if bytes.get(i + 1) == Some(&b'"') => {
                    value.push_str(&self.text[chunk..=i]);
                    i += 2;
                    chunk = i;
                }
                Some(b'"') => {
                    value.push_str(&self.text[chunk..i]);
                    i += 1;
                    break;
                }
                Some(b'\n') => {
                    self.line += 1;
                    i += 1;
                }
                Some(b'\r') => {
                    if bytes.get(i + 1) != Some(&b'\n') {
                        self.line += 1;
                    }
                    i += 1;
                }
                Some(_) => i += 1,
            }
        }
        let end = self.plain_end(i);
        value.push_str(&self.text[i..end]);
        self.pos = end;
        Ok(Cow::Owned(value))
    }

    fn plain_end(&self, from: usize) -> usize {
        let bytes = self.text.as_bytes();
        let mut i = from;
        while i < bytes.len() && bytes[i] != self.sep && bytes[i] != b'\n' && bytes[i] != b'\r' {
            i += 1;
        }
        i
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn write(dir: &tempfile::TempDir, name: &str, bytes: &[u8]) -> PathBuf {
        let path = dir.path().join(name);
        std::fs::File::create(&path).unwrap().write_all(bytes).unwrap();
        path
    }

    fn read(bytes: &[u8]) -> Result<RawTable> {
        let dir = tempfile::tempdir().unwrap();
        read_csv(&write(&dir, "orders.csv", bytes), &CsvDialect::default())
    }

    fn col(table: &RawTable, name: &str) -> Vec<Option<String>> {
        strings(&table.columns[table.column_index(name).unwrap()])
    }

    fn strings(cells: &Cells) -> Vec<Option<String>> {
        cells.iter().map(|c| c.map(str::to_owned)).collect()
    }

    fn s(v: &str) -> Option<String> {
        Some(v.to_owned())
    }

    /// Pieces parsed apart give what one parse gives, wherever the cuts
    /// fall: inside quoted fields over several lines, on `\r\n`, on blank
    /// lines and ragged rows.
    #[test]
    fn parsing_in_pieces_is_parsing_whole() {
        let mut text = String::from("id,note,n\n");
        for i in 0..300 {
            match i % 7 {
                0 => text.push_str(&format!("{i},\"two\nlines, \"\"quoted\"\"\",{i}\n")),
                1 => text.push_str(&format!("{i},  spaced  ,{i}\r\n")),
                2 => text.push('\n'),
                3 => text.push_str(&format!("{i},ragged\n")),
                4 => text.push_str(&format!("{i},\"\r\n\r\n\",{i}\r")),
                _ => text.push_str(&format!("{i},,{i}\n")),
            }
        }
        let from = text.find('\n').unwrap() + 1;
        let whole = parse_pieces(&text, from, 2, b',', 3, 1).ok().unwrap();
        assert_eq!(whole.row_lines.len(), 300 - 2 * 43);
        for pieces in 2..=9 {
            let cut = parse_pieces(&text, from, 2, b',', 3, pieces).ok().unwrap();
            assert_eq!(cut.columns, whole.columns, "{pieces} pieces");
            assert_eq!(cut.row_lines, whole.row_lines, "{pieces} pieces");
            assert_eq!(cut.ragged, whole.ragged, "{pieces} pieces");
        }
    }

    #[test]
    fn reads_a_plain_file() {
        let t = read(b"email,amount\na@x.fr,12\nb@x.fr,13\n").unwrap();
        assert_eq!(t.headers, ["email", "amount"]);
        assert_eq!(col(&t, "amount"), [s("12"), s("13")]);
        assert_eq!(t.row_lines, [2, 3]);
        assert!(t.notes.is_empty());
        assert_eq!(t.origin(1).unwrap().1, 3);
    }

    #[test]
    fn strips_bom_and_handles_crlf_and_semicolons() {
        let t = read(b"\xEF\xBB\xBFemail;amount\r\na@x.fr;12,50\r\n").unwrap();
        assert_eq!(t.headers, ["email", "amount"]);
        assert_eq!(col(&t, "amount"), [s("12,50")]);
    }

    #[test]
    fn trims_cells_and_blank_is_missing() {
        let t = read("a,b,c\n  x ,\u{a0}\u{202f}, \u{a0}1\u{202f}\n".as_bytes()).unwrap();
        assert_eq!(t.columns.iter().map(strings).collect::<Vec<_>>(), [vec![s("x")], vec![None], vec![s("1")]]);
    }

    #[test]
    fn header_only_gives_zero_rows() {
        let t = read(b" email , name \n").unwrap();
        assert_eq!(t.headers, ["email", "name"]);
        assert_eq!(t.columns.iter().map(strings).collect::<Vec<_>>(), [Vec::<Option<String>>::new(), Vec::new()]);
        assert_eq!(t.row_count(), 0);
    }

    #[test]
    fn empty_file_is_an_error() {
        let e = read(b"").unwrap_err().to_string();
        assert!(e.contains("orders.csv: the file is empty"), "{e}");
    }

    #[test]
    fn quoted_fields_with_separators_quotes_and_newlines() {
        let t = read(b"id,note,n\n1,\"a, \"\"b\"\"\nc\",2\n3,plain,4\n").unwrap();
        assert_eq!(col(&t, "note"), [s("a, \"b\"\nc"), s("plain")]);
        assert_eq!(t.row_lines, [2, 4]);
    }

    #[test]
    fn stray_quote_inside_a_plain_field_is_kept() {
        let t = read(b"id,size\n1,5\" screen\n").unwrap();
        assert_eq!(col(&t, "size"), [s("5\" screen")]);
    }

    #[test]
    fn blank_lines_are_skipped() {
        let t = read(b"a,b\n\n1,2\n\r\n3,4\n\n").unwrap();
        assert_eq!(col(&t, "a"), [s("1"), s("3")]);
        assert_eq!(t.row_lines, [3, 5]);
    }

    #[test]
    fn ragged_row_names_line_and_separator() {
        let e = read(b"a,b,c,d\n1,2,3,4\n1,2,3,4,5\n1,2\n").unwrap_err().to_string();
        assert!(e.contains("orders.csv:3: row has 5 fields but the header has 4"), "{e}");
        assert!(e.contains("csv.separator"), "{e}");
        assert!(e.contains("1 more rows have the wrong number of fields: lines 4"), "{e}");
    }

    #[test]
    fn trailing_separators_are_tolerated() {
        let t = read(b"a;b;\n1;2;\n3;4\n").unwrap();
        assert_eq!(t.headers, ["a", "b"]);
        assert_eq!(col(&t, "b"), [s("2"), s("4")]);
        let e = read(b"a;b;\n1;2;x\n").unwrap_err().to_string();
        assert!(e.contains("orders.csv:2: row has 3 fields but the header has 2"), "{e}");
    }

    #[test]
    fn unterminated_quote_names_the_line_where_it_starts() {
        let e = read(b"a,b\n1,2\n3,\"oops\n4,5\n").unwrap_err().to_string();
        assert!(e.contains("orders.csv:3: a quoted field starts on this line"), "{e}");
        assert!(e.contains("quote"), "{e}");
    }

    #[test]
    fn duplicate_and_empty_header_names() {
        let e = read(b"email,,email\n1,2,3\n").unwrap_err().to_string();
        assert!(e.contains("orders.csv:1: column 2 has no name"), "{e}");
        assert!(e.contains("orders.csv:1: the header names \"email\" twice (columns 1 and 3)"), "{e}");
    }

    #[test]
    fn missing_file_is_named() {
        let e = read_csv(Path::new("/nonexistent/orders.csv"), &CsvDialect::default()).unwrap_err();
        assert!(format!("{e:#}").starts_with("/nonexistent/orders.csv: cannot read the file"), "{e:#}");
    }

    #[test]
    fn windows_1252_is_detected_and_noted() {
        let t = read(b"name;city\nRen\xe9;Orl\xe9ans\n").unwrap();
        assert_eq!(col(&t, "name"), [s("René")]);
        assert_eq!(col(&t, "city"), [s("Orléans")]);
        assert_eq!(t.notes.len(), 1);
        assert!(t.notes[0].contains("read as Windows-1252 (not valid UTF-8)"));
    }

    #[test]
    fn explicit_encodings() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(&dir, "c.csv", b"name\nok\nRen\xe9\n");
        let utf8 = CsvDialect { separator: None, encoding: Encoding::Utf8 };
        let e = read_csv(&path, &utf8).unwrap_err().to_string();
        assert!(e.contains("c.csv:3: the file is not valid UTF-8"), "{e}");
        assert!(e.contains("csv.encoding: windows-1252"), "{e}");
        let cp = CsvDialect { separator: None, encoding: Encoding::Windows1252 };
        let t = read_csv(&path, &cp).unwrap();
        assert_eq!(strings(&t.columns[0]), [s("ok"), s("René")]);
        assert!(t.notes.is_empty());
        // "é" in UTF-8 read as Windows-1252 is mojibake, as asked.
        let path = write(&dir, "d.csv", "name\nRené\n".as_bytes());
        assert_eq!(strings(&read_csv(&path, &cp).unwrap().columns[0]), [s("RenÃ©")]);
    }

    #[test]
    fn one_stray_byte_in_utf8_is_an_error_naming_its_line() {
        let e = read(&[&b"name;city\n"[..], "René;Chambéry\n".as_bytes(), b"Zo\xe9;Lyon\x96\n"].concat()).unwrap_err().to_string();
        assert!(e.contains("orders.csv:3: the file mixes two encodings"), "{e}");
        assert!(e.contains("byte 0xE9"), "{e}");
        assert!(e.contains("`csv.encoding`"), "{e}");
        // Said to be Windows-1252, it is read so (the UTF-8 letters as mojibake).
        let dir = tempfile::tempdir().unwrap();
        let path = write(&dir, "m.csv", &[&b"name\n"[..], "René\n".as_bytes(), b"Zo\xe9\x96\n"].concat());
        let cp = CsvDialect { separator: None, encoding: Encoding::Windows1252 };
        assert_eq!(strings(&read_csv(&path, &cp).unwrap().columns[0]), [s("RenÃ©"), s("Zoé–")]);
        // A UTF-8 symbol alone does not make a Windows-1252 file UTF-8.
        let t = read(&[&b"price;city\n"[..], "12 €".as_bytes(), b";Orl\xe9ans\n"].concat()).unwrap();
        assert_eq!(col(&t, "city"), [s("Orléans")]);
    }

    #[test]
    fn utf16_with_its_bom_is_read_as_utf16() {
        let text = "email;city\r\na@x.fr;Chambéry\r\n";
        let le: Vec<u8> = [0xFF, 0xFE].into_iter().chain(text.encode_utf16().flat_map(u16::to_le_bytes)).collect();
        let be: Vec<u8> = [0xFE, 0xFF].into_iter().chain(text.encode_utf16().flat_map(u16::to_be_bytes)).collect();
        for bytes in [le, be] {
            let t = read(&bytes).unwrap();
            assert_eq!(t.headers, ["email", "city"]);
            assert_eq!(col(&t, "city"), [s("Chambéry")]);
            assert!(t.notes.is_empty());
        }
        let e = read(&[0xFF, 0xFE, b'a', 0x00, 0x00, 0xD8]).unwrap_err().to_string();
        assert!(e.contains("orders.csv: the file starts with a UTF-16LE byte order mark but is not valid UTF-16LE"), "{e}");
    }

    #[test]
    fn explicit_separator_wins() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(&dir, "p.txt", b"a|b,c\n1|2,3\n");
        let t = read_csv(&path, &CsvDialect { separator: Some(b'|'), encoding: Encoding::Auto }).unwrap();
        assert_eq!(t.headers, ["a", "b,c"]);
    }

    #[test]
    fn detects_separators() {
        assert_eq!(detect_separator("a,b,c\n1,2,3\n"), b',');
        assert_eq!(detect_separator("a;b\n1;2,5\n3;4,5\n"), b';');
        assert_eq!(detect_separator("a\tb\n1\t2\n"), b'\t');
        assert_eq!(detect_separator("a|b|c\n1|2|3"), b'|');
        assert_eq!(detect_separator("email\nx@y.fr\n"), b',');
        assert_eq!(detect_separator(""), b',');
        // Commas inside quotes do not count.
        assert_eq!(detect_separator("name;note\n\"Doe, J\";\"a,b,c\"\nX;\"d,\ne\"\n"), b';');
        // A header with a comma in a name, but `;` is consistent on every line.
        assert_eq!(detect_separator("id;\"a,b\"\n1;2\n3;4\n"), b';');
        // Inconsistent candidate loses to a consistent one with fewer columns.
        assert_eq!(detect_separator("a,b;c\n1,2,3;4\n5,6,7;8\n"), b';');
    }

    #[test]
    fn globbed_files_align_columns_by_name() {
        let dir = tempfile::tempdir().unwrap();
        let a = write(&dir, "a.csv", b"email,amount\nx@y.fr,1\n");
        let b = write(&dir, "b.csv", b"amount;email\n2;z@y.fr\n3;w@y.fr\n");
        let t = read_csv_files(&[a.clone(), b.clone()], &CsvDialect::default()).unwrap();
        assert_eq!(t.headers, ["email", "amount"]);
        assert_eq!(col(&t, "email"), [s("x@y.fr"), s("z@y.fr"), s("w@y.fr")]);
        assert_eq!(col(&t, "amount"), [s("1"), s("2"), s("3")]);
        assert_eq!(t.row_lines, [2, 2, 3]);
        assert_eq!(t.origin(0).unwrap(), (a.as_path(), 2));
        assert_eq!(t.origin(2).unwrap(), (b.as_path(), 3));
    }

    #[test]
    fn globbed_files_with_other_columns_are_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let a = write(&dir, "a.csv", b"email,amount\nx@y.fr,1\n");
        let b = write(&dir, "b.csv", b"email,total\nz@y.fr,2\n");
        let e = read_csv_files(&[a, b], &CsvDialect::default()).unwrap_err().to_string();
        assert!(e.contains("b.csv: its columns differ from"), "{e}");
        assert!(e.contains("lacks \"amount\" and has \"total\" in addition"), "{e}");
        assert!(read_csv_files(&[], &CsvDialect::default()).is_err());
    }
}
