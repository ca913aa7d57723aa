//! Column-major typed tables and the writers that turn them into files.
//!
//! Generators fill typed vectors; how a value looks in a file (separator,
//! decimal comma, date layout) is decided here, once per file.

use std::fmt::Write as _;
use std::fs::File;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use chrono::{Datelike, NaiveDate, NaiveDateTime, Timelike};

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Csv,
    Parquet,
}

/// How a date is written in CSV.
#[derive(Clone, Copy)]
pub enum DateFmt {
    /// `YYYY-MM-DD`
    Iso,
    /// `DD/MM/YYYY`
    French,
}

/// How a timestamp is written in CSV.
#[derive(Clone, Copy)]
pub enum TimeFmt {
    /// `YYYY-MM-DD HH:MM`
    Minutes,
    /// `YYYY-MM-DD HH:MM:SS`
    Seconds,
}

/// A date as some CRMs export it: present, missing, or the zero date.
#[derive(Clone, Copy)]
pub enum DateCell {
    Missing,
    /// Written `0000-00-00` / `00/00/0000` in CSV; a null in Parquet.
    Zero,
    Date(NaiveDate),
}

pub enum Column {
    /// Free text; `None` is an empty cell.
    Text(Vec<Option<String>>),
    /// A value from a small fixed list; codes index `dict`, `None` is an empty cell.
    Cat {
        dict: Vec<&'static str>,
        codes: Vec<Option<u32>>,
    },
    /// Text where rows share values (one address on every ticket of an
    /// order): row i holds `pool[idx[i]]`.
    Shared {
        pool: Vec<String>,
        idx: Vec<u32>,
    },
    Int(Vec<i64>),
    /// Money in cents.
    Money(Vec<i64>),
    Date {
        fmt: DateFmt,
        cells: Vec<DateCell>,
    },
    DateTime {
        fmt: TimeFmt,
        values: Vec<NaiveDateTime>,
    },
    /// Written `1` / `0` in CSV.
    Flag(Vec<bool>),
}

impl Column {
    pub fn cat(dict: &[&'static str], codes: Vec<Option<u32>>) -> Column {
        Column::Cat { dict: dict.to_vec(), codes }
    }

    pub fn len(&self) -> usize {
        match self {
            Column::Text(v) => v.len(),
            Column::Cat { codes, .. } => codes.len(),
            Column::Shared { idx, .. } => idx.len(),
            Column::Int(v) | Column::Money(v) => v.len(),
            Column::Date { cells, .. } => cells.len(),
            Column::DateTime { values, .. } => values.len(),
            Column::Flag(v) => v.len(),
        }
    }

    /// Moves `other`'s values to the end of this column (same kind and dictionary).
    fn append(&mut self, other: Column) -> Result<()> {
        match (self, other) {
            (Column::Text(a), Column::Text(b)) => a.extend(b),
            (Column::Cat { dict: da, codes: a }, Column::Cat { dict: db, codes: b }) if *da == db => a.extend(b),
            (Column::Shared { pool: pa, idx: a }, Column::Shared { pool: pb, idx: b }) => {
                let offset = u32::try_from(pa.len()).context("more than 4 billion distinct values")?;
                pa.extend(pb);
                a.extend(b.into_iter().map(|i| i + offset));
            }
            (Column::Int(a), Column::Int(b)) | (Column::Money(a), Column::Money(b)) => a.extend(b),
            (Column::Date { cells: a, .. }, Column::Date { cells: b, .. }) => a.extend(b),
            (Column::DateTime { values: a, .. }, Column::DateTime { values: b, .. }) => a.extend(b),
            (Column::Flag(a), Column::Flag(b)) => a.extend(b),
            _ => bail!("internal: appending a column of another kind"),
        }
        Ok(())
    }

    fn write_cell(&self, row: usize, csv: &CsvDialect, out: &mut String) {
        match self {
            Column::Text(v) => out.push_str(v[row].as_deref().unwrap_or("")),
            Column::Cat { dict, codes } => {
                if let Some(code) = codes[row] {
                    out.push_str(dict[code as usize]);
                }
            }
            Column::Shared { pool, idx } => out.push_str(&pool[idx[row] as usize]),
            Column::Int(v) => {
                if v[row] < 0 {
                    out.push('-');
                }
                push_digits(out, v[row].unsigned_abs(), 1);
            }
            Column::Money(v) => write_money(v[row], csv.decimal_comma, out),
            Column::Date { fmt, cells } => match cells[row] {
                DateCell::Missing => {}
                DateCell::Zero => out.push_str(match fmt {
                    DateFmt::Iso => "0000-00-00",
                    DateFmt::French => "00/00/0000",
                }),
                DateCell::Date(d) => write_date(d, *fmt, out),
            },
            Column::DateTime { fmt, values } => {
                let t = values[row];
                write_date(t.date(), DateFmt::Iso, out);
                out.push(' ');
                push_digits(out, t.hour().into(), 2);
                out.push(':');
                push_digits(out, t.minute().into(), 2);
                if let TimeFmt::Seconds = fmt {
                    out.push(':');
                    push_digits(out, t.second().into(), 2);
                }
            }
            Column::Flag(v) => out.push(if v[row] { '1' } else { '0' }),
        }
    }
}

fn write_date(d: NaiveDate, fmt: DateFmt, out: &mut String) {
    let (y, m, day) = (d.year().unsigned_abs().into(), d.month().into(), d.day().into());
    match fmt {
        DateFmt::Iso => {
            push_digits(out, y, 4);
            out.push('-');
            push_digits(out, m, 2);
            out.push('-');
            push_digits(out, day, 2);
        }
        DateFmt::French => {
            push_digits(out, day, 2);
            out.push('/');
            push_digits(out, m, 2);
            out.push('/');
            push_digits(out, y, 4);
        }
    }
}

/// Writes `v` in decimal, zero-padded to `width` digits. (`write!` is the
/// slowest part of writing tens of millions of cells.)
fn push_digits(out: &mut String, mut v: u64, width: usize) {
    let mut buf = [b'0'; 20];
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    let start = i.min(buf.len() - width);
    out.push_str(std::str::from_utf8(&buf[start..]).expect("ASCII digits"));
}

/// `123450` cents → `1 234,50` (decimal comma, space between thousands) or `1234.50`.
fn write_money(cents: i64, decimal_comma: bool, out: &mut String) {
    if cents < 0 {
        out.push('-');
    }
    let (units, frac) = (cents.abs() / 100, cents.abs() % 100);
    if decimal_comma {
        let digits = units.to_string();
        for (i, ch) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i) % 3 == 0 {
                out.push(' ');
            }
            out.push(ch);
        }
        write!(out, ",{frac:02}").expect("write to String");
    } else {
        write!(out, "{units}.{frac:02}").expect("write to String");
    }
}

/// How one file is written as CSV, as the software that exports it would.
#[derive(Clone, Copy)]
pub struct CsvDialect {
    pub separator: u8,
    pub decimal_comma: bool,
    /// Start the file with a UTF-8 byte order mark, as Windows tools do.
    pub bom: bool,
}

pub const PLAIN_CSV: CsvDialect = CsvDialect { separator: b',', decimal_comma: false, bom: false };

pub struct Table {
    /// File name without extension.
    pub name: &'static str,
    pub headers: Vec<&'static str>,
    pub columns: Vec<Column>,
    pub csv: CsvDialect,
}

impl Table {
    pub fn rows(&self) -> usize {
        self.columns.first().map_or(0, Column::len)
    }

    fn append(&mut self, other: Table) -> Result<()> {
        for (a, b) in self.columns.iter_mut().zip(other.columns) {
            a.append(b)?;
        }
        Ok(())
    }
}

/// A table as a polars frame for Parquet, every column typed natively: `Text` and `Cat`
/// as strings (a `None` is null), `Int` as i64, `Money` as f64 euros, `Date`
/// as a date (`Missing` and `Zero` are null), `DateTime` as a datetime
/// without time zone, `Flag` as a boolean.
fn to_frame(table: &Table) -> Result<polars::prelude::DataFrame> {
    use polars::prelude::{Column as PlColumn, DataFrame, DataType, TimeUnit};
    let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).expect("valid date");
    let mut cols = Vec::with_capacity(table.columns.len());
    for (name, c) in table.headers.iter().zip(&table.columns) {
        let name = (*name).into();
        let col = match c {
            Column::Text(v) => PlColumn::new(name, v),
            Column::Cat { dict, codes } => PlColumn::new(name, codes.iter().map(|c| c.map(|i| dict[i as usize])).collect::<Vec<_>>()),
            Column::Shared { pool, idx } => PlColumn::new(name, idx.iter().map(|i| pool[*i as usize].as_str()).collect::<Vec<_>>()),
            Column::Int(v) => PlColumn::new(name, v),
            Column::Money(v) => PlColumn::new(name, v.iter().map(|c| *c as f64 / 100.0).collect::<Vec<f64>>()),
            Column::Date { cells, .. } => {
                let days: Vec<Option<i32>> = cells
                    .iter()
                    .map(|d| match d {
                        DateCell::Date(d) => Some((*d - epoch).num_days() as i32),
                        DateCell::Missing | DateCell::Zero => None,
                    })
                    .collect();
                PlColumn::new(name, days).cast(&DataType::Date)?
            }
            Column::DateTime { values, .. } => {
                let ms: Vec<i64> = values.iter().map(|t| t.and_utc().timestamp_millis()).collect();
                PlColumn::new(name, ms).cast(&DataType::Datetime(TimeUnit::Milliseconds, None))?
            }
            Column::Flag(v) => PlColumn::new(name, v),
        };
        cols.push(col);
    }
    Ok(DataFrame::new_infer_height(cols)?)
}

/// Rows gathered before they are written as one Parquet row group: memory
/// stays flat however many contacts are asked for.
const ROW_GROUP: usize = 1_000_000;

struct ParquetSink {
    pending: Option<Table>,
    writer: Option<polars::io::parquet::write::BatchedWriter<File>>,
}

impl ParquetSink {
    fn flush(&mut self, path: &Path) -> Result<()> {
        let Some(t) = self.pending.take() else { return Ok(()) };
        let df = to_frame(&t)?;
        if self.writer.is_none() {
            let file = File::create(path).with_context(|| format!("{}: cannot create", path.display()))?;
            self.writer = Some(polars::prelude::ParquetWriter::new(file).batched(df.schema())?);
        }
        self.writer.as_mut().expect("created above").write_batch(&df)?;
        Ok(())
    }
}

enum SinkKind {
    Csv(Box<csv::Writer<File>>),
    // Boxed: the writer state is large, the CSV variant a pointer.
    Parquet(Box<ParquetSink>),
}

/// One output file, filled chunk by chunk.
pub struct Sink {
    pub name: &'static str,
    pub path: PathBuf,
    pub rows: usize,
    kind: SinkKind,
    cell: String,
}

impl Sink {
    pub fn create(dir: &Path, first: &Table, format: Format) -> Result<Sink> {
        let ext = match format {
            Format::Csv => "csv",
            Format::Parquet => "parquet",
        };
        let path = dir.join(format!("{}.{ext}", first.name));
        let kind = match format {
            Format::Csv => {
                let mut file = File::create(&path).with_context(|| format!("cannot create {}", path.display()))?;
                if first.csv.bom {
                    file.write_all("\u{feff}".as_bytes())?;
                }
                let mut w =
                    csv::WriterBuilder::new().delimiter(first.csv.separator).terminator(csv::Terminator::Any(b'\n')).buffer_capacity(1 << 20).from_writer(file);
                w.write_record(&first.headers)?;
                SinkKind::Csv(Box::new(w))
            }
            Format::Parquet => SinkKind::Parquet(Box::new(ParquetSink { pending: None, writer: None })),
        };
        Ok(Sink { name: first.name, path, rows: 0, kind, cell: String::new() })
    }

    pub fn write(&mut self, table: Table) -> Result<()> {
        self.rows += table.rows();
        match &mut self.kind {
            SinkKind::Csv(w) => {
                for row in 0..table.rows() {
                    for col in &table.columns {
                        self.cell.clear();
                        col.write_cell(row, &table.csv, &mut self.cell);
                        w.write_field(self.cell.as_bytes())?;
                    }
                    w.write_record(std::iter::empty::<&[u8]>())?;
                }
            }
            SinkKind::Parquet(sink) => {
                match &mut sink.pending {
                    Some(t) => t.append(table)?,
                    None => sink.pending = Some(table),
                }
                if sink.pending.as_ref().is_some_and(|t| t.rows() >= ROW_GROUP) {
                    sink.flush(&self.path)?;
                }
            }
        }
        Ok(())
    }

    pub fn finish(self) -> Result<()> {
        match self.kind {
            SinkKind::Csv(mut w) => w.flush().with_context(|| format!("cannot write {}", self.path.display())),
            SinkKind::Parquet(mut sink) => {
                sink.flush(&self.path)?;
                match sink.writer {
                    Some(w) => w.finish().map(|_| ()).with_context(|| format!("cannot write {}", self.path.display())),
                    None => Ok(()),
                }
            }
        }
    }
}
