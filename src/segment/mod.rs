//! The segment language: files parsed (with positions) and validated into ASTs.

pub mod ast;
pub mod literal;
pub mod parse;

use std::path::{Path, PathBuf};

use crate::diag::Diagnostic;
use crate::yamldoc::Doc;
use crate::yamlpos::PosMap;
use ast::Segment;

/// Segment files under `dir` (recursively), sorted by path.
pub fn find_files(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d)? {
            let p = entry?.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|e| e == "yaml" || e == "yml") {
                out.push(p);
            }
        }
    }
    out.sort();
    Ok(out)
}

/// Diagnostics with the text of their files, for rendering.
#[derive(Default)]
pub struct Report {
    pub items: Vec<(Diagnostic, Option<String>)>,
}

impl Report {
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    pub fn push_doc(&mut self, doc: &Doc) {
        for d in &doc.diags {
            self.items.push((d.clone(), Some(doc.text.clone())));
        }
    }

    /// An error found after parsing (compile, references) in `file`, located
    /// by its YAML path.
    pub fn push_at(&mut self, file: &Path, path: &str, message: &str, hint: Option<String>) {
        let text = crate::yamldoc::read_text(file).ok();
        let pos = text.as_deref().map(|t| PosMap::build(t).locate(path)).unwrap_or(crate::yamlpos::Pos { line: 1, col: 1 });
        let mut d = Diagnostic::new(file.display().to_string(), pos, message);
        if let Some(h) = hint {
            d = d.with_hint(h);
        }
        self.items.push((d, text));
    }

    pub fn render(&self) -> String {
        self.items.iter().map(|(d, src)| crate::diag::render(d, src.as_deref())).collect::<Vec<_>>().join("\n")
    }

    pub fn count(&self) -> usize {
        self.items.len()
    }
}

pub struct Loaded {
    pub segments: Vec<Segment>,
    /// What parsed of the files with errors, for `check` to compile; never run.
    pub broken: Vec<Segment>,
    pub report: Report,
}

/// Parses the given files; duplicate aliases are reported.
pub fn load_files(files: &[PathBuf]) -> Loaded {
    let mut report = Report::default();
    let mut segments: Vec<Segment> = Vec::new();
    let mut broken: Vec<Segment> = Vec::new();
    for f in files {
        let text = match crate::yamldoc::read_text(f) {
            Ok(t) => t,
            Err((pos, e)) => {
                report.items.push((Diagnostic::new(f.display().to_string(), pos, e), None));
                continue;
            }
        };
        let mut doc = Doc::parse(f, text);
        doc.partial = true;
        let parsed = parse::parse_segment(&mut doc, f);
        let clean = doc.ok();
        if let Some(s) = parsed.as_ref().filter(|_| !clean) {
            broken.push(s.clone());
        } else if let Some(s) = parsed {
            if let Some(other) = segments.iter().find(|o| o.alias == s.alias) {
                let first = other.file.as_ref().map(|p| p.display().to_string()).unwrap_or_default();
                let at = if doc.pos.key("alias").is_some() { "alias" } else { "" };
                doc.error_hint(
                    at,
                    format!("alias `{}` is already used by {first}", s.alias),
                    Some("aliases name the exported files, so each must be unique; set another `alias:`".into()),
                );
            } else {
                segments.push(s);
            }
        }
        report.push_doc(&doc);
    }
    segments.sort_by(|a, b| a.alias.cmp(&b.alias));
    Loaded { segments, broken, report }
}
