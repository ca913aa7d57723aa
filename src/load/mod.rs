//! Reading exports into polars frames: contacts, tables, key lists. Keys are
//! normalised here, once, and every anomaly is counted into the data notes.

pub mod csvread;
mod guard;
pub mod infer;
pub mod input;
mod mapped;
pub mod notes;
mod parquet;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context, Result};
use polars::prelude::*;

use crate::dates::Zone;
use crate::diag::did_you_mean;
use crate::project::{CsvCfg, EmailKey, Project, Source, TableCfg};
pub use crate::types::{FieldType, KEY, ROW};
use csvread::CsvDialect;
use infer::{ColumnData, InferOptions, TypedColumn};
use input::Snapshot;
pub use notes::Notes;

pub struct TableData {
    pub cfg: TableCfg,
    /// KEY, ROW, then the table's own columns. Lazy: a Parquet export is
    /// read when the feature query runs, and only the columns it needs.
    pub lf: LazyFrame,
    pub columns: Vec<(String, FieldType)>,
    /// Rows with a key (before the table's `where`).
    pub rows: u64,
    /// Tables with the same `source` hold the same rows (one export, same
    /// types and date column): the feature query reads them in one pass.
    pub source: String,
}

impl TableData {
    pub fn column_type(&self, name: &str) -> Option<FieldType> {
        self.columns.iter().find(|(n, _)| n == name).map(|(_, t)| *t)
    }
}

pub struct Dataset {
    /// KEY, ROW, then the contact columns (the key column holds normalised keys).
    pub contacts: DataFrame,
    pub columns: Vec<(String, FieldType)>,
    pub key_column: String,
    pub email_key: bool,
    pub consent: Option<String>,
    /// The channels beside e-mail: `contacts.phone`, its region, the SMS
    /// consent and an address column apart from the key.
    pub channels: Channels,
    pub tables: Vec<TableData>,
    pub notes: Notes,
}

#[derive(Clone, Debug, Default)]
pub struct Channels {
    pub phone: Option<String>,
    pub phone_region: String,
    pub sms_consent: Option<String>,
    pub address: Option<String>,
}

impl Dataset {
    pub fn table(&self, name: &str) -> Option<&TableData> {
        self.tables.iter().find(|t| t.cfg.name == name)
    }

    pub fn column_type(&self, name: &str) -> Option<FieldType> {
        self.columns.iter().find(|(n, _)| n == name).map(|(_, t)| *t)
    }

    pub fn normalize_key(&self, k: &str) -> String {
        if self.email_key {
            crate::text::normalize_email(k)
        } else {
            k.trim().to_string()
        }
    }

    /// How many of `keys` (normalised) are no contact's key.
    pub fn unknown_keys(&self, keys: &[String]) -> usize {
        let wanted: PlHashSet<&str> = keys.iter().map(String::as_str).collect();
        let mut found: PlHashSet<&str> = PlHashSet::new();
        if let Ok(ca) = self.contacts.column(KEY).and_then(|c| c.str()) {
            for k in ca.iter().flatten() {
                if let Some(hit) = wanted.get(k) {
                    found.insert(hit);
                }
            }
        }
        wanted.len() - found.len()
    }
}

fn key_strings(df: &DataFrame) -> Vec<Option<String>> {
    df.column(KEY).ok().and_then(|c| c.str().ok().map(|ca| ca.iter().map(|v| v.map(str::to_string)).collect())).unwrap_or_default()
}

/// The files a `path` names: one file, or a glob's matches in sorted order.
pub fn expand(pattern: &str) -> Result<Vec<PathBuf>> {
    if pattern.contains(['*', '?', '[']) {
        let mut files: Vec<PathBuf> =
            glob::glob(pattern).with_context(|| format!("`{pattern}` is not a valid glob pattern"))?.filter_map(Result::ok).filter(|p| !p.is_dir()).collect();
        files.sort();
        for f in &files {
            input::regular(f)?;
        }
        if files.is_empty() {
            bail!("no file matches `{pattern}` (check `path` in audience.yaml)");
        }
        Ok(files)
    } else {
        let p = PathBuf::from(pattern);
        if p.exists() && !p.is_file() {
            input::regular(&p)?;
        }
        if !p.is_file() {
            bail!("{pattern}: file not found (check `path` in audience.yaml, relative to the project file's folder)");
        }
        Ok(vec![p])
    }
}

pub fn is_parquet(p: &Path) -> bool {
    p.extension().is_some_and(|e| e.eq_ignore_ascii_case("parquet"))
}

/// Opens a source as a typed lazy frame. CSV is parsed here, whole; Parquet
/// only has its footer read, and its data is scanned when a query runs. The
/// key column is always text. `date_role` names the column a table reads as
/// its `date`. Each file read is added to `inputs`.
pub fn read_source(
    src: &Source,
    csv: &CsvCfg,
    zone: Zone,
    notes: &mut Notes,
    label: &str,
    date_role: Option<&str>,
    inputs: &mut Vec<Snapshot>,
) -> Result<(LazyFrame, Vec<(String, FieldType)>)> {
    let files = expand(&src.path)?;
    let parquet = files.iter().filter(|f| is_parquet(f)).count();
    if parquet != 0 && parquet != files.len() {
        bail!("`{}` matches both Parquet and CSV files; a glob must join files of one kind", src.path);
    }
    for f in &files {
        let ext = f.extension().map(|e| e.to_string_lossy().to_ascii_lowercase()).unwrap_or_default();
        if !matches!(ext.as_str(), "csv" | "tsv" | "txt" | "parquet") {
            bail!("{}: unsupported file type `.{ext}` (use .csv, .tsv, .txt or .parquet)", f.display());
        }
    }
    let display = files.first().map(|f| f.display().to_string()).unwrap_or_default();
    let (lf, schema) = if parquet > 0 {
        parquet::scan(&files, &src.key, zone, notes, label, inputs)?
    } else {
        let df = read_csv(&files, src, csv, zone, notes, label, date_role, inputs)?;
        let schema = df.schema().as_ref().clone();
        (df.lazy(), schema)
    };
    if schema.get(&src.key).is_none() {
        let names: Vec<String> = schema.iter_names().map(|s| s.to_string()).collect();
        let hint = did_you_mean(&src.key, names.iter().map(String::as_str)).unwrap_or_else(|| format!("its columns are: {}", names.join(", ")));
        bail!("{display}: no key column `{}` ({hint}); set `key` in audience.yaml", src.key);
    }
    let types = schema.iter().map(|(n, dt)| (n.to_string(), FieldType::of(dt))).collect();
    Ok((lf, types))
}

#[allow(clippy::too_many_arguments)]
fn read_csv(
    files: &[PathBuf],
    src: &Source,
    csv: &CsvCfg,
    zone: Zone,
    notes: &mut Notes,
    label: &str,
    date_role: Option<&str>,
    inputs: &mut Vec<Snapshot>,
) -> Result<DataFrame> {
    let dialect = CsvDialect { separator: csv.separator, encoding: csv.encoding };
    let started = std::time::Instant::now();
    let mut raw = csvread::read_csv_files(files, &dialect)?;
    inputs.append(&mut raw.inputs);
    crate::exec::timing(&format!("load: {label}: parse"), started);
    let started = std::time::Instant::now();
    for n in &raw.notes {
        notes.add(format!("{label}: {n}"));
    }
    let jobs: Vec<(String, csvread::Cells, Option<FieldType>, bool)> = raw
        .headers
        .iter()
        .zip(std::mem::take(&mut raw.columns))
        .map(|(name, values)| {
            let declared = src.columns.iter().find(|(n, _)| n == name).map(|(_, t)| *t).or_else(|| (name == &src.key).then_some(FieldType::Text));
            let is_date = declared.is_none() && date_role == Some(name.as_str());
            (name.clone(), values, declared, is_date)
        })
        .collect();
    let decimal_comma = csv.decimal_comma;
    // Columns are typed independently: one per core at a time.
    let typed = crate::par::parallel_map(jobs, move |(name, values, declared, is_date)| {
        let to_local = |t| zone.to_local(t);
        let opts = InferOptions { decimal_comma, declared, to_local: &to_local };
        let col = infer::infer_column(&name, values, &opts);
        // A table's `date` column with a few bad values is dates still:
        // its role says what it holds, and one typo among thousands of
        // rows must not turn every date into text.
        match col.data {
            ColumnData::Text(_) if is_date => match infer::date_role(col, &opts) {
                infer::DateRole::Dates(col, ty) => Ok((col, Some(ty))),
                infer::DateRole::NotDates(bad, share) => Err((name, bad, share)),
            },
            _ => Ok((col, declared)),
        }
    });
    let mut cols = Vec::with_capacity(typed.len());
    for typed in typed {
        let (col, declared) = match typed {
            Ok(typed) => typed,
            Err((name, (row, cell), share)) => {
                let at = raw.origin(row).map(|(file, line)| format!("{}:{line}: ", file.display())).unwrap_or_default();
                bail!(
                    "{at}its `date` column `{name}` holds `{cell}`, which is not a date (dates are YYYY-MM-DD or DD/MM/YYYY, with an optional time); \
                     {:.0}% of its values are not dates; fix the file, or declare `columns: {{{name}: date}}` in audience.yaml to read every value that is not a date as missing",
                    share * 100.0
                );
            }
        };
        let name = &col.name;
        if col.failed > 0 {
            let ty = declared.map(FieldType::declared_name).unwrap_or("of its type");
            let example = col
                .failed_example
                .as_ref()
                .and_then(|(row, cell)| raw.origin(*row).map(|(file, line)| format!(", first `{cell}` on line {line} of {}", file.display())))
                .unwrap_or_default();
            notes.add(format!("{label}: {} value(s) of column `{name}` are not {ty} and were read as missing{example}", col.failed));
        }
        cols.push(to_polars(col));
    }
    for (name, _) in &src.columns {
        if !raw.headers.contains(name) {
            notes.add(format!("{label}: `columns` declares `{name}`, which the file does not have"));
        }
    }
    let df = DataFrame::new_infer_height(cols).map_err(|e| anyhow!("{}: {e}", files[0].display()));
    crate::exec::timing(&format!("load: {label}: types"), started);
    df
}

fn to_polars(col: TypedColumn) -> Column {
    let name = PlSmallStr::from(col.name.as_str());
    match col.data {
        ColumnData::Text(v) => StringChunked::from_iter_options(name, v.iter()).into_column(),
        ColumnData::Int(v) => Column::new(name, v),
        ColumnData::Float(v) => Column::new(name, v),
        ColumnData::Bool(v) => Column::new(name, v),
        ColumnData::Date(v) => Column::new(name, v).cast(&DataType::Date).expect("i32 to date"),
        ColumnData::Datetime(v) => Column::new(name, v).cast(&DataType::Datetime(TimeUnit::Milliseconds, None)).expect("i64 to datetime"),
    }
}

/// Text trimmed, an empty text missing, and for e-mail keys lower case.
/// Exports are mostly clean already: a value that needs nothing is kept as
/// it is, and a column that needs nothing is returned without a copy.
fn clean_text(e: Expr, email: bool) -> Expr {
    let clean = move |s: &str| -> bool {
        let needs_work = s.is_empty()
            || s.starts_with(char::is_whitespace)
            || s.ends_with(char::is_whitespace)
            || (email && s.bytes().any(|b| b.is_ascii_uppercase() || !b.is_ascii()));
        !needs_work
    };
    e.map(
        move |c: Column| {
            let out = {
                let ca = c.str()?;
                if ca.iter().all(|v| v.is_none_or(clean)) {
                    None
                } else {
                    let fixed = ca.iter().map(|v| {
                        v.and_then(|s| {
                            if clean(s) {
                                return Some(std::borrow::Cow::Borrowed(s));
                            }
                            let t = s.trim();
                            let t = if email { std::borrow::Cow::Owned(t.to_lowercase()) } else { std::borrow::Cow::Borrowed(t) };
                            (!t.is_empty()).then_some(t)
                        })
                    });
                    Some(StringChunked::from_iter_options(c.name().clone(), fixed).into_column())
                }
            };
            Ok(out.unwrap_or(c))
        },
        |_, f| Ok(Field::new(f.name().clone(), DataType::String)),
    )
}

/// Normalises a frame's key column in place and adds KEY and ROW. Rows with
/// an empty key are dropped and counted.
fn with_keys(df: DataFrame, key: &str, email: bool, notes: &mut Notes, label: &str) -> Result<DataFrame> {
    let mut df = crate::exec::run_in_memory(keyed(df.lazy(), key, email))?;
    let empty = df.column(KEY)?.null_count();
    if empty > 0 {
        notes.add(format!("{label}: {empty} row(s) with an empty `{key}` were skipped"));
        let mask = df.column(KEY)?.is_not_null();
        df = df.filter(&mask)?;
    }
    Ok(df)
}

/// Normalises the key column, adds KEY and ROW; rows with no key stay.
fn keyed(lf: LazyFrame, key: &str, email: bool) -> LazyFrame {
    lf.with_column(clean_text(col(key), email).alias(KEY)).with_column(col(KEY).alias(key)).with_row_index(ROW, None)
}

fn reorder_front(df: DataFrame) -> Result<DataFrame> {
    let mut names: Vec<PlSmallStr> = vec![KEY.into(), ROW.into()];
    names.extend(df.get_column_names().into_iter().filter(|n| n.as_str() != KEY && n.as_str() != ROW).cloned());
    Ok(df.select(names)?)
}

fn is_email_key(df: &DataFrame, key: &str, setting: EmailKey) -> Result<bool> {
    Ok(match setting {
        EmailKey::Yes => true,
        EmailKey::No => false,
        EmailKey::Auto => {
            let ca = df.column(key)?.str()?;
            crate::text::looks_like_email_column(ca.iter().flatten())
        }
    })
}

/// Problems with the project's data, each with the YAML path in the project
/// file of the setting to fix (`tables.orders.path`), so they are reported
/// at their line, all together.
#[derive(Debug)]
pub struct DataErrors(pub Vec<(String, String, Option<String>)>);

impl std::fmt::Display for DataErrors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let messages: Vec<&str> = self.0.iter().map(|(_, m, _)| m.as_str()).collect();
        f.write_str(&messages.join("\n"))
    }
}

impl std::error::Error for DataErrors {}

/// Every source whose file is missing: checked before reading anything, so
/// that three mistyped paths are three errors in one run, not one per run.
fn missing_files(project: &Project) -> Vec<(String, String, Option<String>)> {
    let mut out = Vec::new();
    if let Some(c) = &project.contacts {
        if let Err(e) = expand(&c.source.path) {
            out.push(("contacts.path".to_string(), format!("contacts: {e:#}"), None));
        }
    }
    for t in &project.tables {
        if let Err(e) = expand(&t.source.path) {
            out.push((format!("tables.{}.path", t.name), format!("table `{}`: {e:#}", t.name), None));
        }
    }
    out
}

/// The setting a load error is about, read from the way it is worded.
fn setting_of(message: &str) -> String {
    let role = |prefix: &str, rest: &str| {
        ["date", "amount", "key", "id", "consent"]
            .iter()
            .find(|r| rest.starts_with(&format!("its `{r}` column")) || rest.starts_with(&format!("the {r} column")))
            .map_or(format!("{prefix}.path"), |r| format!("{prefix}.{r}"))
    };
    if let Some(rest) = message.strip_prefix("table `") {
        if let Some((name, rest)) = rest.split_once("`: ") {
            return role(&format!("tables.{name}"), rest);
        }
    }
    if let Some(rest) = message.strip_prefix("contacts: ") {
        return role("contacts", rest);
    }
    String::new()
}

/// Loads the contacts and every table of the project.
pub fn load(project: &Project) -> Result<Dataset> {
    let missing = missing_files(project);
    if !missing.is_empty() {
        return Err(DataErrors(missing).into());
    }
    let mut inputs = Vec::new();
    let data = load_inputs(project, &mut inputs).map_err(|e| {
        let message = format!("{e:#}");
        anyhow::Error::from(DataErrors(vec![(setting_of(&message), message, None)]))
    })?;
    // An export rewritten after it was read (a second file of a glob written
    // while the first was parsed) would mix two states of the data.
    for snapshot in &inputs {
        snapshot.check()?;
    }
    Ok(data)
}

fn load_inputs(project: &Project, inputs: &mut Vec<Snapshot>) -> Result<Dataset> {
    let started = std::time::Instant::now();
    let mut notes = Notes::default();
    let mut raw_tables = Vec::new();
    // Two tables over the same export (all tickets, and those that count)
    // open it once: lazy frames are cheap to share.
    let mut read: HashMap<String, (LazyFrame, Vec<(String, FieldType)>)> = HashMap::new();
    for t in &project.tables {
        let label = t.name.clone();
        // The `date` role types its column: the same export read for
        // another role is typed again.
        let source_key = format!("{}|{:?}", source_key(&t.source), t.date);
        let (mut lf, mut types) = match read.get(&source_key) {
            Some(hit) => hit.clone(),
            None => {
                let loaded = read_source(&t.source, &project.csv, project.zone, &mut notes, &label, t.date.as_deref(), inputs)
                    .with_context(|| format!("table `{}`", t.name))?;
                read.insert(source_key, loaded.clone());
                loaded
            }
        };
        // An all-empty `date` or `amount` column (a header-only export, say)
        // is text by inference; its role says what it would hold.
        for (c, want) in [(&t.date, DataType::Date), (&t.amount, DataType::Float64)] {
            let Some(c) = c else { continue };
            let Some(entry) = types.iter_mut().find(|(n, _)| n == c) else { continue };
            if entry.1 == FieldType::Text && all_missing(&lf, c).map_err(|e| anyhow!("table `{}`: {}: {e}", t.name, t.source.path))? {
                lf = lf.with_column(col(c.as_str()).cast(want.clone()));
                entry.1 = FieldType::of(&want);
            }
        }
        for (what, col) in [("date", &t.date), ("amount", &t.amount), ("id", &t.id), ("consent", &t.consent)] {
            if let Some(c) = col {
                if !types.iter().any(|(n, _)| n == c) {
                    let hint = did_you_mean(c, types.iter().map(|(n, _)| n.as_str())).map(|h| format!(" ({h})")).unwrap_or_default();
                    bail!("table `{}`: its `{what}` column `{c}` is not in {}{hint}", t.name, t.source.path);
                }
            }
        }
        if let Some(d) = &t.date {
            let ty = types.iter().find(|(n, _)| n == d).map(|(_, t)| *t);
            if !matches!(ty, Some(FieldType::Date | FieldType::Datetime)) {
                bail!(
                    "table `{}`: its `date` column `{d}` holds {}, not dates; declare it under `columns:` as date or datetime",
                    t.name,
                    ty.map(FieldType::name).unwrap_or("nothing")
                );
            }
        }
        if let Some(a) = &t.amount {
            let ty = types.iter().find(|(n, _)| n == a).map(|(_, t)| *t);
            if !ty.is_some_and(FieldType::is_number) {
                bail!("table `{}`: its `amount` column `{a}` is not numeric; declare it under `columns:` as float", t.name);
            }
        }
        raw_tables.push((t.clone(), lf, types));
    }

    let mut channels = Channels::default();
    let (contacts, columns, key_column, email_key, consent) = match &project.contacts {
        Some(c) => {
            let (lf, types) = read_source(&c.source, &project.csv, project.zone, &mut notes, "contacts", None, inputs).context("contacts")?;
            let df = guarded(|| Ok(crate::exec::run_query(lf)?)).map_err(|e| anyhow!("contacts: {}: {e}", c.source.path))?;
            let email = is_email_key(&df, &c.source.key, c.email_key)?;
            let df = crate::exec::run_in_memory(keyed(df.lazy(), &c.source.key, email))?;
            let df = dedupe_contacts(df, &c.source.key, &mut notes)?;
            let named = [("consent", &c.consent), ("sms consent", &c.sms_consent), ("phone", &c.phone), ("e-mail", &c.email)];
            for (what, column) in named {
                if let Some(cc) = column {
                    if df.column(cc).is_err() {
                        let hint = did_you_mean(cc, types.iter().map(|(n, _)| n.as_str())).map(|h| format!(" ({h})")).unwrap_or_default();
                        bail!("contacts: the {what} column `{cc}` is not in {}{hint}", c.source.path);
                    }
                }
            }
            channels = Channels { phone: c.phone.clone(), phone_region: c.phone_region.clone(), sms_consent: c.sms_consent.clone(), address: c.email.clone() };
            (reorder_front(df)?, key_first(types, &c.source.key), c.source.key.clone(), email, c.consent.clone())
        }
        None => {
            let pos = raw_tables.iter().position(|(t, _, _)| t.name == "orders").ok_or_else(|| anyhow!("no contacts and no `orders` table"))?;
            let (t, lf, types) = &raw_tables[pos];
            let df = guarded(|| Ok(lf.clone().collect()?)).map_err(|e| anyhow!("table `orders`: {}: {e}", t.source.path))?;
            let email = is_email_key(&df, &t.source.key, EmailKey::Auto)?;
            let keyed = with_keys(df, &t.source.key, email, &mut Notes::default(), "orders")?;
            let contacts = contacts_from_orders(&keyed, t.date.as_deref())?;
            channels.sms_consent = t.consent.clone();
            (reorder_front(contacts)?, key_first(types.clone(), &t.source.key), t.source.key.clone(), email, t.consent.clone())
        }
    };

    crate::exec::timing("load: contacts", started);
    let known = contacts.clone().lazy().select([col(KEY), lit(true).alias(crate::types::columns::KNOWN)]);
    let mut tables = Vec::new();
    // Key counts of an export shared by two tables are the same for both.
    let mut counted: HashMap<String, KeyCounts> = HashMap::new();
    for (cfg, lf, types) in raw_tables {
        let lf = keyed(lf, &cfg.source.key, email_key);
        let source_key = source_key(&cfg.source);
        let counts = match counted.get(&source_key) {
            Some(c) => *c,
            None => {
                let c = guarded(|| key_counts(&lf, &known)).map_err(|e| anyhow!("table `{}`: {}: {e}", cfg.name, cfg.source.path))?;
                counted.insert(source_key.clone(), c);
                c
            }
        };
        if counts.empty > 0 {
            notes.add(format!("{}: {} row(s) with an empty `{}` were skipped", cfg.name, counts.empty, cfg.source.key));
        }
        if counts.orphans > 0 {
            notes.add(format!(
                "{}: {} row(s) belong to no contact (their `{}` is in no contact row); they are kept out of every aggregate",
                cfg.name, counts.orphans, cfg.source.key
            ));
        }
        let mut front: Vec<Expr> = vec![col(KEY), col(ROW)];
        front.extend(types.iter().map(|(n, _)| col(n.as_str())));
        let lf = lf.filter(col(KEY).is_not_null()).select(front);
        let source = format!("{source_key}|{types:?}|{:?}", cfg.date);
        tables.push(TableData { cfg, lf, columns: types, rows: counts.rows, source });
    }
    Ok(Dataset { contacts, columns, key_column, email_key, consent, channels, tables, notes })
}

fn source_key(src: &Source) -> String {
    format!("{}|{}|{:?}", src.path, src.key, src.columns)
}

/// Runs a query over an export; a panic in polars becomes an error.
fn guarded<T>(f: impl FnOnce() -> Result<T>) -> Result<T> {
    guard::catch(f).unwrap_or_else(|panic| Err(anyhow!("the file cannot be read ({panic}); export or copy it again")))
}

fn all_missing(lf: &LazyFrame, c: &str) -> Result<bool> {
    guarded(|| all_missing_unguarded(lf, c))
}

fn all_missing_unguarded(lf: &LazyFrame, c: &str) -> Result<bool> {
    let out = lf.clone().select([col(c).null_count().cast(DataType::UInt64).alias("n"), len().cast(DataType::UInt64).alias("len")]).collect()?;
    let get = |n: &str| out.column(n).ok().and_then(|c| c.u64().ok()?.get(0)).unwrap_or(0);
    Ok(get("n") == get("len"))
}

#[derive(Clone, Copy)]
struct KeyCounts {
    /// Rows with a key.
    rows: u64,
    /// Rows without one.
    empty: u64,
    /// Rows whose key is no contact's.
    orphans: u64,
}

/// One pass over a table's key column: how many rows have a key, how many
/// have none, how many belong to no contact.
fn key_counts(lf: &LazyFrame, known: &LazyFrame) -> Result<KeyCounts> {
    // An anti-join streams the table's keys past a hash set of the contact
    // keys and keeps only the rows of no contact and those without a key: a
    // left join here held every row of the table at once (10 GB at 100M rows).
    let unknown = lf.clone().select([col(KEY)]).join(known.clone(), [col(KEY)], [col(KEY)], JoinArgs::new(JoinType::Anti));
    let unknown =
        crate::exec::run_query(unknown.select([len().cast(DataType::UInt64).alias("unknown"), col(KEY).null_count().cast(DataType::UInt64).alias("empty")]))?;
    let all = crate::exec::run_query(lf.clone().select([len().cast(DataType::UInt64).alias("all")]))?;
    let get = |df: &DataFrame, n: &str| df.column(n).ok().and_then(|c| c.u64().ok()?.get(0)).unwrap_or(0);
    let (all, unknown, empty) = (get(&all, "all"), get(&unknown, "unknown"), get(&unknown, "empty"));
    Ok(KeyCounts { rows: all - empty, empty, orphans: unknown - empty })
}

/// The contact columns with the key first: exported lists start with the key.
fn key_first(mut types: Vec<(String, FieldType)>, key: &str) -> Vec<(String, FieldType)> {
    if let Some(pos) = types.iter().position(|(n, _)| n == key) {
        let k = types.remove(pos);
        types.insert(0, k);
    }
    types
}

/// Drops the contacts without a key and those whose key an earlier row
/// has, in one pass: at 10M contacts each copy of the frame is 2 GB.
fn dedupe_contacts(df: DataFrame, key: &str, notes: &mut Notes) -> Result<DataFrame> {
    let ca = df.column(KEY)?.str()?;
    let empty = ca.null_count();
    let mut seen: PlHashSet<&str> = PlHashSet::with_capacity(ca.len());
    let keep: BooleanChunked = ca.iter().map(|k| Some(k.is_some_and(|k| seen.insert(k)))).collect();
    drop(seen);
    let dups = keep.iter().filter(|k| *k == Some(false)).count() - empty;
    if empty > 0 {
        notes.add(format!("contacts: {empty} row(s) with an empty `{key}` were skipped"));
    }
    if dups > 0 {
        notes.add(format!("contacts: {dups} row(s) repeat an earlier `{key}`; the first row of each was kept"));
    }
    if empty + dups == 0 {
        return Ok(df);
    }
    // Column by column, each original dropped once filtered: the frame is
    // never held twice (5 GB rather than 3 at 10M contacts).
    let mut columns = Vec::new();
    for c in df.into_columns() {
        columns.push(c.filter(&keep)?);
    }
    let mut df = DataFrame::new_infer_height(columns)?;
    let rows: Vec<u32> = (0..df.height() as u32).collect();
    df.with_column(Column::new(ROW.into(), rows))?;
    Ok(df)
}

/// With no contacts file: one contact per key of `orders`, with the columns
/// of its latest row by date (ties: the later row; undated rows count as
/// oldest), in order of first appearance.
fn contacts_from_orders(orders: &DataFrame, date: Option<&str>) -> Result<DataFrame> {
    let keys = key_strings(orders);
    let dates: Vec<Option<i64>> = match date {
        Some(d) => {
            let c = orders.column(d)?;
            let phys = match c.dtype() {
                DataType::Date => c.cast(&DataType::Int32)?.cast(&DataType::Int64)?,
                DataType::Datetime(_, _) => c.cast(&DataType::Int64)?,
                _ => c.cast(&DataType::Int64)?,
            };
            // Dates become comparable with datetimes in ms.
            let scale = if matches!(c.dtype(), DataType::Date) { 86_400_000 } else { 1 };
            phys.i64()?.iter().map(|v| v.map(|x| x * scale)).collect()
        }
        None => vec![None; keys.len()],
    };
    let mut best: HashMap<&str, (usize, usize)> = HashMap::new(); // key -> (first row, best row)
    let mut order: Vec<&str> = Vec::new();
    for (i, k) in keys.iter().enumerate() {
        let Some(k) = k.as_deref() else { continue };
        match best.get_mut(k) {
            None => {
                best.insert(k, (i, i));
                order.push(k);
            }
            Some((_, b)) => {
                // Later rows win ties, and a dated row beats an undated one.
                if dates[i].is_some() && dates[*b].is_none_or(|bd| dates[i].is_some_and(|d| d >= bd)) || dates[i].is_none() && dates[*b].is_none() {
                    *b = i;
                }
            }
        }
    }
    let idx: Vec<IdxSize> = order.iter().map(|k| best[k].1 as IdxSize).collect();
    let mut df = orders.take(&IdxCa::from_vec("idx".into(), idx))?;
    let rows: Vec<u32> = (0..df.height() as u32).collect();
    df.with_column(Column::new(ROW.into(), rows))?;
    Ok(df)
}

/// Reads the keys of a list or suppress file: the column named like the
/// contacts key (case ignored), else the first; an e-mail in the first cell
/// means the file has no header. Returns the keys and the column's name
/// (the contacts' key column for a file without a header).
pub fn read_key_list(path: &Path, data: &Dataset, csv: &CsvCfg) -> Result<(Vec<String>, String)> {
    if path.exists() && !path.is_file() {
        input::regular(path)?;
    }
    if !path.is_file() {
        bail!("{}: list file not found", path.display());
    }
    let mut keys: Vec<String> = Vec::new();
    let mut inputs = Vec::new();
    let mut column = data.key_column.clone();
    if is_parquet(path) {
        // Only the keys are used: the zone of timestamps does not matter.
        let (lf, _) = parquet::scan(&[path.to_path_buf()], &data.key_column, Zone::Local, &mut Notes::default(), "list", &mut inputs)?;
        let df = guarded(|| Ok(lf.collect()?)).map_err(|e| anyhow!("{}: {e}", path.display()))?;
        let col = df
            .columns()
            .iter()
            .find(|c| c.name().eq_ignore_ascii_case(&data.key_column))
            .or_else(|| df.columns().first())
            .ok_or_else(|| anyhow!("{}: the file has no columns", path.display()))?;
        column = col.name().to_string();
        let s = col.cast(&DataType::String)?;
        keys.extend(s.str()?.iter().flatten().map(str::to_string));
    } else {
        let dialect = CsvDialect { separator: csv.separator, encoding: csv.encoding };
        let mut raw = csvread::read_csv(path, &dialect)?;
        inputs.append(&mut raw.inputs);
        let first_is_key = data.email_key && raw.headers.first().is_some_and(|h| crate::text::is_valid_email(&crate::text::normalize_email(h)));
        let pos = if first_is_key { 0 } else { raw.headers.iter().position(|h| h.eq_ignore_ascii_case(&data.key_column)).unwrap_or(0) };
        if first_is_key {
            keys.push(raw.headers[0].clone());
        } else if let Some(h) = raw.headers.get(pos) {
            column = h.clone();
        }
        if let Some(col) = raw.columns.get(pos) {
            keys.extend(col.iter().flatten().map(str::to_string));
        }
    }
    for snapshot in &inputs {
        snapshot.check()?;
    }
    Ok((keys.iter().map(|k| data.normalize_key(k)).filter(|k| !k.is_empty()).collect(), column))
}
