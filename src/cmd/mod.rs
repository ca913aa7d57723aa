//! One file per command; this one only dispatches.

mod check;
mod count;
mod fields;
mod overlap;
mod rfm;
mod run;
mod show;
mod test;

use std::process::ExitCode;

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
        Command::Check { paths, no_data, format } => check::run(common, &paths, no_data, format),
        Command::Test { aliases } => test::run(common, &aliases),
        Command::Rfm { scores, format, plot } => rfm::run(common, scores.as_deref(), format, plot.as_deref()),
        Command::Fields { format } => fields::run(common, format),
        Command::Overlap { aliases, format } => overlap::run(common, &aliases, format),
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
            let mut t = crate::output::table(header.iter().map(|s| s.to_string()).collect());
            for r in rows {
                t.add_row(r.iter().map(text).collect::<Vec<_>>());
            }
            for i in 0..header.len() {
                if rows.iter().all(|r| r.get(i).is_some_and(|v| v.is_number() || v.is_null())) {
                    if let Some(c) = t.column_mut(i) {
                        c.set_cell_alignment(comfy_table::CellAlignment::Right);
                    }
                }
            }
            println!("{t}");
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

/// The counts of segments as rows for `print_rows`.
pub fn count_rows(session: &crate::session::Session, results: &[crate::engine::SegmentResult]) -> Vec<Vec<serde_json::Value>> {
    results
        .iter()
        .map(|r| {
            let name = session.segments.iter().find(|s| s.alias == r.alias).map(|s| s.name.clone()).unwrap_or_default();
            let c = &r.counts;
            vec![r.alias.clone().into(), name.into(), c.members.into(), c.recipients.into(), c.suppressed.into(), c.no_consent.into(), c.invalid_email.into()]
        })
        .collect()
}

pub const COUNT_HEADER: &[&str] = &["segment", "name", "members", "recipients", "suppressed", "no consent", "invalid e-mail"];
pub const COUNT_KEYS: &[&str] = &["alias", "name", "members", "recipients", "suppressed", "no_consent", "invalid_email"];
