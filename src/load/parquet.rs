//! Reading Parquet exports: checked whole before polars sees them, then
//! scanned lazily with their types brought to what CSV gives (decimals as
//! floats, timestamps naive in the project's zone, text trimmed).
//!
//! A file is read into memory rather than mapped, up to [`IN_MEMORY_MAX`]:
//! a mapped file that shrinks while it is read kills the process with
//! SIGBUS. Larger files are mapped as before (held whole, a 100M-row export
//! would outgrow the memory the big runs have), with a SIGBUS handler
//! ([`super::mapped`]) that turns the crash into an error naming them.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{anyhow, bail, Result};
use chrono::{DateTime, Utc};
use polars::prelude::*;

use super::input::{self, Snapshot};
use super::{clean_text, guard, Notes};
use crate::dates::Zone;

/// Widest decimal polars holds (i128).
const DECIMAL_DIGITS: usize = 38;

/// Files up to this size are read whole into memory;
/// `AUDIENCE_PARQUET_IN_MEMORY_MAX` (bytes) sets another bound.
const IN_MEMORY_MAX: u64 = 256 << 20;

fn in_memory_max() -> u64 {
    crate::exec::options().parquet_in_memory_max.unwrap_or(IN_MEMORY_MAX)
}

/// A Parquet file checked and ready to scan.
enum Checked {
    Bytes(Vec<u8>),
    /// Too large to hold: scanned from its path (mapped).
    Mapped,
}

fn unreadable(f: &Path, why: impl std::fmt::Display) -> anyhow::Error {
    anyhow!("{}: not a readable Parquet file ({why}); export or copy it again", f.display())
}

/// Reads a file (whole when small) and checks its footer.
fn read_checked(f: &Path, inputs: &mut Vec<Snapshot>) -> Result<Checked> {
    let meta = input::regular(f)?;
    if meta.len() <= in_memory_max() {
        let (bytes, snapshot) = input::read(f)?;
        inputs.push(snapshot);
        check_footer(f, std::io::Cursor::new(&bytes[..]), bytes.len() as u64)?;
        return Ok(Checked::Bytes(bytes));
    }
    let snapshot = Snapshot::of(f, &meta);
    inputs.push(snapshot.clone());
    let file = std::fs::File::open(f).map_err(|e| anyhow!("{}: cannot read the file: {e}", f.display()))?;
    check_footer(f, file, meta.len())?;
    super::mapped::watch(snapshot);
    Ok(Checked::Mapped)
}

/// Checks a file's footer: every column chunk it describes lies within the
/// file's `len` bytes, and every column has a type audience reads. A
/// truncated file is caught here, before polars reads past its end.
fn check_footer<R: polars::io::mmap::MmapBytesReader>(f: &Path, reader: R, len: u64) -> Result<()> {
    let checked = guard::catch(|| -> Result<()> {
        let mut reader = ParquetReader::new(reader);
        let md = reader.get_metadata().map_err(|e| unreadable(f, e))?.clone();
        for rg in &md.row_groups {
            for range in rg.byte_ranges_iter() {
                if range.end > len {
                    bail!(
                        "{}: the Parquet file is cut short: it has {len} bytes but its data runs to byte {}; it was probably copied or written \
                         only in part: export or copy it again",
                        f.display(),
                        range.end
                    );
                }
            }
        }
        let schema = polars::io::parquet::read::infer_schema(&md).map_err(|e| unreadable(f, e))?;
        for (name, field) in schema.iter() {
            if let ArrowDataType::Decimal(p, s) | ArrowDataType::Decimal256(p, s) = field.dtype() {
                if *p > DECIMAL_DIGITS {
                    bail!(
                        "{}: column `{name}` is a decimal of {p} digits, more than the {DECIMAL_DIGITS} audience reads; \
                         export it as decimal({DECIMAL_DIGITS}, {s}) or as a float",
                        f.display()
                    );
                }
            }
        }
        Ok(())
    });
    checked.unwrap_or_else(|panic| Err(unreadable(f, panic)))
}

/// One file as a lazy scan over its bytes, with its schema.
fn scan_one(f: &Path, inputs: &mut Vec<Snapshot>) -> Result<(LazyFrame, Schema)> {
    let checked = read_checked(f, inputs)?;
    let scanned = guard::catch(|| -> PolarsResult<(LazyFrame, Schema)> {
        let sources = match checked {
            Checked::Bytes(bytes) => ScanSources::Buffers(Arc::from(vec![bytes.into()])),
            Checked::Mapped => ScanSources::Paths(vec![PlRefPath::try_from_path(f)?].into()),
        };
        let hive_options = HiveOptions { enabled: Some(false), ..Default::default() };
        let args = ScanArgsParquet { glob: false, hive_options, ..Default::default() };
        let mut lf = LazyFrame::scan_parquet_sources(sources, args)?;
        let schema = lf.collect_schema()?.as_ref().clone();
        Ok((lf, schema))
    });
    match scanned {
        Ok(Ok(out)) => Ok(out),
        Ok(Err(e)) => Err(unreadable(f, e)),
        Err(panic) => Err(unreadable(f, panic)),
    }
}

/// A lazy scan of Parquet files, cleaned as CSV is: text trimmed, blanks
/// missing, decimals as floats, datetimes in ms and naive in the project's
/// zone, unsigned ints as ints (as text when they do not fit), other types
/// as text, the key as text. Only the footers are decoded now.
pub fn scan(files: &[PathBuf], key: &str, zone: Zone, notes: &mut Notes, label: &str, inputs: &mut Vec<Snapshot>) -> Result<(LazyFrame, Schema)> {
    let mut scans = Vec::new();
    let mut first: Option<Vec<PlSmallStr>> = None;
    for f in files {
        let (mut lf, schema) = scan_one(f, inputs)?;
        let names: Vec<PlSmallStr> = schema.iter_names().cloned().collect();
        match &first {
            None => first = Some(names),
            Some(want) => {
                let (mut a, mut b) = (names.clone(), want.clone());
                a.sort();
                b.sort();
                if a != b {
                    bail!("{}: its columns differ from the first file of the glob; a glob joins files with the same columns", f.display());
                }
                lf = lf.select(want.iter().map(|n| col(n.clone())).collect::<Vec<_>>());
            }
        }
        scans.push((lf, schema));
    }
    let schema = scans[0].1.clone();
    let lf =
        if scans.len() == 1 { scans.pop().expect("one").0 } else { concat(scans.into_iter().map(|(lf, _)| lf).collect::<Vec<_>>(), UnionArgs::default())? };
    let too_big = unsigned_too_big(&lf, &schema, key, files)?;
    let mut exprs = Vec::new();
    let mut out = Schema::default();
    let naive_ms = DataType::Datetime(TimeUnit::Milliseconds, None);
    for (name, dt) in schema.iter() {
        let c = col(name.clone());
        let (e, t) = match dt {
            DataType::String => (clean_text(c, false), DataType::String),
            _ if name.as_str() == key => (clean_text(c.cast(DataType::String), false), DataType::String),
            DataType::Datetime(unit, Some(_)) => (to_local(c, *unit, zone), naive_ms.clone()),
            DataType::Datetime(_, None) => (c.cast(naive_ms.clone()), naive_ms.clone()),
            DataType::Decimal(_, _) => (c.cast(DataType::Float64), DataType::Float64),
            DataType::UInt64 if too_big.contains(name) => {
                notes.add(format!("{label}: column `{name}` holds unsigned numbers too large for an int (above {}); it is read as text", i64::MAX));
                (c.cast(DataType::String), DataType::String)
            }
            DataType::UInt64 => (c.cast(DataType::Int64), DataType::Int64),
            dt if dt.is_primitive_numeric() || matches!(dt, DataType::Boolean | DataType::Date) => (c, dt.clone()),
            _ => (clean_text(c.cast(DataType::String), false), DataType::String),
        };
        exprs.push(e.alias(name.clone()));
        out.insert(name.clone(), t);
    }
    Ok((lf.select(exprs), out))
}

/// The unsigned 64-bit columns (other than the key) holding a value above
/// i64's range: one pass over those columns only.
fn unsigned_too_big(lf: &LazyFrame, schema: &Schema, key: &str, files: &[PathBuf]) -> Result<Vec<PlSmallStr>> {
    let wide: Vec<PlSmallStr> = schema.iter().filter(|(n, dt)| **dt == DataType::UInt64 && n.as_str() != key).map(|(n, _)| n.clone()).collect();
    if wide.is_empty() {
        return Ok(Vec::new());
    }
    let query = lf.clone().select(wide.iter().map(|n| col(n.clone()).max().gt(lit(i64::MAX as u64)).alias(n.clone())).collect::<Vec<_>>());
    let df = match guard::catch(|| query.collect()) {
        Ok(Ok(df)) => df,
        Ok(Err(e)) => return Err(unreadable(&files[0], e)),
        Err(panic) => return Err(unreadable(&files[0], panic)),
    };
    Ok(wide.into_iter().filter(|n| df.column(n).ok().and_then(|c| c.bool().ok()?.get(0)).unwrap_or(false)).collect())
}

/// A timestamp with a time zone as the naive local time of the project's
/// zone, in ms: what CSV gives for a timestamp with an offset.
fn to_local(e: Expr, unit: TimeUnit, zone: Zone) -> Expr {
    e.cast(DataType::Int64).map(
        move |c: Column| {
            let ca = c.i64()?;
            let local = ca.iter().map(|v| {
                let v = v?;
                let utc = match unit {
                    TimeUnit::Nanoseconds => DateTime::<Utc>::from_timestamp_nanos(v),
                    TimeUnit::Microseconds => DateTime::<Utc>::from_timestamp_micros(v)?,
                    TimeUnit::Milliseconds => DateTime::<Utc>::from_timestamp_millis(v)?,
                };
                Some(zone.to_local(utc.fixed_offset()).and_utc().timestamp_millis())
            });
            let out: Int64Chunked = local.collect();
            out.with_name(c.name().clone()).into_column().cast(&DataType::Datetime(TimeUnit::Milliseconds, None))
        },
        |_, f| Ok(Field::new(f.name().clone(), DataType::Datetime(TimeUnit::Milliseconds, None))),
    )
}
