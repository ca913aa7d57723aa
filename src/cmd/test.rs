//! `audience test`: the `expect:` checks of segments.

use std::process::ExitCode;

use anyhow::Result;
use polars::prelude::*;

use crate::cli::Common;
use crate::engine::Want;
use crate::load::KEY;
use crate::session::Session;

pub fn run(common: &Common, aliases: &[String]) -> Result<ExitCode> {
    let session = Session::open(common)?;
    let requested: Vec<_> = session.select(aliases)?.into_iter().filter(|s| !s.expect.is_empty() || !aliases.is_empty()).collect();
    if requested.is_empty() {
        println!("no segment declares `expect:`; nothing to test");
        return Ok(ExitCode::SUCCESS);
    }
    let data = session.load_data()?;
    data.notes.print();
    let eval = session.evaluate(&data, &requested, Want::default())?;
    let mut failures = 0;
    for (seg, res) in requested.iter().zip(&eval.results) {
        let mut problems = Vec::new();
        if let Some(msg) = super::run::bounds_failure(seg, res) {
            problems.push(msg);
        }
        let check = |keys: &[String], want: bool| -> Result<Vec<String>> {
            if keys.is_empty() {
                return Ok(vec![]);
            }
            let norm: Vec<String> = keys.iter().map(|k| data.normalize_key(k)).collect();
            let members = eval
                .frame
                .clone()
                .lazy()
                .filter(col(res.member_col.as_str()).and(crate::backend::polars::lower::in_set(col(KEY), norm.clone())))
                .select([col(KEY)])
                .collect()?;
            let found: std::collections::HashSet<String> = members.column(KEY)?.str()?.iter().flatten().map(str::to_string).collect();
            Ok(norm.into_iter().filter(|k| found.contains(k) != want).collect())
        };
        for k in check(&seg.expect.includes, true)? {
            problems.push(format!("`{k}` should be a member and is not"));
        }
        for k in check(&seg.expect.excludes, false)? {
            problems.push(format!("`{k}` should not be a member and is"));
        }
        if problems.is_empty() {
            println!("ok    {} ({} recipients)", seg.alias, res.counts.recipients);
        } else {
            failures += 1;
            println!("FAIL  {}", seg.alias);
            for p in problems {
                println!("      {p}");
            }
        }
    }
    println!("{} passed, {} failed", requested.len() - failures, failures);
    Ok(if failures == 0 { ExitCode::SUCCESS } else { ExitCode::from(1) })
}
