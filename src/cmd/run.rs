//! `audience run`: evaluate segments and write each one's recipients, whole
//! or not at all.

use std::collections::HashSet;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use polars::prelude::*;

use crate::cli::{Common, TableFormat};
use crate::engine::{Evaluation, OutCol, SegmentResult, Want};
use crate::output::{self, CsvStyle};
use crate::segment::ast::{Format, Segment};
use crate::session::{Session, UsageError};

pub fn run(common: &Common, aliases: &[String], union: &[String], union_out: Option<&Path>) -> Result<ExitCode> {
    let session = Session::open(common)?;
    if !union.is_empty() && union_out.is_none() {
        return Err(UsageError("--union needs -o FILE, the list to write".into()).into());
    }
    let requested = session.select(if union.is_empty() { aliases } else { union })?;
    let progress = Progress::new(requested.len() as u64 + 1);
    progress.say("reading the exports");
    let data = session.load_data()?;
    if let Some(bar) = &progress.0 {
        bar.suspend(|| data.notes.print());
    } else {
        data.notes.print();
    }
    progress.say("evaluating segments");
    let eval = session.evaluate(&data, &requested, Want { export_columns: true, ..Want::default() })?;
    progress.tick();

    if let Some(out) = union_out {
        let code = write_union(&eval, out)?;
        progress.finish();
        return Ok(code);
    }

    let out_dir = &session.project.output;
    std::fs::create_dir_all(out_dir).with_context(|| format!("{}: cannot create the output folder", out_dir.display()))?;
    let writing = std::time::Instant::now();
    let mut failed: Vec<String> = Vec::new();
    let mut written: HashSet<String> = HashSet::new();
    let mut jobs = Vec::new();
    for (seg, res) in requested.iter().zip(&eval.results) {
        if let Some(msg) = bounds_failure(seg, res) {
            failed.push(format!("{}: {msg}; its previous export was kept", seg.alias));
            progress.tick();
            continue;
        }
        written.insert(seg.alias.clone());
        jobs.push((seg, res));
    }
    // Lists are independent: each core filters and writes one at a time.
    progress.say("writing lists");
    let results = crate::par::parallel_map(jobs, |(seg, res)| {
        let target = out_dir.join(format!("{}.{}", seg.alias, seg.export.format.extension()));
        let style = CsvStyle { separator: seg.export.separator, bom: seg.export.bom };
        let tmp = export_columns(&eval, &res.columns).and_then(|mut df| {
            let keep = eval.frame.column(&res.recipient_col)?.bool()?;
            output::write_temp(&mut df, Some(keep), &target, seg.export.format, &style)
        });
        progress.tick();
        tmp.map(|tmp| (tmp, target))
    });
    let mut staged: Vec<(PathBuf, PathBuf)> = Vec::new();
    let mut first_error = None;
    for r in results {
        match r {
            Ok(pair) => staged.push(pair),
            Err(e) => {
                first_error.get_or_insert(e);
            }
        }
    }
    if let Some(e) = first_error {
        for (tmp, _) in &staged {
            let _ = std::fs::remove_file(tmp);
        }
        return Err(e);
    }
    for (tmp, target) in &staged {
        std::fs::rename(tmp, target).with_context(|| format!("{}: cannot move the finished list into place", target.display()))?;
    }
    progress.finish();
    crate::session::timing("write", writing);
    audit(&session, &requested, &eval.results, &written)?;
    super::print_rows(super::COUNT_HEADER, super::COUNT_KEYS, &super::count_rows(&session, &eval.results), TableFormat::Table)?;
    let table_rows: u64 = data.tables.iter().map(|t| t.rows).sum();
    eprintln!("wrote {} list(s) to {} (read {} contacts and {} table rows)", staged.len(), out_dir.display(), data.contacts.height(), table_rows);
    warn_stale(&session, out_dir);
    if failed.is_empty() {
        Ok(ExitCode::SUCCESS)
    } else {
        for f in &failed {
            eprintln!("expectation failed: {f}");
        }
        Ok(ExitCode::from(1))
    }
}

/// Why a segment's `expect` min/max forbids replacing its export, if it does.
pub fn bounds_failure(seg: &Segment, res: &SegmentResult) -> Option<String> {
    let n = res.counts.recipients;
    if let Some(min) = seg.expect.min.filter(|m| n < *m) {
        return Some(format!("{n} recipients, below the expected min of {min}"));
    }
    if let Some(max) = seg.expect.max.filter(|m| n > *m) {
        return Some(format!("{n} recipients, above the expected max of {max}"));
    }
    None
}

/// A list's columns for every contact, named as exported: the contact
/// columns themselves, not copies of them.
fn export_columns(eval: &Evaluation, columns: &[OutCol]) -> Result<DataFrame> {
    let exprs: Vec<Expr> = columns.iter().map(|c| c.expr.clone().alias(c.header.as_str())).collect();
    Ok(crate::engine::run_in_memory(eval.frame.clone().lazy().select(exprs))?)
}

/// A list's rows: its columns for its recipients only.
pub fn select_recipients(eval: &Evaluation, recipient_col: &str, columns: &[OutCol]) -> Result<DataFrame> {
    Ok(export_columns(eval, columns)?.filter(eval.frame.column(recipient_col)?.bool()?)?)
}

fn write_union(eval: &Evaluation, out: &Path) -> Result<ExitCode> {
    let any = eval.results.iter().map(|r| col(r.recipient_col.as_str())).reduce(Expr::or).unwrap_or(lit(false));
    let keep = crate::engine::run_in_memory(eval.frame.clone().lazy().select([any.alias("__any")]))?;
    let mut df = export_columns(eval, &eval.results[0].columns)?.filter(keep.column("__any")?.bool()?)?;
    if let Some(parent) = out.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)?;
    }
    output::write_atomic(&mut df, out, output::format_for(out), &CsvStyle { separator: b',', bom: false })?;
    eprintln!("wrote {} recipient(s) of {} segment(s) to {}", df.height(), eval.results.len(), out.display());
    Ok(ExitCode::SUCCESS)
}

/// One JSON line per segment in OUTPUT/.audience/runs.jsonl.
fn audit(session: &Session, requested: &[&Segment], results: &[SegmentResult], written: &HashSet<String>) -> Result<()> {
    let dir = session.project.output.join(".audience");
    std::fs::create_dir_all(&dir)?;
    let path = dir.join("runs.jsonl");
    let mut f = std::fs::OpenOptions::new().create(true).append(true).open(&path).with_context(|| format!("{}: cannot append", path.display()))?;
    let time = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    for (s, r) in requested.iter().zip(results) {
        let line = serde_json::json!({
            "time": time,
            "as_of": session.project.as_of.to_string(),
            "alias": s.alias,
            "segment_sha256": s.hash,
            "members": r.counts.members,
            "recipients": r.counts.recipients,
            "reasons": {"suppressed": r.counts.suppressed, "no_consent": r.counts.no_consent, "invalid_email": r.counts.invalid_email},
            "written": written.contains(&s.alias),
        });
        writeln!(f, "{line}")?;
    }
    Ok(())
}

/// Lists in OUTPUT that no segment produces any more.
fn warn_stale(session: &Session, out_dir: &Path) {
    let produced: HashSet<String> = session.segments.iter().map(|s| format!("{}.{}", s.alias, s.export.format.extension())).collect();
    let Ok(entries) = std::fs::read_dir(out_dir) else { return };
    let mut stale: Vec<String> = entries
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().to_string())
        .filter(|n| !n.starts_with('.'))
        .filter(|n| [Format::Csv, Format::Parquet, Format::Jsonl].iter().any(|f| n.ends_with(&format!(".{}", f.extension()))))
        .filter(|n| !produced.contains(n))
        .collect();
    stale.sort();
    for n in stale {
        eprintln!("warning: {} is produced by no segment any more; delete it if the mailer should stop using it", out_dir.join(n).display());
    }
}

/// A progress bar on stderr when it is a terminal; silent otherwise (cron).
struct Progress(Option<indicatif::ProgressBar>);

impl Progress {
    fn new(len: u64) -> Self {
        if !std::io::stderr().is_terminal() {
            return Progress(None);
        }
        let bar = indicatif::ProgressBar::new(len);
        bar.set_style(indicatif::ProgressStyle::with_template("{bar:30} {pos}/{len} {msg}").expect("valid template"));
        Progress(Some(bar))
    }

    fn say(&self, msg: &str) {
        if let Some(b) = &self.0 {
            b.set_message(msg.to_string());
        }
    }

    fn tick(&self) {
        if let Some(b) = &self.0 {
            b.inc(1);
        }
    }

    fn finish(&self) {
        if let Some(b) = &self.0 {
            b.finish_and_clear();
        }
    }
}
