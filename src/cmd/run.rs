//! `audience run`: evaluate segments and write each one's recipients, whole
//! or not at all.

use std::collections::HashSet;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use polars::prelude::*;

use crate::cli::{Common, TableFormat};
use crate::engine::{Evaluation, OutCol, SegmentResult, Want};
use crate::output::commit::OutputDir;
use crate::output::{self, CsvStyle, Staged};
use crate::project::Project;
use crate::segment::ast::{Format, KeyList, Segment};
use crate::session::{Session, UsageError};

pub fn run(common: &Common, aliases: &[String], union: &[String], union_out: Option<&Path>) -> Result<ExitCode> {
    if !union.is_empty() && union_out.is_none() {
        return Err(UsageError("--union needs -o FILE, the list to write".into()).into());
    }
    let project = crate::session::open_project(common)?;
    guard_inputs(&project, &[], union_out)?;
    let out = OutputDir::open(&project.output)?;
    let as_of = project.as_of.to_string();
    let requested: Vec<String> = if union.is_empty() { aliases.to_vec() } else { union.to_vec() };
    execute(&out, project, &requested, union_out).inspect_err(|e| out.audit_failure(&as_of, &requested, e))
}

/// The run itself, once the output folder is held: every error from here on
/// is recorded in the audit trail by the caller.
fn execute(out: &OutputDir, project: Project, aliases: &[String], union_out: Option<&Path>) -> Result<ExitCode> {
    let session = Session::with_project(project)?;
    let lists: Vec<PathBuf> =
        session.segments.iter().flat_map(|s| [&s.include, &s.exclude]).filter_map(|l| if let KeyList::File(p) = l { Some(p.clone()) } else { None }).collect();
    guard_inputs(&session.project, &lists, union_out)?;
    let requested = session.select(aliases)?;
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

    if let Some(target) = union_out {
        let code = write_union(out, &session, &eval, target);
        progress.finish();
        return code;
    }

    let out_dir = &out.dir;
    let writing = std::time::Instant::now();
    let mut failed: Vec<(&Segment, String)> = Vec::new();
    let mut jobs = Vec::new();
    for (seg, res) in requested.iter().zip(&eval.results) {
        match bounds_failure(seg, res) {
            Some(msg) => {
                failed.push((seg, msg));
                progress.tick();
            }
            None => jobs.push((*seg, res)),
        }
    }
    // Lists are independent: each core filters and writes one at a time.
    progress.say("writing lists");
    let results = crate::par::parallel_map(jobs, |(seg, res)| {
        let target = list_path(out_dir, seg);
        let staged = export_columns(&eval, &res.columns).and_then(|mut df| {
            let keep = eval.frame.column(&res.recipient_col)?.bool()?;
            output::stage(&mut df, Some(keep), &target, seg.export.format, &CsvStyle::of(&seg.export))
        });
        progress.tick();
        staged
    });
    let mut staged: Vec<Staged> = Vec::new();
    let mut first_error = None;
    for r in results {
        match r {
            Ok(s) => staged.push(s),
            Err(e) => {
                first_error.get_or_insert(e);
            }
        }
    }
    if let Some(e) = first_error {
        staged.into_iter().for_each(Staged::discard);
        return Err(e);
    }
    let written = staged.len();
    let lines = audit_lines(out, &session, &requested, &eval.results, &failed);
    out.commit(staged, &lines)?;
    progress.finish();
    crate::exec::timing("write", writing);
    super::print_rows(super::COUNT_HEADER, super::COUNT_KEYS, &super::count_rows(&session, &eval.results), TableFormat::Table)?;
    for (seg, msg) in &failed {
        let kept = if list_path(out_dir, seg).exists() { "its previous list was kept" } else { "no list was written (there was no earlier one)" };
        eprintln!("expectation failed: {}: {msg}; {kept}", seg.alias);
    }
    let table_rows: u64 = data.tables.iter().map(|t| t.rows).sum();
    let kept = if failed.is_empty() { String::new() } else { format!("; {} segment(s) failed their expectations and were not replaced", failed.len()) };
    eprintln!("wrote {written} list(s) to {} (read {} contacts and {table_rows} table rows){kept}", out_dir.display(), data.contacts.height());
    warn_stale(&session, out_dir);
    Ok(if failed.is_empty() { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

fn list_path(out_dir: &Path, seg: &Segment) -> PathBuf {
    out_dir.join(format!("{}.{}", seg.alias, seg.export.format.extension()))
}

/// OUTPUT must hold no input of the project, and a `--union` file must be
/// none: a run there would overwrite or delete them. Checked before any data
/// is read; `lists` are the segments' include and exclude files.
fn guard_inputs(project: &Project, lists: &[PathBuf], union_out: Option<&Path>) -> Result<()> {
    let mut inputs: Vec<PathBuf> = Vec::new();
    let sources = project.contacts.iter().map(|c| &c.source).chain(project.tables.iter().map(|t| &t.source));
    for src in sources {
        inputs.extend(crate::load::expand(&src.path).unwrap_or_default());
    }
    inputs.extend(project.suppress.iter().map(|s| s.path.clone()));
    inputs.extend(lists.iter().cloned());
    inputs.push(project.segments_dir.clone());
    let canon = |p: &Path| std::fs::canonicalize(p).ok();
    if let Some(out) = canon(&project.output) {
        for input in &inputs {
            if canon(input).is_some_and(|i| i.starts_with(&out)) {
                bail!(
                    "`output` ({}) holds an input of the project, {}: a run would overwrite or delete files there; set `output` in {} to a folder of its own, such as `out`",
                    project.output.display(),
                    input.display(),
                    project.file.display()
                );
            }
        }
    }
    if let Some(target) = union_out {
        let target = canon(target);
        if let Some(input) = inputs.iter().find(|i| target.is_some() && canon(i) == target) {
            bail!("{}: is an input of the project; write the union to another file", input.display());
        }
    }
    Ok(())
}

/// The audit lines of a run that writes its lists: one per segment.
fn audit_lines(out: &OutputDir, session: &Session, requested: &[&Segment], results: &[SegmentResult], failed: &[(&Segment, String)]) -> Vec<serde_json::Value> {
    let time = crate::output::commit::now();
    requested
        .iter()
        .zip(results)
        .map(|(s, r)| {
            let failure = failed.iter().find(|(f, _)| f.alias == s.alias).map(|(_, m)| m.clone());
            serde_json::json!({
                "time": time,
                "run": out.run,
                "as_of": session.project.as_of.to_string(),
                "alias": s.alias,
                "segment_sha256": s.hash,
                "status": if failure.is_some() { "kept" } else { "written" },
                "members": r.counts.members,
                "recipients": r.counts.recipients,
                "reasons": {"suppressed": r.counts.suppressed, "no_consent": r.counts.no_consent, "invalid_email": r.counts.invalid_email},
                "written": failure.is_none(),
                "expectation_failed": failure,
            })
        })
        .collect()
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
    Ok(crate::exec::run_in_memory(eval.frame.clone().lazy().select(exprs))?)
}

/// A list's rows: its columns for its recipients only.
pub fn select_recipients(eval: &Evaluation, recipient_col: &str, columns: &[OutCol]) -> Result<DataFrame> {
    Ok(export_columns(eval, columns)?.filter(eval.frame.column(recipient_col)?.bool()?)?)
}

fn write_union(out: &OutputDir, session: &Session, eval: &Evaluation, target: &Path) -> Result<ExitCode> {
    let any = eval.results.iter().map(|r| col(r.recipient_col.as_str())).reduce(Expr::or).unwrap_or(lit(false));
    let keep = crate::exec::run_in_memory(eval.frame.clone().lazy().select([any.alias(crate::types::columns::ANY_RECIPIENT)]))?;
    let keep = keep.column(crate::types::columns::ANY_RECIPIENT)?.bool()?;
    let mut df = export_columns(eval, &eval.results[0].columns)?;
    if let Some(parent) = target.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).with_context(|| format!("{}: cannot create the folder", parent.display()))?;
    }
    let recipients = keep.sum().unwrap_or(0);
    let staged = output::stage(&mut df, Some(keep), target, output::format_for(target), &CsvStyle::PLAIN)?;
    let line = serde_json::json!({
        "time": crate::output::commit::now(),
        "run": out.run,
        "as_of": session.project.as_of.to_string(),
        "status": "written",
        "union": eval.results.iter().map(|r| r.alias.clone()).collect::<Vec<_>>(),
        "file": target.display().to_string(),
        "recipients": recipients,
    });
    out.commit(vec![staged], &[line])?;
    eprintln!("wrote {recipients} recipient(s) of {} segment(s) to {}", eval.results.len(), target.display());
    Ok(ExitCode::SUCCESS)
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
