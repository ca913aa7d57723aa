//! One file per command; this one only dispatches.

mod check;
mod clusters;
mod count;
mod fields;
mod init;
mod literals;
mod overlap;
mod rfm;
mod run;
mod show;
mod sql;
mod test;
mod values;

use std::process::ExitCode;

use std::path::Path;

use anyhow::Result;

use crate::cli::{Cli, Command};

pub fn dispatch(cli: Cli) -> Result<ExitCode> {
    let common = &cli.common;
    match cli.command {
        Command::Run { aliases, union, exclusive, output, changes, allow_empty } => {
            run::run(common, &run::RunArgs { aliases: &aliases, union: &union, exclusive: &exclusive, output: output.as_deref(), changes, allow_empty })
        }
        Command::Count { aliases, format } => count::run(common, &aliases, format),
        Command::Show { alias, limit, explain, format } => show::run(common, &alias, limit, explain, format),
        Command::Check { paths, no_data, strict, format } => check::run(common, &paths, no_data, strict, format),
        Command::Test { aliases } => test::run(common, &aliases),
        Command::Rfm { scores, format, plot } => rfm::run(common, scores.as_deref(), format, plot.as_deref()),
        Command::Sql { aliases, dialect, counts, materialize, output, dbt, relations, stage } => sql::run(
            common,
            &aliases,
            dialect,
            sql::Options {
                counts,
                materialize: materialize.as_deref(),
                out_dir: output.as_deref(),
                dbt: dbt.as_deref(),
                relations: relations.as_deref(),
                stage: stage.as_deref(),
            },
        ),
        Command::Clusters { format, assign, plot } => clusters::run(common, format, assign.as_deref(), plot.as_deref()),
        Command::Fields { format } => fields::run(common, format),
        Command::Overlap { aliases, format } => overlap::run(common, &aliases, format),
        Command::Init { dir } => init::run(common, &dir),
        Command::Values { field, limit, format } => values::run(common, &field, limit, format),
        Command::Completions { shell } => {
            let mut cmd = <Cli as clap::CommandFactory>::command();
            clap_complete::generate(shell, &mut cmd, "audience", &mut std::io::stdout());
            Ok(ExitCode::SUCCESS)
        }
        Command::Schema { kind } => {
            let schema = match kind {
                crate::cli::SchemaKind::Segment => crate::schema::segment(),
                crate::cli::SchemaKind::Project => crate::schema::project(),
            };
            println!("{}", serde_json::to_string_pretty(&schema)?);
            Ok(ExitCode::SUCCESS)
        }
        Command::Man => {
            let cmd = <Cli as clap::CommandFactory>::command();
            clap_mangen::Man::new(cmd).render(&mut std::io::stdout())?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Prints rows as a terminal table, CSV or JSON (an array of objects).
pub fn print_rows(header: &[&str], keys: &[&str], rows: &[Vec<serde_json::Value>], format: crate::cli::TableFormat) -> Result<()> {
    use crate::cli::TableFormat;
    let text = |v: &serde_json::Value| match v {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Null => String::new(),
        other => other.to_string(),
    };
    match format {
        TableFormat::Table => {
            let mut t = crate::output::Grid::new(header.iter().map(|s| s.to_string()).collect());
            for r in rows {
                t.row(r.iter().map(text).collect());
            }
            for i in 0..header.len() {
                if rows.iter().all(|r| r.get(i).is_some_and(|v| v.is_number() || v.is_null())) {
                    t.align_right(i);
                }
            }
            println!("{}", t.render());
        }
        TableFormat::Csv => {
            let mut w = csv::Writer::from_writer(std::io::stdout().lock());
            w.write_record(keys)?;
            for r in rows {
                w.write_record(r.iter().map(text))?;
            }
            w.flush()?;
        }
        TableFormat::Json => {
            let arr: Vec<serde_json::Value> =
                rows.iter().map(|r| serde_json::Value::Object(keys.iter().map(|k| k.to_string()).zip(r.iter().cloned()).collect())).collect();
            println!("{}", serde_json::to_string_pretty(&arr)?);
        }
    }
    Ok(())
}

/// The counts of segments as a table for `print_rows`: header, JSON keys
/// and rows. The channel columns (`invalid_phone`, `duplicate_phone`,
/// `duplicate_email`) appear when a segment has them, after the others,
/// blank for the segments they do not apply to.
pub struct CountTable {
    pub header: Vec<&'static str>,
    pub keys: Vec<&'static str>,
    pub rows: Vec<Vec<serde_json::Value>>,
}

impl CountTable {
    pub fn new(session: &crate::session::Session, results: &[crate::engine::SegmentResult]) -> CountTable {
        type Extra = fn(&crate::engine::Counts) -> Option<u64>;
        let extras: [(&str, &str, Extra); 3] = [
            ("invalid phone", "invalid_phone", |c| c.invalid_phone),
            ("duplicate phone", "duplicate_phone", |c| c.duplicate_phone),
            ("duplicate e-mail", "duplicate_email", |c| c.duplicate_email),
        ];
        let shown: Vec<&(&str, &str, Extra)> = extras.iter().filter(|(_, _, get)| results.iter().any(|r| get(&r.counts).is_some())).collect();
        let mut header = COUNT_HEADER.to_vec();
        let mut keys = COUNT_KEYS.to_vec();
        header.extend(shown.iter().map(|(h, _, _)| *h));
        keys.extend(shown.iter().map(|(_, k, _)| *k));
        let rows = results
            .iter()
            .map(|r| {
                let name = session.segments.iter().find(|s| s.alias == r.alias).map(|s| s.name.clone()).unwrap_or_default();
                let c = &r.counts;
                let mut row: Vec<serde_json::Value> = vec![
                    r.alias.clone().into(),
                    name.into(),
                    c.members.into(),
                    c.recipients.into(),
                    c.suppressed.into(),
                    c.no_consent.into(),
                    c.invalid_email.into(),
                ];
                // Blank (null in JSON) where the reason does not apply: an
                // e-mail segment has no phone to be invalid.
                row.extend(shown.iter().map(|(_, _, get)| get(c).map(serde_json::Value::from).unwrap_or(serde_json::Value::Null)));
                row
            })
            .collect();
        CountTable { header, keys, rows }
    }

    /// Adds a column after the others.
    pub fn push(&mut self, header: &'static str, key: &'static str, values: impl IntoIterator<Item = serde_json::Value>) {
        self.header.push(header);
        self.keys.push(key);
        for (row, v) in self.rows.iter_mut().zip(values) {
            row.push(v);
        }
    }

    pub fn print(&self, format: crate::cli::TableFormat) -> Result<()> {
        print_rows(&self.header, &self.keys, &self.rows, format)
    }
}

const COUNT_HEADER: &[&str] = &["segment", "name", "members", "recipients", "suppressed", "no consent", "invalid e-mail"];
const COUNT_KEYS: &[&str] = &["alias", "name", "members", "recipients", "suppressed", "no_consent", "invalid_email"];

/// The options that name an output file are checked before any work: CSV
/// written into `x.xlsx`, or SVG into `x.png`, makes a file nothing opens.
/// `flag` names the option, `what` the content (`the scores`).
pub fn check_table_file(flag: &str, path: Option<&Path>, what: &str) -> Result<()> {
    match path.filter(|p| !matches!(extension(p).as_str(), "csv" | "parquet" | "jsonl" | "ndjson")) {
        Some(p) => Err(crate::diag::UsageError(format!(
            "{flag} {}: {what} are written as .csv, .parquet or .jsonl; name the file with one of these extensions",
            p.display()
        ))
        .into()),
        None => Ok(()),
    }
}

/// `--plot FILE.svg`: see [`check_table_file`].
pub fn check_svg_file(flag: &str, path: Option<&Path>) -> Result<()> {
    match path.filter(|p| extension(p) != "svg") {
        Some(p) => Err(crate::diag::UsageError(format!("{flag} {}: the chart is drawn as SVG; name the file with the .svg extension", p.display())).into()),
        None => Ok(()),
    }
}

fn extension(p: &Path) -> String {
    p.extension().map(|e| e.to_string_lossy().to_ascii_lowercase()).unwrap_or_default()
}
