//! What every command starts from: the project, its segments, its data.
//! Problems are printed here, whole, and surface as `Reported`.

use anyhow::Result;

use crate::cli::Common;
use crate::engine::{Context, EvalError, Evaluation, Want};
use crate::load::{self, Dataset};
use crate::project::{self, Project, ProjectError};
use crate::segment::ast::Segment;
use crate::segment::{self, Report};

pub use crate::diag::{Reported, UsageError};

pub fn open_project(common: &Common) -> Result<Project> {
    match project::load(common.project.as_deref(), common.as_of.as_deref()) {
        Ok(p) => Ok(p),
        Err(ProjectError::Other(e)) => Err(e),
        Err(ProjectError::Invalid(doc)) => {
            let mut r = Report::default();
            r.push_doc(&doc);
            eprintln!("{}", r.render());
            Err(Reported.into())
        }
    }
}

pub struct Session {
    pub project: Project,
    /// Every segment file's segment, sorted by alias, then the built-in `all`.
    pub segments: Vec<Segment>,
}

impl Session {
    pub fn open(common: &Common) -> Result<Session> {
        Session::with_project(open_project(common)?)
    }

    /// The project's segment files, read and validated.
    pub fn with_project(project: Project) -> Result<Session> {
        let files = segment::find_files(&project.segments_dir)
            .map_err(|e| anyhow::anyhow!("{}: cannot read the segments folder: {e} (check `segments` in audience.yaml)", project.segments_dir.display()))?;
        let loaded = segment::load_files(&files);
        if !loaded.report.is_empty() {
            eprintln!("{}", loaded.report.render());
            eprintln!("{} error(s) in segment files; run `audience check` for the full list", loaded.report.count());
            return Err(Reported.into());
        }
        let mut segments = loaded.segments;
        segments.push(Segment::all());
        Ok(Session { project, segments })
    }

    pub fn files(&self) -> impl Iterator<Item = &Segment> {
        self.segments.iter().filter(|s| s.file.is_some())
    }

    /// The named segments, or every segment file when none is named.
    pub fn select(&self, aliases: &[String]) -> Result<Vec<&Segment>> {
        if aliases.is_empty() {
            return Ok(self.files().collect());
        }
        let mut out: Vec<&Segment> = Vec::new();
        for a in aliases {
            match self.segments.iter().find(|s| &s.alias == a) {
                Some(s) if !out.iter().any(|o| o.alias == s.alias) => out.push(s),
                Some(_) => {}
                None => {
                    let names: Vec<&str> = self.segments.iter().map(|s| s.alias.as_str()).collect();
                    let hint = crate::diag::did_you_mean(a, names.iter().copied()).map(|h| format!("; {h}")).unwrap_or_default();
                    return Err(UsageError(format!("no segment with alias `{a}`{hint}")).into());
                }
            }
        }
        Ok(out)
    }

    pub fn load_data(&self) -> Result<Dataset> {
        let started = std::time::Instant::now();
        let data = match load::load(&self.project) {
            Ok(d) => d,
            Err(e) => match e.downcast::<load::DataErrors>() {
                Ok(errors) => {
                    let mut r = Report::default();
                    for (path, msg, hint) in &errors.0 {
                        r.push_at(&self.project.file, path, msg, hint.clone());
                    }
                    eprintln!("{}", r.render());
                    let summary = errors.0.iter().map(|(_, m, _)| m.as_str()).collect::<Vec<_>>().join("; ");
                    return Err(anyhow::Error::new(Reported).context(summary));
                }
                Err(e) => return Err(e),
            },
        };
        timing("load", started);
        let conflicts = name_conflicts(&self.project, &data);
        if !conflicts.is_empty() {
            let mut r = Report::default();
            for (path, msg) in conflicts {
                r.push_at(&self.project.file, &path, &msg, None);
            }
            eprintln!("{}", r.render());
            return Err(Reported.into());
        }
        Ok(data)
    }

    /// Evaluates segments; compile errors are rendered with their positions.
    pub fn evaluate(&self, data: &Dataset, requested: &[&Segment], want: Want) -> Result<Evaluation> {
        let ctx = Context { project: &self.project, data, segments: &self.segments };
        let mut notes = Vec::new();
        let started = std::time::Instant::now();
        let result = ctx.evaluate(requested, want, &mut notes);
        timing("evaluate", started);
        for n in notes {
            data_note(&n);
        }
        match result {
            Ok(e) => Ok(e),
            Err(EvalError::Other(e)) => Err(e),
            Err(EvalError::Compile(errs)) => {
                self.report(&errs);
                Err(Reported.into())
            }
        }
    }

    /// Prints definition problems at their positions (None: audience.yaml).
    pub fn report(&self, errs: &[crate::plan::Located]) {
        let mut r = Report::default();
        for (file, e) in errs {
            let f = file.clone().unwrap_or_else(|| self.project.file.clone());
            r.push_at(&f, &e.path, &e.message, e.hint.clone());
        }
        eprintln!("{}", r.render());
    }
}

/// One extra line of data notes, found while evaluating.
pub fn data_note(line: &str) {
    eprintln!("data note: {line}");
}

/// Names declared twice: a contacts column named like a built-in metric, an
/// RFM field or a metric. Returns (YAML path in audience.yaml, message).
pub fn name_conflicts(project: &Project, data: &Dataset) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (name, _) in &data.columns {
        if crate::plan::BUILTINS.iter().chain(crate::plan::RFM_FIELDS).any(|(n, _)| n == name) {
            out.push(("contacts".to_string(), format!("the contacts column `{name}` has the name of a built-in field; rename the column in the export")));
        }
        if project.metrics.iter().any(|m| &m.name == name) {
            out.push((format!("metrics.{name}"), format!("metric `{name}` has the name of a contacts column; choose another name")));
        }
    }
    for m in &project.metrics {
        if crate::plan::BUILTINS.iter().chain(crate::plan::RFM_FIELDS).any(|(n, _)| *n == m.name) {
            out.push((format!("metrics.{}", m.name), format!("metric `{}` has the name of a built-in field; choose another name", m.name)));
        }
    }
    out
}

pub use crate::exec::timing;
