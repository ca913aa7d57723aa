//! `audience init [DIR]`: a first `audience.yaml` and three starter
//! segments for the exports found in DIR, every guess written down as a
//! comment and printed with its reason. Nothing is ever overwritten.
//!
//! The guesses, in order:
//! - files named like suppression lists (bounces, unsubscribes) are
//!   `suppress` entries;
//! - the contacts are the export with an e-mail column holding the most
//!   distinct addresses; that column is the key;
//! - every other export with a column whose values are mostly contact keys
//!   is a table, keyed by that column, with its date, amount and id columns
//!   picked by type and by name (English and French names);
//! - the table with both a date and an amount and the most rows is named
//!   `orders`, so that the built-in metrics and RFM read it.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Result};
use polars::prelude::*;

use crate::cli::Common;
use crate::load::Notes;
use crate::project::{CsvCfg, Source};
use crate::text::fold;
use crate::types::{Encoding, FieldType};

pub fn run(common: &Common, dir: &Path) -> Result<ExitCode> {
    if common.project.is_some() {
        return Err(crate::diag::UsageError("`init` writes into the folder it is given (`audience init DIR`), not into --project".into()).into());
    }
    if !dir.is_dir() {
        return Err(crate::diag::UsageError(format!("{}: no such folder", dir.display())).into());
    }
    let target = dir.join(crate::project::FILE_NAME);
    if target.exists() {
        bail!("{}: already exists; `init` never overwrites a file (edit it, or move it away and run `init` again)", target.display());
    }
    let files = find_exports(dir)?;
    if files.is_empty() {
        bail!("{}: no export found (init looks for .csv, .tsv, .txt and .parquet files in the folder and its subfolders)", dir.display());
    }
    let mut exports = Vec::new();
    let mut unreadable = Vec::new();
    for f in &files {
        match Export::read(dir, f) {
            Ok(e) => exports.push(e),
            Err(e) => unreadable.push(format!("{}: {e:#}", f.display())),
        }
    }
    let guess = Guess::make(exports)?;
    let yaml = guess.yaml();
    // Check the guesses the way `run` will read them before writing anything.
    if let Err(doc) = crate::project::from_text(&target, yaml.clone()) {
        let errors: Vec<String> = doc.diags.iter().map(|d| d.message.clone()).collect();
        bail!("init made a project file it cannot read ({}); please report this with the exports' headers", errors.join("; "));
    }

    std::fs::create_dir_all(dir.join("segments"))?;
    let mut written = Vec::new();
    let mut kept = Vec::new();
    for (alias, text) in guess.segments() {
        let path = dir.join("segments").join(format!("{alias}.yaml"));
        if path.exists() {
            kept.push(alias);
            continue;
        }
        crate::output::write_new_atomic(&path, text.as_bytes())?;
        written.push(alias);
    }
    crate::output::write_new_atomic(&target, yaml.as_bytes())?;

    println!("read {} export(s) in {}:", guess.read, dir.display());
    for line in &guess.report {
        println!("  {line}");
    }
    for u in &unreadable {
        println!("  skipped {u}");
    }
    println!("wrote {} and {} starter segment(s) in segments/: {}", target.display(), written.len(), written.join(", "));
    if !kept.is_empty() {
        println!("kept the existing segments/{}.yaml (init never overwrites)", kept.join(".yaml, segments/"));
    }
    println!("next: check the guesses in audience.yaml, then `audience check` and `audience run`");
    Ok(ExitCode::SUCCESS)
}

/// Export files under `dir`, sorted, leaving out hidden folders and the
/// folders the tool writes to.
fn find_exports(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    let mut stack = vec![(dir.to_path_buf(), 0)];
    while let Some((d, depth)) = stack.pop() {
        for entry in std::fs::read_dir(&d)? {
            let p = entry?.path();
            let name = p.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default();
            if name.starts_with('.') {
                continue;
            }
            if p.is_dir() {
                if depth < 3 && !matches!(name.as_str(), "out" | "segments" | "target" | "node_modules") {
                    stack.push((p, depth + 1));
                }
            } else if matches!(p.extension().map(|e| e.to_string_lossy().to_ascii_lowercase()).as_deref(), Some("csv" | "tsv" | "txt" | "parquet")) {
                out.push(p);
            }
        }
    }
    out.sort();
    Ok(out)
}

/// One export, read as `run` reads it.
struct Export {
    path: PathBuf,
    /// Relative to DIR, with `/`.
    rel: String,
    stem: String,
    df: DataFrame,
    types: Vec<(String, FieldType)>,
    /// The separator seen in a CSV's first line.
    separator: Option<u8>,
    /// The column of e-mail addresses, if one.
    email: Option<String>,
}

impl Export {
    fn read(dir: &Path, path: &Path) -> Result<Export> {
        let rel = path.strip_prefix(dir).unwrap_or(path).to_string_lossy().replace('\\', "/");
        let stem = path.file_stem().map(|s| s.to_string_lossy().to_string()).unwrap_or_default();
        let first_column = first_column(path)?;
        let src = Source { path: path.to_string_lossy().to_string(), key: first_column, columns: vec![] };
        let csv = CsvCfg { separator: None, decimal_comma: None, encoding: Encoding::Auto };
        let mut notes = Notes::default();
        let (lf, types) = crate::load::read_source(&src, &csv, crate::dates::Zone::Local, &mut notes, &stem, None, &mut Vec::new())?;
        let df = crate::exec::run_in_memory(lf)?;
        let separator = if crate::load::is_parquet(path) { None } else { Some(sniff_separator(path)?) };
        let mut e = Export { path: path.to_path_buf(), rel, stem, df, types, separator, email: None };
        e.email = e.email_column();
        Ok(e)
    }

    fn text(&self, column: &str) -> Vec<String> {
        let Ok(c) = self.df.column(column) else { return vec![] };
        crate::output::text_cells(c).unwrap_or_default().into_iter().flatten().filter(|s| !s.is_empty()).collect()
    }

    fn ty(&self, column: &str) -> Option<FieldType> {
        self.types.iter().find(|(n, _)| n == column).map(|(_, t)| *t)
    }

    /// The text column that holds e-mail addresses, preferring one named so.
    fn email_column(&self) -> Option<String> {
        let mut found: Vec<&String> = Vec::new();
        for (name, ty) in &self.types {
            if *ty == FieldType::Text && crate::text::looks_like_email_column(self.text(name).iter().map(String::as_str)) {
                found.push(name);
            }
        }
        found.iter().find(|n| named(n, &["email", "e-mail", "mail", "courriel"])).or(found.first()).map(|s| s.to_string())
    }

    fn distinct_keys(&self, column: &str) -> HashSet<String> {
        self.text(column).iter().map(|s| crate::text::normalize_email(s)).collect()
    }

    /// Named like a suppression list: bounces, unsubscribes, opt-outs.
    fn suppression(&self) -> Option<Option<&'static str>> {
        let s = fold(&self.stem);
        if ["unsub", "desinscri", "desabonn", "optout", "opt-out", "opt_out"].iter().any(|w| s.contains(w)) {
            return Some(Some("marketing"));
        }
        if ["bounce", "blacklist", "blocklist", "suppress", "invalid", "npai"].iter().any(|w| s.contains(w)) {
            return Some(None);
        }
        None
    }
}

/// Whether a header, folded, contains one of these words.
fn named(header: &str, words: &[&str]) -> bool {
    let h = fold(header);
    words.iter().any(|w| h.contains(w))
}

fn first_column(path: &Path) -> Result<String> {
    if crate::load::is_parquet(path) {
        let file = std::fs::File::open(path)?;
        let schema = ParquetReader::new(file).schema()?;
        return schema.iter_names().next().map(|n| n.to_string()).ok_or_else(|| anyhow::anyhow!("no columns"));
    }
    let bytes = read_head(path)?;
    let sep = crate::load::csvread::detect_separator(&bytes);
    let line = bytes.lines().next().unwrap_or_default().trim_start_matches('\u{feff}');
    let first = line.split(sep as char).next().unwrap_or_default().trim().trim_matches('"').to_string();
    if first.is_empty() {
        bail!("its first line holds no column names");
    }
    Ok(first)
}

fn sniff_separator(path: &Path) -> Result<u8> {
    Ok(crate::load::csvread::detect_separator(&read_head(path)?))
}

/// The first 64 KiB of a file as text (Windows-1252 when not UTF-8).
fn read_head(path: &Path) -> Result<String> {
    use std::io::Read;
    let mut buf = vec![0; 64 * 1024];
    let mut f = std::fs::File::open(path)?;
    let n = f.read(&mut buf)?;
    buf.truncate(n);
    Ok(match String::from_utf8(buf) {
        Ok(s) => s,
        Err(e) => {
            let bytes = e.into_bytes();
            match std::str::from_utf8(&bytes) {
                // A character cut at the end of the block.
                Err(u) if u.error_len().is_none() => String::from_utf8_lossy(&bytes[..u.valid_up_to()]).into_owned(),
                _ => encoding_rs::WINDOWS_1252.decode(&bytes).0.into_owned(),
            }
        }
    })
}

struct TableGuess {
    name: String,
    export: usize,
    key: String,
    /// Share of the key column's values that are contacts.
    matched: f64,
    date: Option<String>,
    amount: Option<String>,
    id: Option<String>,
    /// A status column with refund-like values: (column, values).
    refunds: Option<(String, Vec<String>)>,
}

struct Guess {
    exports: Vec<Export>,
    read: usize,
    contacts: usize,
    key: String,
    distinct: usize,
    consent: Option<String>,
    sms_consent: Option<String>,
    phone: Option<String>,
    tables: Vec<TableGuess>,
    suppress: Vec<(usize, Option<&'static str>)>,
    /// The newest date of `orders`, for the commented `as_of`.
    newest: Option<String>,
    /// What init guessed and why, as printed.
    report: Vec<String>,
    /// A contacts column with a few values, and its most frequent one.
    common_value: Option<(String, String)>,
}

impl Guess {
    fn make(exports: Vec<Export>) -> Result<Guess> {
        let read = exports.len();
        let suppress: Vec<(usize, Option<&'static str>)> =
            exports.iter().enumerate().filter(|(_, e)| e.email.is_some()).filter_map(|(i, e)| e.suppression().map(|p| (i, p))).collect();
        // The contacts: the most distinct addresses, ties to the export
        // whose rows are most nearly one per address.
        let mut best: Option<(usize, usize, usize)> = None; // (export, distinct, rows)
        for (i, e) in exports.iter().enumerate() {
            let Some(col) = &e.email else { continue };
            if suppress.iter().any(|(s, _)| *s == i) {
                continue;
            }
            let d = e.distinct_keys(col).len();
            let rows = e.df.height();
            if best.is_none_or(|(_, bd, br)| d > bd || (d == bd && rows < br)) {
                best = Some((i, d, rows));
            }
        }
        let Some((ci, distinct, _)) = best else {
            let names: Vec<&str> = exports.iter().map(|e| e.rel.as_str()).collect();
            bail!(
                "none of the {} export(s) has a column of e-mail addresses ({}); init needs one to pick the contacts. Write audience.yaml by hand (docs/project.md describes every key)",
                exports.len(),
                names.join(", ")
            );
        };
        let key = exports[ci].email.clone().expect("an e-mail column");
        let keys = exports[ci].distinct_keys(&key);
        let mut g = Guess {
            read,
            contacts: ci,
            key,
            distinct,
            consent: None,
            sms_consent: None,
            phone: None,
            tables: Vec::new(),
            suppress,
            newest: None,
            report: Vec::new(),
            common_value: None,
            exports: Vec::new(),
        };
        g.contact_columns(&exports[ci]);
        for (i, e) in exports.iter().enumerate() {
            if i == ci || g.suppress.iter().any(|(s, _)| *s == i) {
                continue;
            }
            if let Some(t) = table(i, e, &keys) {
                g.tables.push(t);
            }
        }
        // The busiest table with dates and amounts is `orders`.
        let orders = g
            .tables
            .iter()
            .enumerate()
            .filter(|(_, t)| t.date.is_some() && t.amount.is_some())
            .max_by_key(|(_, t)| exports[t.export].df.height())
            .map(|(i, _)| i);
        if let Some(o) = orders {
            for t in g.tables.iter_mut() {
                if t.name == "orders" {
                    t.name = "orders_export".into();
                }
            }
            g.tables[o].name = "orders".into();
            let t = &g.tables[o];
            g.newest = t.date.as_ref().and_then(|d| newest(&exports[t.export], d));
        }
        let mut seen = HashSet::new();
        for t in g.tables.iter_mut() {
            let base = t.name.clone();
            let mut n = 2;
            while !seen.insert(t.name.clone()) {
                t.name = format!("{base}_{n}");
                n += 1;
            }
        }
        g.exports = exports;
        g.explain();
        Ok(g)
    }

    fn contact_columns(&mut self, e: &Export) {
        let is_bool = |c: &str| {
            e.ty(c) == Some(FieldType::Bool) || {
                let v = e.text(c);
                !v.is_empty() && v.iter().all(|s| crate::text::bool_word(s).is_some())
            }
        };
        for (name, ty) in &e.types {
            if *name == self.key {
                continue;
            }
            if named(name, &["sms"]) && is_bool(name) {
                self.sms_consent.get_or_insert(name.clone());
            } else if named(name, &["newsletter", "optin", "opt-in", "opt_in", "consent", "abonne", "subscri", "marketing", "accepte"]) && is_bool(name) {
                self.consent.get_or_insert(name.clone());
            } else if named(name, &["mobile", "phone", "portable", "telephone", "tel", "gsm", "cell"]) && matches!(ty, FieldType::Text | FieldType::Int) {
                self.phone.get_or_insert(name.clone());
            }
        }
        // A column of a few values (language, country), for a starter segment.
        for (name, ty) in &e.types {
            if *ty != FieldType::Text || *name == self.key || Some(name) == self.consent.as_ref() || Some(name) == self.sms_consent.as_ref() {
                continue;
            }
            let cells = e.text(name);
            let mut counts: Vec<(String, usize)> = Vec::new();
            for c in &cells {
                let f = fold(c);
                if let Some(i) = counts.iter().position(|(v, _)| fold(v) == f) {
                    counts[i].1 += 1;
                } else if counts.len() <= 20 {
                    counts.push((c.clone(), 1));
                } else {
                    break;
                }
            }
            if (2..=20).contains(&counts.len()) && cells.len() * 2 >= e.df.height() {
                let top = counts.iter().max_by_key(|(_, n)| *n).map(|(v, _)| v.clone()).unwrap_or_default();
                self.common_value = Some((name.clone(), top));
                break;
            }
        }
    }

    fn explain(&mut self) {
        let c = &self.exports[self.contacts];
        self.report.push(format!("contacts: {} (key `{}`: {} distinct e-mail addresses, the most of any export)", c.rel, self.key, self.distinct));
        match (&self.consent, &self.sms_consent) {
            (Some(e), Some(s)) => self.report.push(format!("consent: `{e}` for e-mail and `{s}` for SMS (yes/no values)")),
            (Some(e), None) => self.report.push(format!("consent: `{e}` (yes/no values)")),
            (None, Some(s)) => self.report.push(format!("consent: `{s}` for SMS (yes/no values); no e-mail consent column found")),
            (None, None) => self.report.push("consent: no yes/no column named like a consent; marketing lists will be exported whole, with a warning".into()),
        }
        if let Some(p) = &self.phone {
            self.report.push(format!("phone: `{p}` (named like a phone number)"));
        }
        for t in &self.tables {
            let e = &self.exports[t.export];
            let mut parts = vec![format!("key `{}` ({} of its values are contacts)", t.key, percent(t.matched))];
            parts.extend(t.date.as_ref().map(|d| format!("date `{d}`")));
            parts.extend(t.amount.as_ref().map(|a| format!("amount `{a}`")));
            parts.extend(t.id.as_ref().map(|i| format!("id `{i}`")));
            self.report.push(format!("table {}: {}, {}", t.name, e.rel, parts.join(", ")));
        }
        for (i, purpose) in &self.suppress {
            let what = if purpose.is_some() { "for marketing lists (named like unsubscribes)" } else { "for every list (named like bounces)" };
            self.report.push(format!("suppress: {} {what}", self.exports[*i].rel));
        }
    }

    fn orders(&self) -> Option<&TableGuess> {
        self.tables.iter().find(|t| t.name == "orders")
    }

    fn yaml(&self) -> String {
        let mut y = Yaml::default();
        let today = chrono::Local::now().date_naive();
        y.raw(&format!("# Written by `audience init` on {today} from the exports in this folder. Every"));
        y.raw("# guess carries a comment; check them, then run `audience check` and `audience run`.");
        y.raw("# Every key is described in docs/project.md of the audience repository.");
        let c = &self.exports[self.contacts];
        y.raw("contacts:");
        y.line(1, "path", &q(&c.rel), &format!("{} distinct e-mail addresses, the most of any export", self.distinct));
        y.line(1, "key", &q(&self.key), "holds e-mail addresses: trimmed and lowercased on every side");
        match (&self.consent, &self.sms_consent) {
            (Some(e), Some(s)) => y.line(1, "consent", &format!("{{email: {}, sms: {}}}", q(e), q(s)), "yes/no columns, one per channel"),
            (Some(e), None) => y.line(1, "consent", &q(e), "a yes/no column named like a consent"),
            (None, Some(s)) => y.line(1, "consent", &format!("{{sms: {}}}", q(s)), "a yes/no column for SMS; no e-mail consent found"),
            (None, None) => y.raw("  # consent: COLUMN     # no consent column found: marketing lists are exported whole"),
        }
        if let Some(p) = &self.phone {
            y.line(1, "phone", &q(p), "for segments with `channel: sms`; numbers without + are read as French");
        }
        if let Some(sep) = c.separator.filter(|s| *s != b',') {
            y.raw(&format!("  # (separator `{}` found; `csv.separator: auto` reads it)", sep_text(sep)));
        }
        if !self.tables.is_empty() {
            y.raw("tables:");
        }
        for t in &self.tables {
            let e = &self.exports[t.export];
            let why = if t.name == "orders" && fold(&e.stem) != "orders" {
                "named orders so that the built-in metrics and RFM read it"
            } else {
                "one row per event about a contact"
            };
            y.line(1, &t.name, "", why);
            y.line(2, "path", &q(&e.rel), &format!("{} rows", e.df.height()));
            y.line(2, "key", &q(&t.key), &format!("{} of its values are contact keys", percent(t.matched)));
            if let Some(d) = &t.date {
                let dates: Vec<&str> = e.types.iter().filter(|(_, t)| matches!(t, FieldType::Date | FieldType::Datetime)).map(|(n, _)| n.as_str()).collect();
                let among = if dates.len() > 1 { format!("likeliest of {}", dates.join(", ")) } else { "its one date column".into() };
                let span = newest(e, d).map(|n| format!("; newest {n}")).unwrap_or_default();
                y.line(2, "date", &q(d), &format!("{among}{span}"));
            }
            if let Some(a) = &t.amount {
                let comma = raw_has_decimal_comma(e, a);
                y.line(2, "amount", &q(a), if comma { "numbers written with a decimal comma" } else { "a number column named like an amount" });
            }
            if let Some(i) = &t.id {
                y.line(2, "id", &q(i), "rows sharing it are one order");
            }
            if let Some((col, values)) = &t.refunds {
                let list = values.iter().map(|v| q(v)).collect::<Vec<_>>().join(", ");
                y.raw(&format!("    # where: {{field: {}, op: not_in, value: [{list}]}}   # uncomment to leave these rows out of every count", q(col)));
            }
        }
        y.line(0, "segments", "segments", "");
        y.line(0, "output", "out", "");
        if !self.suppress.is_empty() {
            y.raw("suppress:");
            for (i, purpose) in &self.suppress {
                let rel = q(&self.exports[*i].rel);
                match purpose {
                    Some(p) => y.line(1, "-", &format!("{{file: {rel}, purpose: {p}}}"), "named like unsubscribes: kept out of marketing lists"),
                    None => y.line(1, "-", &rel, "named like bounces: kept out of every list"),
                }
            }
        }
        match &self.newest {
            Some(n) => y.raw(&format!("# as_of: {n}        # the newest order; uncomment to evaluate as of the exports instead of today")),
            None => y.raw("# as_of: YYYY-MM-DD   # evaluate as of this date instead of today"),
        }
        y.raw("# timezone: Europe/Paris   # default: this machine's");
        y.text
    }

    /// Three starter segments that hold on this data.
    fn segments(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        match &self.consent {
            Some(c) => out.push(("subscribers".to_string(), format!("name: Newsletter subscribers\nwhere: {{field: {}, op: is_true}}\n", q(c)))),
            None => out.push((
                "everyone".to_string(),
                format!("name: Every contact with an address\npurpose: informational\nwhere: {{field: {}, op: is_not_empty}}\n", q(&self.key)),
            )),
        }
        if self.orders().is_some() {
            out.push(("buyers".into(), "name: Customers with at least one order\nwhere: {field: order_count, op: gte, value: 1}\n".to_string()));
            out.push((
                "top-spenders".into(),
                "name: Top 10 % of spenders\ndescription: Customers whose total spent is among the highest tenth\nwhere:\n  all:\n    - {field: order_count, op: gte, value: 1}\n    - {field: total_spent, op: top, value: 10%}\n".into(),
            ));
        } else if let Some(t) = self.tables.first() {
            out.push(("active".into(), format!("name: Contacts with rows in {0}\nwhere: {{table: {0}}}\n", t.name)));
        }
        if out.len() < 3 {
            if let Some((column, value)) = &self.common_value {
                out.push((
                    crate::text::file_part(&format!("{column}-{value}")),
                    format!("name: {column} is {value}\nwhere: {{field: {}, op: eq, value: {}}}\n", q(column), q(value)),
                ));
            }
        }
        if out.len() < 3 {
            if let Some(domain) = self.common_domain() {
                out.push((
                    crate::text::file_part(&format!("at-{domain}")),
                    format!("name: Addresses at {domain}\nwhere: {{field: {}, op: ends_with, value: {}}}\n", q(&self.key), q(&format!("@{domain}"))),
                ));
            }
        }
        out
    }

    fn common_domain(&self) -> Option<String> {
        let mut counts: std::collections::HashMap<String, usize> = Default::default();
        for k in self.exports[self.contacts].text(&self.key) {
            if let Some((_, d)) = crate::text::normalize_email(&k).rsplit_once('@') {
                *counts.entry(d.to_string()).or_default() += 1;
            }
        }
        counts.into_iter().max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(&a.0))).map(|(d, _)| d)
    }
}

/// Whether the export's file writes this column with a decimal comma
/// (the loaded frame holds numbers, so look at the file's first lines).
fn raw_has_decimal_comma(e: &Export, column: &str) -> bool {
    let Some(sep) = e.separator else { return false };
    let Ok(head) = read_head(&e.path) else { return false };
    let mut rdr = csv::ReaderBuilder::new().delimiter(sep).flexible(true).from_reader(head.trim_start_matches('\u{feff}').as_bytes());
    let Some(i) = rdr.headers().ok().and_then(|h| h.iter().position(|c| c.trim() == column)) else { return false };
    let re = regex::Regex::new(r"\d,\d").expect("a valid pattern");
    rdr.records().flatten().take(200).any(|r| r.get(i).is_some_and(|c| re.is_match(c)))
}

/// The table an export makes, when one of its columns links rows to contacts.
fn table(i: usize, e: &Export, keys: &HashSet<String>) -> Option<TableGuess> {
    let mut best: Option<(String, f64)> = None;
    let candidates: Vec<&String> = e.email.iter().chain(e.types.iter().filter(|(_, t)| *t == FieldType::Text).map(|(n, _)| n)).collect();
    for c in candidates {
        let values = e.text(c);
        if values.is_empty() {
            continue;
        }
        let hit = values.iter().filter(|v| keys.contains(&crate::text::normalize_email(v))).count() as f64 / values.len() as f64;
        if hit >= 0.5 && best.as_ref().is_none_or(|(_, b)| hit > *b) {
            best = Some((c.clone(), hit));
        }
    }
    let (key, matched) = best?;
    let pick = |want: &dyn Fn(FieldType) -> bool, score: &dyn Fn(&str) -> i32| -> Option<String> {
        e.types
            .iter()
            .filter(|(n, t)| *n != key && want(*t))
            .map(|(n, _)| (score(n), n))
            .filter(|(s, _)| *s > 0)
            .max_by_key(|(s, _)| *s)
            .map(|(_, n)| n.clone())
    };
    let date = pick(&|t| matches!(t, FieldType::Date | FieldType::Datetime), &|n| {
        let mut s = 1;
        if named(n, &["order", "commande", "achat", "purchase", "sent", "envoi", "created", "transaction", "paid", "paiement", "vente", "sale"]) {
            s += 4;
        }
        if named(n, &["date"]) || fold(n).ends_with("_at") {
            s += 2;
        }
        if named(n, &["birth", "naissance", "edition", "event", "spectacle", "updated", "modif"]) {
            s -= 2;
        }
        s
    });
    let amount = pick(&|t| t.is_number(), &|n| {
        i32::from(named(n, &["amount", "montant", "total", "price", "prix", "revenue", "paid", "paye", "value", "valeur", "ttc"]))
    });
    let id = pick(&|t| matches!(t, FieldType::Text | FieldType::Int), &|n| {
        let f = fold(n);
        let mut s = 0;
        if f == "id" || f.ends_with("_id") || f.ends_with(" id") || f.starts_with("id_") || named(n, &["n°", "numero", "reference", "ref "]) {
            s += 1;
            if named(n, &["order", "commande", "ticket", "transaction", "billet", "vente"]) {
                s += 2;
            }
        }
        s
    })
    .filter(|i| Some(i) != amount.as_ref());
    let refunds = e.types.iter().filter(|(n, t)| *t == FieldType::Text && named(n, &["status", "statut", "state", "etat"])).find_map(|(n, _)| {
        let mut values: Vec<String> = Vec::new();
        for v in e.text(n) {
            let f = fold(&v);
            if ["refund", "rembours", "annul", "cancel", "not validated", "non valid"].iter().any(|w| f.contains(w)) && !values.contains(&v) {
                values.push(v);
            }
        }
        (!values.is_empty()).then(|| (n.clone(), values))
    });
    let name = {
        let n = crate::text::file_part(&e.stem).replace('-', "_");
        if n.is_empty() || n.starts_with(|c: char| c.is_ascii_digit()) {
            format!("table_{n}")
        } else {
            n
        }
    };
    Some(TableGuess { name, export: i, key, matched, date, amount, id, refunds })
}

/// The newest value of a date column, as text.
fn newest(e: &Export, column: &str) -> Option<String> {
    let c = e.df.column(column).ok()?;
    let max = c.as_materialized_series().cast(&DataType::Date).ok()?.max_reduce().ok()?;
    let days = max.value().extract::<i32>()?;
    Some(crate::dates::from_days(days).to_string())
}

/// A share as a percentage, never rounded up to 100 %.
fn percent(share: f64) -> String {
    let p = share * 100.0;
    if (99.5..100.0).contains(&p) {
        format!("{p:.1} %").replace("100.0 %", "99.9 %")
    } else {
        format!("{p:.0} %")
    }
}

fn sep_text(s: u8) -> &'static str {
    match s {
        b';' => ";",
        b'\t' => "tab",
        b'|' => "|",
        _ => ",",
    }
}

/// A YAML scalar: bare when it reads back as the same text, else quoted.
fn q(s: &str) -> String {
    let plain = !s.is_empty()
        && s.chars().all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.' | '/' | '@'))
        && !s.starts_with(['-', '.', '@'])
        && !matches!(s.to_ascii_lowercase().as_str(), "true" | "false" | "yes" | "no" | "on" | "off" | "null" | "y" | "n" | "~")
        && s.parse::<f64>().is_err();
    if plain {
        s.to_string()
    } else {
        serde_json::to_string(s).unwrap_or_default()
    }
}

/// YAML written line by line, comments aligned.
#[derive(Default)]
struct Yaml {
    text: String,
}

impl Yaml {
    fn raw(&mut self, line: &str) {
        self.text.push_str(line);
        self.text.push('\n');
    }

    fn line(&mut self, depth: usize, key: &str, value: &str, comment: &str) {
        let indent = "  ".repeat(depth);
        let mut l = if key == "-" {
            format!("{indent}- {value}")
        } else if value.is_empty() {
            format!("{indent}{}:", q(key))
        } else {
            format!("{indent}{}: {value}", q(key))
        };
        if !comment.is_empty() {
            let width = l.chars().count();
            l.push_str(&" ".repeat(40usize.saturating_sub(width).max(1)));
            l.push_str("# ");
            l.push_str(comment);
        }
        self.raw(&l);
    }
}

#[cfg(test)]
mod tests {
    use super::q;

    #[test]
    fn scalars_are_quoted_only_when_yaml_would_misread_them() {
        assert_eq!(q("email"), "email");
        assert_eq!(q("sample-data/orders.csv"), "sample-data/orders.csv");
        assert_eq!(q("Adresse e-mail"), "\"Adresse e-mail\"");
        assert_eq!(q("oui"), "oui");
        assert_eq!(q("yes"), "\"yes\"");
        assert_eq!(q("2024"), "\"2024\"");
        assert_eq!(q("a: b"), "\"a: b\"");
    }
}
