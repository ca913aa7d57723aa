//! `audience check`: validates segment files and the project file, reporting
//! every problem at once as `file:line:col: message`.

use std::collections::HashSet;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;

use crate::cli::{CheckFormat, Common};
use crate::diag::CompileError;
use crate::engine::{dependency_order, Context, Want};
use crate::plan::Resolver;
use crate::project::{self, ProjectError};
use crate::segment::ast::Segment;
use crate::segment::{self, Report};

pub fn run(common: &Common, paths: &[PathBuf], no_data: bool, strict: bool, format: CheckFormat) -> Result<ExitCode> {
    let mut report = Report::default();
    let mut warnings = Report::default();
    let project = match project::load(common.project.as_deref(), common.as_of.as_deref()) {
        Ok(p) => Some(p),
        Err(ProjectError::Invalid(doc)) => {
            report.push_doc(&doc);
            None
        }
        // Without a project file, explicit segment files can still be checked alone.
        Err(ProjectError::Other(e)) if !paths.is_empty() && no_data => {
            let _ = e;
            None
        }
        Err(ProjectError::Other(e)) => return Err(e),
    };

    let files: Vec<PathBuf> = if paths.is_empty() {
        match &project {
            Some(p) => {
                segment::find_files(&p.segments_dir).map_err(|e| anyhow::anyhow!("{}: cannot read the segments folder: {e}", p.segments_dir.display()))?
            }
            None => vec![],
        }
    } else {
        let mut out = Vec::new();
        for p in paths {
            if p.is_dir() {
                out.extend(segment::find_files(p)?);
            } else if p.exists() {
                // Not only regular files: a FIFO named here is reported, by name, when read.
                out.push(p.clone());
            } else {
                return Err(crate::diag::UsageError(format!("{}: no such file or folder", p.display())).into());
            }
        }
        out
    };
    let loaded = segment::load_files(&files);
    report.items.extend(loaded.report.items);
    let mut segments = loaded.segments;
    // Files with shape errors are still compiled, so their type errors are
    // reported in the same run.
    for b in loaded.broken {
        if !segments.iter().any(|s| s.alias == b.alias) {
            segments.push(b);
        }
    }
    // References may point at segments of the project that were not named.
    if let Some(p) = &project {
        if !paths.is_empty() {
            if let Ok(all) = segment::find_files(&p.segments_dir) {
                let known: HashSet<PathBuf> = files.iter().filter_map(|f| f.canonicalize().ok()).collect();
                let others: Vec<PathBuf> = all.into_iter().filter(|f| f.canonicalize().map(|c| !known.contains(&c)).unwrap_or(true)).collect();
                for s in segment::load_files(&others).segments {
                    if !segments.iter().any(|x| x.alias == s.alias) {
                        segments.push(s);
                    }
                }
            }
        }
    }
    segments.push(Segment::all());
    let checked: Vec<&Segment> = segments.iter().filter(|s| s.file.as_ref().is_some_and(|f| files.contains(f))).collect();
    let project_file = project.as_ref().map(|p| p.file.clone()).unwrap_or_else(|| PathBuf::from(project::FILE_NAME));

    let aliases: Vec<&str> = checked.iter().map(|s| s.alias.as_str()).collect();
    let mut seen = HashSet::new();
    let mut push = |report: &mut Report, file: Option<PathBuf>, e: CompileError| {
        let f = file.unwrap_or_else(|| project_file.clone());
        if seen.insert((f.clone(), e.path.clone(), e.message.clone())) {
            report.push_at(&f, &e.path, &e.message, e.hint);
        }
    };
    for a in &aliases {
        if let Err(errs) = dependency_order(&segments, &[a]) {
            for (f, e) in errs {
                push(&mut report, f, e);
            }
        }
    }

    if !no_data {
        if let Some(p) = &project {
            match crate::load::load(p) {
                Err(e) => match e.downcast::<crate::load::DataErrors>() {
                    Ok(errors) => {
                        for (path, message, hint) in errors.0 {
                            let mut e = CompileError::new(&path, message);
                            e.hint = hint;
                            push(&mut report, None, e);
                        }
                    }
                    Err(e) => report.items.push((
                        crate::diag::Diagnostic::new(p.file.display().to_string(), crate::yamlpos::Pos::START, format!("cannot read the data: {e:#}")),
                        None,
                    )),
                },
                Ok(data) => {
                    for (path, message) in crate::session::name_conflicts(p, &data) {
                        push(&mut report, None, CompileError::new(&path, message));
                    }
                    // The project's own definitions, then each segment's plan:
                    // resolved only, nothing is computed.
                    let mut resolver = Resolver::new(&data, p);
                    for m in &p.metrics {
                        if let Err(e) = resolver.agg(&m.def, None) {
                            push(&mut report, None, e);
                        }
                    }
                    if p.clusters.is_some() {
                        if let Err(e) = Resolver::new(&data, p).cluster_inputs_checked() {
                            for e in e {
                                push(&mut report, None, e);
                            }
                        }
                    }
                    for t in &data.tables {
                        if let Err(e) = crate::plan::table_filter(&data, p, t) {
                            push(&mut report, None, e);
                        }
                    }
                    if let Err(errs) = crate::plan::suppress_lists(&data, p) {
                        for (f, e) in errs {
                            push(&mut report, f, e);
                        }
                    }
                    let ctx = Context { project: p, data: &data, segments: &segments };
                    for s in &checked {
                        let mut notes = Vec::new();
                        if let Err(errs) = ctx.plan(&[s], Want { export_columns: true, compile_only: true }, &mut notes) {
                            for (f, e) in errs {
                                push(&mut report, f, e);
                            }
                        }
                    }
                    // Values no row holds: only worth saying of definitions that compile.
                    if report.is_empty() {
                        for w in super::literals::check(p, &data, &checked)? {
                            warnings.push_at(&w.file, &w.path, &format!("warning: {}", w.message), w.hint);
                        }
                    }
                }
            }
        }
    }

    match format {
        CheckFormat::Json => {
            let mut diags: Vec<serde_json::Value> = Vec::new();
            for (items, severity) in [(&report.items, "error"), (&warnings.items, "warning")] {
                for (d, _) in items {
                    let mut v = serde_json::to_value(d)?;
                    if severity == "warning" {
                        v["message"] = d.message.trim_start_matches("warning: ").into();
                    }
                    v["severity"] = severity.into();
                    diags.push(v);
                }
            }
            println!("{}", serde_json::to_string_pretty(&diags)?);
        }
        CheckFormat::Human => {
            if !report.is_empty() {
                eprintln!("{}", report.render());
            }
            if !warnings.is_empty() {
                eprintln!("{}", warnings.render());
            }
        }
    }
    let n = files.len();
    let warned = if warnings.is_empty() { String::new() } else { format!(", {} warning(s)", warnings.count()) };
    if report.is_empty() && (warnings.is_empty() || !strict) {
        if format == CheckFormat::Human {
            let problems = if warnings.is_empty() { "no problems".to_string() } else { format!("no errors{warned}") };
            println!("checked {n} segment file(s){}: {problems}", if no_data { " (YAML only)" } else { " against the data" });
        }
        Ok(ExitCode::SUCCESS)
    } else {
        let bad: HashSet<&str> = report.items.iter().chain(&warnings.items).map(|(d, _)| d.file.as_str()).collect();
        let strictly = if strict && !warnings.is_empty() { " (--strict: warnings count as errors)" } else { "" };
        eprintln!("{} error(s){warned} in {} file(s){strictly}", report.count(), bad.len());
        Ok(ExitCode::from(1))
    }
}
