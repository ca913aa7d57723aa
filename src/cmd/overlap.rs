//! `audience overlap`: how many recipients each pair of segments shares,
//! before a campaign aimed at several of them.

use std::process::ExitCode;

use anyhow::Result;
use polars::prelude::*;

use crate::cli::{Common, TableFormat};
use crate::engine::Want;
use crate::session::Session;

pub fn run(common: &Common, aliases: &[String], format: TableFormat) -> Result<ExitCode> {
    let session = Session::open(common)?;
    let requested = session.select(aliases)?;
    let data = session.load_data()?;
    data.notes.print();
    let eval = session.evaluate(&data, &requested, Want::default())?;
    let masks: Vec<&BooleanChunked> = eval.results.iter().map(|r| eval.frame.column(&r.recipient_col).and_then(|c| c.bool())).collect::<PolarsResult<_>>()?;
    let n = masks.len();
    let mut shared = vec![vec![0u64; n]; n];
    for i in 0..n {
        for j in i..n {
            let both = if i == j { masks[i].sum() } else { (masks[i] & masks[j]).sum() };
            shared[i][j] = both.unwrap_or(0) as u64;
            shared[j][i] = shared[i][j];
        }
    }
    let aliases: Vec<&str> = eval.results.iter().map(|r| r.alias.as_str()).collect();
    match format {
        TableFormat::Table => {
            // Row i, column j: the recipients of i who are also recipients
            // of j, and their share of i's recipients.
            let mut header = vec!["segment".to_string(), "recipients".to_string()];
            header.extend(aliases.iter().map(|a| a.to_string()));
            let mut t = crate::output::Grid::new(header);
            // Cells hold numbers with their shares: cut none of them short.
            t.shrink = crate::output::Shrink::Never;
            for i in 0..n {
                let mut row = vec![aliases[i].to_string(), shared[i][i].to_string()];
                for j in 0..n {
                    row.push(if i == j {
                        "—".into()
                    } else if shared[i][i] == 0 {
                        "0".into()
                    } else {
                        format!("{} ({}%)", shared[i][j], crate::text::number_text((1000.0 * shared[i][j] as f64 / shared[i][i] as f64).round() / 10.0))
                    });
                }
                t.row(row);
            }
            for c in 1..n + 2 {
                t.align_right(c);
            }
            println!("{}", t.render());
        }
        _ => {
            // Each pair once, in the order the segments were asked for.
            let mut rows = Vec::new();
            for i in 0..n {
                for j in i + 1..n {
                    rows.push(vec![aliases[i].into(), aliases[j].into(), shared[i][j].into(), shared[i][i].into(), shared[j][j].into()]);
                }
            }
            let keys = ["a", "b", "shared", "a_recipients", "b_recipients"];
            super::print_rows(&keys, &keys, &rows, format)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
