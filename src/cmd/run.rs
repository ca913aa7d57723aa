//! `audience run`: evaluate segments and write each one's recipients, whole
//! or not at all.

use std::collections::HashSet;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use polars::prelude::*;

use crate::cli::{Common, TableFormat};
use crate::engine::{Evaluation, OutCol, OutValue, SegmentResult, Want};
use crate::output::commit::OutputDir;
use crate::output::{self, CsvStyle, Staged};
use crate::project::Project;
use crate::segment::ast::{Format, KeyList, Segment};
use crate::session::{Session, UsageError};
use crate::types::KEY;

/// What `audience run` was asked to do.
pub struct RunArgs<'a> {
    pub aliases: &'a [String],
    pub union: &'a [String],
    pub exclusive: &'a [String],
    pub output: Option<&'a Path>,
    pub changes: bool,
    pub allow_empty: bool,
}

impl RunArgs<'_> {
    /// The `--union` file, unless it is standard output.
    fn union_file(&self) -> Option<&Path> {
        self.output.filter(|p| !self.union.is_empty() && !is_stdout(p))
    }
}

fn is_stdout(p: &Path) -> bool {
    p.as_os_str() == "-"
}

pub fn run(common: &Common, args: &RunArgs) -> Result<ExitCode> {
    let usage = |m: &str| -> Result<ExitCode> { Err(UsageError(m.into()).into()) };
    match (args.union.is_empty(), args.exclusive.is_empty(), args.output) {
        (false, _, None) => return usage("--union needs -o FILE, the list to write (or -o - for standard output)"),
        (_, false, None) => return usage("--exclusive needs -o DIR, the folder to write its lists to"),
        (_, false, Some(p)) if is_stdout(p) => return usage("--exclusive writes one list per segment, so -o names a folder, not standard output"),
        (true, true, Some(_)) => return usage("-o is for --union or --exclusive; a plain run writes to `output` of audience.yaml"),
        _ => {}
    }
    let project = crate::session::open_project(common)?;
    guard_inputs(&project, &[], args)?;
    let out = OutputDir::open(&project.output)?;
    let as_of = project.as_of.to_string();
    let requested: Vec<String> = [args.aliases, args.union, args.exclusive].concat();
    execute(&out, project, &requested, args).inspect_err(|e| out.audit_failure(&as_of, &requested, e))
}

/// The run itself, once the output folder is held: every error from here on
/// is recorded in the audit trail by the caller.
fn execute(out: &OutputDir, project: Project, aliases: &[String], args: &RunArgs) -> Result<ExitCode> {
    let session = Session::with_project(project)?;
    let lists: Vec<PathBuf> =
        session.segments.iter().flat_map(|s| [&s.include, &s.exclude]).filter_map(|l| if let KeyList::File(p) = l { Some(p.clone()) } else { None }).collect();
    guard_inputs(&session.project, &lists, args)?;
    let requested = session.select(aliases)?;
    let progress = Progress::new();
    progress.say("reading the exports");
    let data = session.load_data()?;
    if let Some(bar) = &progress.0 {
        bar.suspend(|| data.notes.print());
    } else {
        data.notes.print();
    }
    progress.say("evaluating segments");
    let eval = session.evaluate(&data, &requested, Want { export_columns: true, ..Want::default() })?;

    if !args.union.is_empty() {
        let code = write_union(out, &session, &eval, args.output.expect("checked in run"));
        progress.finish();
        return code;
    }
    if !args.exclusive.is_empty() {
        let code = write_exclusive(out, &session, &requested, &eval, args.output.expect("checked in run"));
        progress.finish();
        return code;
    }

    let out_dir = &out.dir;
    let writing = std::time::Instant::now();
    let keys = eval.frame.column(KEY)?.str()?;
    // Each segment's verdict: the change since its last export (when asked
    // or guarded), and why its list must be kept, if it must.
    let mut verdicts = Vec::new();
    for (seg, res) in requested.iter().zip(&eval.results) {
        let rcp = eval.frame.column(&res.recipient_col)?.bool()?;
        let guarded = seg.expect.max_change.is_some() || res.counts.recipients == 0;
        let previous = if args.changes || guarded { out.previous_keys(&seg.alias) } else { None };
        let change = (args.changes || previous.is_some()).then(|| Change::since(previous.as_deref(), keys, rcp));
        let kept = bounds_failure(seg, res)
            .map(Kept::Expectation)
            .or_else(|| empty_guard(out_dir, seg, res, previous.as_deref(), args.allow_empty).map(Kept::Empty))
            .or_else(|| change_guard(seg, previous.as_deref(), change.as_ref()).map(Kept::Expectation));
        verdicts.push(Verdict { seg, res, change, kept });
    }
    // Lists are independent: each core filters and writes one segment's files at a time.
    progress.count("lists written", verdicts.len() as u64);
    let jobs: Vec<&Verdict> = verdicts.iter().collect();
    let results = crate::par::parallel_map(jobs, |v| {
        let staged = stage_segment(out, &eval, &data.key_column, v, args.changes);
        progress.tick();
        staged
    });
    // Lists are renamed first, then the change files and the baselines.
    let mut staged: Vec<Staged> = Vec::new();
    let mut extras: Vec<Staged> = Vec::new();
    let mut first_error = None;
    for r in results {
        match r {
            Ok((lists, more)) => {
                staged.extend(lists);
                extras.extend(more);
            }
            Err(e) => {
                first_error.get_or_insert(e);
            }
        }
    }
    staged.extend(extras);
    if let Some(e) = first_error {
        staged.into_iter().for_each(Staged::discard);
        return Err(e);
    }
    let written = verdicts.iter().filter(|v| v.kept.is_none()).count();
    let targets: HashSet<PathBuf> = staged.iter().map(|s| s.target.clone()).collect();
    let lines = audit_lines(out, &session, &verdicts);
    out.commit(staged, &lines)?;
    progress.finish();
    crate::exec::timing("write", writing);
    let mut table = super::CountTable::new(&session, &eval.results);
    if args.changes {
        table.push("added", "added", verdicts.iter().map(|v| v.shown_change().0.into()));
        table.push("removed", "removed", verdicts.iter().map(|v| v.shown_change().1.into()));
    }
    table.print(TableFormat::Table)?;
    for v in verdicts.iter() {
        let Some(why) = &v.kept else { continue };
        let had = if list_path(out_dir, v.seg).exists() || v.seg.export.splits() {
            "its previous list was kept"
        } else {
            "no list was written (there was no earlier one)"
        };
        match why {
            Kept::Expectation(msg) => eprintln!("expectation failed: {}: {msg}; {had}", v.seg.alias),
            Kept::Empty(msg) => eprintln!("empty list refused: {}: {msg}; {had}", v.seg.alias),
        }
    }
    let failed = verdicts.iter().filter(|v| v.kept.is_some()).count();
    let refused = verdicts.iter().filter(|v| matches!(v.kept, Some(Kept::Empty(_)))).count();
    let table_rows: u64 = data.tables.iter().map(|t| t.rows).sum();
    let kept = match (failed, refused) {
        (0, _) => String::new(),
        (n, 0) => format!("; {n} segment(s) failed their expectations and were not replaced"),
        (n, _) => format!("; {n} segment(s) were not replaced (failed expectations or empty lists refused)"),
    };
    eprintln!("wrote {written} list(s) to {} (read {} contacts and {table_rows} table rows){kept}", out_dir.display(), data.contacts.height());
    warn_stale(&session, out_dir, &targets);
    Ok(if failed == 0 { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

/// Why a segment's list was not replaced.
enum Kept {
    /// `expect` said no: min, max or max_change.
    Expectation(String),
    /// The empty-list guard.
    Empty(String),
}

struct Verdict<'a> {
    seg: &'a Segment,
    res: &'a SegmentResult,
    change: Option<Change>,
    kept: Option<Kept>,
}

impl Verdict<'_> {
    /// Added and removed as the counts show them: nothing changed for a
    /// list that was kept.
    fn shown_change(&self) -> (u64, u64) {
        match (&self.change, &self.kept) {
            (Some(c), None) => (c.added_count, c.removed.len() as u64),
            _ => (0, 0),
        }
    }
}

/// The recipients added and removed since a segment's last export.
struct Change {
    /// Over every contact: a recipient now, and not in the last export.
    added: BooleanChunked,
    added_count: u64,
    /// Keys of the last export that are no recipients now, in its order.
    removed: Vec<String>,
}

impl Change {
    /// Without a previous export every recipient is added.
    fn since(previous: Option<&[String]>, keys: &StringChunked, recipients: &BooleanChunked) -> Change {
        let before: HashSet<&str> = previous.unwrap_or_default().iter().map(String::as_str).collect();
        let mut now: HashSet<&str> = HashSet::new();
        let added: BooleanChunked = keys
            .iter()
            .zip(recipients.iter())
            .map(|(k, r)| {
                let is = r == Some(true) && k.is_some();
                if is {
                    now.insert(k.expect("checked"));
                }
                Some(is && !before.contains(k.expect("checked")))
            })
            .collect();
        let removed = previous.unwrap_or_default().iter().filter(|k| !now.contains(k.as_str())).cloned().collect();
        let added_count = added.sum().unwrap_or(0) as u64;
        Change { added, added_count, removed }
    }

    fn total(&self) -> u64 {
        self.added_count + self.removed.len() as u64
    }
}

/// The empty-list guard: an export that comes in empty (a header-only
/// contacts file, a typo in a value) must not wipe a list a mailer syncs.
fn empty_guard(out_dir: &Path, seg: &Segment, res: &SegmentResult, previous: Option<&[String]>, allow_empty: bool) -> Option<String> {
    if res.counts.recipients > 0 || allow_empty || seg.expect.min == Some(0) {
        return None;
    }
    let before = match previous {
        Some(keys) => keys.len() as u64,
        // Lists written before the keys were kept: count the file's rows.
        None => list_rows(&list_path(out_dir, seg), seg.export.format).unwrap_or(0),
    };
    (before > 0).then(|| format!("0 recipients where the last export had {before}; if an empty list is right, run with --allow-empty or set `expect.min: 0`"))
}

/// Rows of a list written earlier, when it can be read.
fn list_rows(path: &Path, format: Format) -> Option<u64> {
    let meta = std::fs::metadata(path).ok().filter(|m| m.is_file())?;
    match format {
        Format::Parquet => {
            let f = std::fs::File::open(path).ok()?;
            ParquetReader::new(f).num_rows().ok().map(|n| n as u64)
        }
        Format::Csv | Format::Jsonl => {
            let text = std::fs::read(path).ok()?;
            let lines = text.split(|b| *b == b'\n').filter(|l| !l.is_empty()).count() as u64;
            let header = u64::from(format == Format::Csv);
            Some(lines.saturating_sub(header)).filter(|_| meta.len() > 0)
        }
    }
}

/// `expect.max_change`: more recipients came and went than the segment allows.
fn change_guard(seg: &Segment, previous: Option<&[String]>, change: Option<&Change>) -> Option<String> {
    let (max, previous, change) = (seg.expect.max_change?, previous?, change?);
    let limit = max.limit(previous.len() as u64);
    (change.total() as f64 > limit).then(|| {
        format!(
            "{} added and {} removed since the last export of {}, above the expected max_change of {}",
            change.added_count,
            change.removed.len(),
            previous.len(),
            max.text()
        )
    })
}

/// Stages every file of one segment: its list (or its split or group
/// lists), the keys that become the baseline of the next run, and with
/// `--changes` what was added and removed. A kept segment stages only
/// empty change files: for the mailer, nothing changed.
fn stage_segment(out: &OutputDir, eval: &Evaluation, key_column: &str, v: &Verdict, changes: bool) -> Result<(Vec<Staged>, Vec<Staged>)> {
    let (seg, res) = (v.seg, v.res);
    let style = CsvStyle::of(&seg.export);
    let format = seg.export.format;
    let mut staged = Vec::new();
    let mut lists = 0;
    let mut stage = |df: &mut DataFrame, keep: Option<&BooleanChunked>, target: PathBuf, format: Format, style: &CsvStyle| -> Result<()> {
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent).with_context(|| format!("{}: cannot create the folder", parent.display()))?;
        }
        staged.push(output::stage(df, keep, &target, format, style)?);
        Ok(())
    };
    let result = (|| -> Result<()> {
        let mut df = export_columns(eval, &res.columns)?;
        let changes_dir = out.dir.join("changes");
        let ext = format.extension();
        if v.kept.is_some() {
            if changes {
                let mut none = df.clear();
                stage(&mut none, None, changes_dir.join(format!("{}.added.{ext}", seg.alias)), format, &style)?;
                let mut removed = key_frame(key_column, seg, Vec::new())?;
                stage(&mut removed, None, changes_dir.join(format!("{}.removed.{ext}", seg.alias)), format, &style)?;
            }
            return Ok(());
        }
        let rcp = eval.frame.column(&res.recipient_col)?.bool()?;
        for (target, rows) in list_files(&out.dir, eval, seg, res)? {
            let keep = match rows {
                Some(rows) => rows_mask(&rows, rcp.len()),
                None => rcp.clone(),
            };
            stage(&mut df, Some(&keep), target, format, &style)?;
            lists += 1;
        }
        let keys = eval.frame.column(KEY)?.str()?.filter(rcp)?;
        let mut baseline = DataFrame::new_infer_height(vec![keys.into_series().with_name("key".into()).into()])?;
        stage(&mut baseline, None, out.keys_file(&seg.alias), Format::Csv, &CsvStyle::PLAIN)?;
        if changes {
            let change = v.change.as_ref().expect("computed with --changes");
            stage(&mut df, Some(&change.added), changes_dir.join(format!("{}.added.{ext}", seg.alias)), format, &style)?;
            let mut removed = key_frame(key_column, seg, change.removed.clone())?;
            stage(&mut removed, None, changes_dir.join(format!("{}.removed.{ext}", seg.alias)), format, &style)?;
        }
        Ok(())
    })();
    match result {
        Ok(()) => {
            let extras = staged.split_off(lists);
            Ok((staged, extras))
        }
        Err(e) => {
            staged.into_iter().for_each(Staged::discard);
            Err(e)
        }
    }
}

/// The files of a segment's list and the rows each holds (None: every
/// recipient): one file, or one per value of `split_by` or per test group,
/// under OUTPUT/ALIAS/. Rows rather than masks, so that a split into many
/// values holds one mask at a time.
fn list_files(out_dir: &Path, eval: &Evaluation, seg: &Segment, res: &SegmentResult) -> Result<Vec<(PathBuf, Option<Vec<usize>>)>> {
    let rcp = eval.frame.column(&res.recipient_col)?.bool()?;
    let ext = seg.export.format.extension();
    let folder = out_dir.join(&seg.alias);
    let recipients = || rcp.iter().enumerate().filter(|(_, r)| *r == Some(true)).map(|(i, _)| i);
    if let Some(group_col) = &res.group_col {
        let groups = eval.frame.column(group_col)?.str()?;
        let mut rows: Vec<Vec<usize>> = vec![Vec::new(); seg.export.groups.len()];
        for i in recipients() {
            if let Some(at) = groups.get(i).and_then(|g| seg.export.groups.iter().position(|x| x.name == g)) {
                rows[at].push(i);
            }
        }
        return Ok(seg.export.groups.iter().zip(rows).map(|(g, r)| (folder.join(format!("{}.{ext}", g.name)), Some(r))).collect());
    }
    if let Some(split) = &res.split {
        let values = crate::exec::run_in_memory(eval.frame.clone().lazy().select([split.clone().alias("value")]))?;
        let texts = crate::output::text_cells(values.column("value")?)?;
        // Files in order of first appearance; values that fold alike share one.
        let mut parts: Vec<(String, Vec<usize>)> = Vec::new();
        let mut index: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
        for i in recipients() {
            let name = texts[i].as_deref().map(crate::text::file_part).filter(|n| !n.is_empty()).unwrap_or_else(|| "_none".into());
            let at = *index.entry(name.clone()).or_insert_with(|| {
                parts.push((name, Vec::new()));
                parts.len() - 1
            });
            parts[at].1.push(i);
        }
        return Ok(parts.into_iter().map(|(name, rows)| (folder.join(format!("{name}.{ext}")), Some(rows))).collect());
    }
    Ok(vec![(list_path(out_dir, seg), None)])
}

/// A mask of `height` rows holding `rows`.
fn rows_mask(rows: &[usize], height: usize) -> BooleanChunked {
    let mut mask = vec![false; height];
    for &i in rows {
        mask[i] = true;
    }
    BooleanChunked::from_slice("".into(), &mask)
}

/// A one-column frame of keys, headed as the list heads its key column.
fn key_frame(key_column: &str, seg: &Segment, keys: Vec<String>) -> Result<DataFrame> {
    let header = seg.export.rename.iter().find(|(f, _)| f == key_column).map(|(_, t)| t.as_str()).unwrap_or(key_column);
    Ok(DataFrame::new_infer_height(vec![Column::new(header.into(), keys)])?)
}

fn list_path(out_dir: &Path, seg: &Segment) -> PathBuf {
    out_dir.join(format!("{}.{}", seg.alias, seg.export.format.extension()))
}

/// OUTPUT must hold no input of the project, a `--union` file must be none,
/// and an `--exclusive` folder must hold none: a run there would overwrite
/// or delete them. Checked before any data is read; `lists` are the
/// segments' include and exclude files.
fn guard_inputs(project: &Project, lists: &[PathBuf], args: &RunArgs) -> Result<()> {
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
    if let Some(target) = args.union_file() {
        let target = canon(target);
        if let Some(input) = inputs.iter().find(|i| target.is_some() && canon(i) == target) {
            bail!("{}: is an input of the project; write the union to another file", input.display());
        }
    }
    if let Some(dir) = args.output.filter(|_| !args.exclusive.is_empty()) {
        if let Some(d) = canon(dir) {
            if canon(&project.output).is_some_and(|o| o == d) {
                bail!(
                    "{}: is the project's `output`, where each segment's own list lives; give --exclusive a folder of its own, such as out/campaign",
                    dir.display()
                );
            }
            if let Some(input) = inputs.iter().find(|i| canon(i).is_some_and(|i| i.starts_with(&d))) {
                bail!("{}: holds an input of the project, {}; give --exclusive a folder of its own", dir.display(), input.display());
            }
        }
    }
    Ok(())
}

/// The audit lines of a run that writes its lists: one per segment.
fn audit_lines(out: &OutputDir, session: &Session, verdicts: &[Verdict]) -> Vec<serde_json::Value> {
    let time = crate::output::commit::now();
    verdicts
        .iter()
        .map(|v| {
            let (s, r) = (v.seg, v.res);
            let failure = v.kept.as_ref().map(|k| match k {
                Kept::Expectation(m) | Kept::Empty(m) => m.clone(),
            });
            let mut line = serde_json::json!({
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
            });
            for (key, n) in
                [("invalid_phone", r.counts.invalid_phone), ("duplicate_phone", r.counts.duplicate_phone), ("duplicate_email", r.counts.duplicate_email)]
            {
                if let Some(n) = n {
                    line["reasons"][key] = n.into();
                }
            }
            if v.change.is_some() {
                let (added, removed) = v.shown_change();
                line["added"] = added.into();
                line["removed"] = removed.into();
            }
            line
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
    let exprs: Vec<Expr> = columns
        .iter()
        .filter_map(|c| match &c.value {
            OutValue::Expr(e) => Some(e.clone().alias(c.header.as_str())),
            OutValue::Json(_) | OutValue::Joined(_) => None,
        })
        .collect();
    let mut df = crate::exec::run_in_memory(eval.frame.clone().lazy().select(exprs))?;
    // Columns made of others (listmonk's attributes and name) are built
    // from their own columns and put in their place.
    for (i, c) in columns.iter().enumerate() {
        let text: StringChunked = match &c.value {
            OutValue::Expr(_) => continue,
            OutValue::Json(inner) => crate::output::json_rows(&export_columns(eval, inner)?)?.iter().map(|o| Some(o.to_string())).collect(),
            OutValue::Joined(inner) => {
                let parts = export_columns(eval, inner)?;
                let texts: Vec<Vec<Option<String>>> = parts.columns().iter().map(crate::output::text_cells).collect::<Result<_>>()?;
                (0..parts.height())
                    .map(|row| {
                        let words: Vec<&str> = texts.iter().filter_map(|t| t[row].as_deref()).filter(|w| !w.trim().is_empty()).collect();
                        (!words.is_empty()).then(|| words.join(" "))
                    })
                    .collect()
            }
        };
        df.insert_column(i, text.with_name(c.header.as_str().into()).into_column())?;
    }
    Ok(df)
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
    let recipients = keep.sum().unwrap_or(0);
    let mut line = serde_json::json!({
        "time": crate::output::commit::now(),
        "run": out.run,
        "as_of": session.project.as_of.to_string(),
        "status": "written",
        "union": eval.results.iter().map(|r| r.alias.clone()).collect::<Vec<_>>(),
        "file": target.display().to_string(),
        "recipients": recipients,
    });
    let aliases = eval.results.len();
    if is_stdout(target) {
        // Standard output cannot be replaced atomically; the list is
        // written whole before the audit line says so.
        output::write_stdout(&mut df, Some(keep), &CsvStyle::PLAIN)?;
        line["file"] = "(standard output)".into();
        out.append_audit(&[line])?;
        eprintln!("wrote {recipients} recipient(s) of {aliases} segment(s) to standard output");
        return Ok(ExitCode::SUCCESS);
    }
    if let Some(parent) = target.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).with_context(|| format!("{}: cannot create the folder", parent.display()))?;
    }
    let staged = output::stage(&mut df, Some(keep), target, output::format_for(target), &CsvStyle::PLAIN)?;
    out.commit(vec![staged], &[line])?;
    eprintln!("wrote {recipients} recipient(s) of {aliases} segment(s) to {}", target.display());
    Ok(ExitCode::SUCCESS)
}

/// `--exclusive A B C -o DIR`: each segment's list without the recipients
/// of the segments before it, so that nobody gets the campaign twice.
fn write_exclusive(out: &OutputDir, session: &Session, requested: &[&Segment], eval: &Evaluation, dir: &Path) -> Result<ExitCode> {
    std::fs::create_dir_all(dir).with_context(|| format!("{}: cannot create the folder", dir.display()))?;
    let height = eval.frame.height();
    let mut taken = BooleanChunked::full("".into(), false, height);
    let mut staged: Vec<Staged> = Vec::new();
    let mut table = super::CountTable::new(session, &eval.results);
    let mut lost_column = Vec::new();
    let mut lines = Vec::new();
    let time = crate::output::commit::now();
    for ((seg, res), row) in requested.iter().zip(&eval.results).zip(table.rows.iter_mut()) {
        let rcp = eval.frame.column(&res.recipient_col)?.bool()?;
        let own = rcp & &!&taken;
        taken = &taken | &own;
        let kept = own.sum().unwrap_or(0) as u64;
        let lost = res.counts.recipients - kept;
        row[3] = kept.into();
        lost_column.push(lost.into());
        let target = dir.join(format!("{}.{}", seg.alias, seg.export.format.extension()));
        let mut df = export_columns(eval, &res.columns)?;
        match output::stage(&mut df, Some(&own), &target, seg.export.format, &CsvStyle::of(&seg.export)) {
            Ok(s) => staged.push(s),
            Err(e) => {
                staged.into_iter().for_each(Staged::discard);
                return Err(e);
            }
        }
        lines.push(serde_json::json!({
            "time": time,
            "run": out.run,
            "as_of": session.project.as_of.to_string(),
            "alias": seg.alias,
            "segment_sha256": seg.hash,
            "status": "written",
            "exclusive": requested.iter().map(|s| s.alias.clone()).collect::<Vec<_>>(),
            "file": target.display().to_string(),
            "members": res.counts.members,
            "recipients": kept,
            "lost": lost,
        }));
    }
    out.commit(staged, &lines)?;
    table.push("lost", "lost", lost_column);
    table.print(TableFormat::Table)?;
    eprintln!("wrote {} exclusive list(s) to {}: nobody is in two of them", requested.len(), dir.display());
    Ok(ExitCode::SUCCESS)
}

/// Lists in OUTPUT that no segment produces any more, and files of a split
/// or group folder that this run, which wrote the folder, did not write (a
/// value that is gone).
fn warn_stale(session: &Session, out_dir: &Path, written: &HashSet<PathBuf>) {
    let is_list = |n: &str| [Format::Csv, Format::Parquet, Format::Jsonl].iter().any(|f| n.ends_with(&format!(".{}", f.extension())));
    let produced: HashSet<String> =
        session.segments.iter().filter(|s| !s.export.splits()).map(|s| format!("{}.{}", s.alias, s.export.format.extension())).collect();
    let names = |dir: &Path| -> Vec<String> {
        let Ok(entries) = std::fs::read_dir(dir) else { return Vec::new() };
        let mut names: Vec<String> =
            entries.filter_map(|e| e.ok()).map(|e| e.file_name().to_string_lossy().to_string()).filter(|n| !n.starts_with('.') && is_list(n)).collect();
        names.sort();
        names
    };
    for n in names(out_dir).into_iter().filter(|n| !produced.contains(n)) {
        eprintln!("warning: {} is produced by no segment any more; delete it if the mailer should stop using it", out_dir.join(n).display());
    }
    for seg in session.segments.iter().filter(|s| s.export.splits()) {
        let folder = out_dir.join(&seg.alias);
        if !written.iter().any(|w| w.parent() == Some(folder.as_path())) {
            continue;
        }
        for n in names(&folder).into_iter().filter(|n| !written.contains(&folder.join(n))) {
            eprintln!("warning: {} holds no recipient of `{}` any more; delete it if the mailer should stop using it", folder.join(n).display(), seg.alias);
        }
    }
}

/// A progress bar on stderr when it is a terminal; silent otherwise (cron).
/// A spinner while the exports are read and the segments evaluated, then
/// one step per segment whose list is written.
struct Progress(Option<indicatif::ProgressBar>);

impl Progress {
    fn new() -> Self {
        if !std::io::stderr().is_terminal() {
            return Progress(None);
        }
        let bar = indicatif::ProgressBar::new_spinner();
        bar.set_style(indicatif::ProgressStyle::with_template("{spinner} {msg}").expect("valid template"));
        bar.enable_steady_tick(std::time::Duration::from_millis(120));
        Progress(Some(bar))
    }

    /// From here on, counts `len` steps of `what`.
    fn count(&self, what: &str, len: u64) {
        if let Some(b) = &self.0 {
            b.disable_steady_tick();
            b.set_style(indicatif::ProgressStyle::with_template(&format!("{{bar:30}} {{pos}}/{{len}} {what}")).expect("valid template"));
            b.set_length(len);
            b.set_position(0);
            b.set_message("");
        }
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
