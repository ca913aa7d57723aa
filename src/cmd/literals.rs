//! Literal checks for `audience check`: an `eq`/`neq`/`in`/`not_in` value
//! on a text field that no row of the data holds is almost always a typo
//! (`tariff eq VIPP`), and the segment silently matches nobody (or
//! everybody). These are warnings: the data may simply not have the value
//! yet. Compared as the condition compares: case and accents folded unless
//! `case_sensitive`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use anyhow::Result;
use polars::prelude::*;
use serde_yaml::Value;

use crate::load::Dataset;
use crate::project::Project;
use crate::segment::ast::{Agg, Cond, Leaf, Op, Segment};
use crate::types::FieldType;
use crate::yamldoc::{index, join, scalar_text};

/// A literal no row holds: where it is, what is wrong, the hint.
pub struct Warning {
    pub file: PathBuf,
    pub path: String,
    pub message: String,
    pub hint: Option<String>,
}

/// Hints compare a literal with every distinct value; past this many the
/// hint only points at `audience values`.
const HINT_MAX_VALUES: usize = 10_000;

pub fn check(project: &Project, data: &Dataset, segments: &[&Segment]) -> Result<Vec<Warning>> {
    let mut c = Checker { project, data, values: HashMap::new(), out: Vec::new() };
    for m in &project.metrics {
        if let Some(f) = &m.def.filter {
            c.rows(&project.file, &m.def.table, f)?;
        }
    }
    for t in &data.tables {
        if let Some(f) = &t.cfg.filter {
            c.rows(&project.file, &t.cfg.name, f)?;
        }
    }
    for s in segments {
        let Some(file) = &s.file else { continue };
        if let Some(scope) = &s.scope {
            if let Some(f) = &scope.filter {
                c.rows(file, &scope.table, f)?;
            }
        }
        if let Some(f) = &s.filter {
            c.contacts(file, f)?;
        }
    }
    Ok(c.out)
}

/// The distinct values of one column: folded → the first spelling seen.
struct Values {
    folded: HashMap<String, String>,
    exact: std::collections::HashSet<String>,
    /// Spellings in order of first appearance, for hints.
    spellings: Vec<String>,
}

struct Checker<'a> {
    project: &'a Project,
    data: &'a Dataset,
    /// ("" for contacts, or a table name; column) → its values.
    values: HashMap<(String, String), Values>,
    out: Vec<Warning>,
}

impl Checker<'_> {
    fn contacts(&mut self, file: &Path, c: &Cond) -> Result<()> {
        match c {
            Cond::All(cs, _) | Cond::Any(cs, _) => cs.iter().try_for_each(|c| self.contacts(file, c)),
            Cond::Not(c, _) => self.contacts(file, c),
            Cond::Segment(..) => Ok(()),
            Cond::Field(l) => {
                if l.field == "rfm_class" {
                    return self.rfm_class(file, l);
                }
                if self.data.column_type(&l.field) == Some(FieldType::Text) && l.field != self.data.key_column {
                    let what = format!("no contact has `{}` =", l.field);
                    self.leaf(file, l, "", &l.field, &l.field, &what)?;
                }
                Ok(())
            }
            Cond::Table(agg, leaf) => {
                if let Some(f) = &agg.filter {
                    self.rows(file, &agg.table, f)?;
                }
                // `first`, `last`, `min`, `max` of a text column take one of its values.
                if matches!(agg.agg, Agg::First | Agg::Last | Agg::Min | Agg::Max) {
                    if let Some(field) = &agg.field {
                        if self.data.table(&agg.table).and_then(|t| t.column_type(field)) == Some(FieldType::Text) {
                            let what = format!("no row of {} has `{field}` =", agg.table);
                            self.leaf(file, leaf, &agg.table, field, &format!("{}.{field}", agg.table), &what)?;
                        }
                    }
                }
                Ok(())
            }
        }
    }

    /// A condition over a table's rows (a `where`).
    fn rows(&mut self, file: &Path, table: &str, c: &Cond) -> Result<()> {
        match c {
            Cond::All(cs, _) | Cond::Any(cs, _) => cs.iter().try_for_each(|c| self.rows(file, table, c)),
            Cond::Not(c, _) => self.rows(file, table, c),
            Cond::Field(l) => {
                let Some(t) = self.data.table(table) else { return Ok(()) };
                if t.column_type(&l.field) == Some(FieldType::Text) && l.field != t.cfg.source.key {
                    let what = format!("no row of {table} has `{}` =", l.field);
                    self.leaf(file, l, table, &l.field, &format!("{table}.{}", l.field), &what)?;
                }
                Ok(())
            }
            Cond::Table(..) | Cond::Segment(..) => Ok(()),
        }
    }

    fn rfm_class(&mut self, file: &Path, l: &Leaf) -> Result<()> {
        let Ok(classes) = &self.project.rfm.classes else { return Ok(()) };
        let names: Vec<String> = classes.iter().map(|c| c.name.clone()).collect();
        let values = Values::from_cells(names.iter().map(|n| Some(n.as_str())));
        for (lit, path) in literals(l) {
            if !values.holds(&lit, l.case_sensitive) {
                let hint = crate::diag::did_you_mean(&lit, values.spellings.iter().map(String::as_str))
                    .unwrap_or_else(|| format!("the classes of `rfm.classes` ({}): {}", self.project.rfm.classes_name, names.join(", ")));
                self.out.push(Warning {
                    file: file.to_path_buf(),
                    path,
                    message: format!("`{lit}` is not an RFM class, so {}", effect(l.op)),
                    hint: Some(hint),
                });
            }
        }
        Ok(())
    }

    fn leaf(&mut self, file: &Path, l: &Leaf, table: &str, column: &str, field: &str, what: &str) -> Result<()> {
        let lits = literals(l);
        if lits.is_empty() {
            return Ok(());
        }
        let key = (table.to_string(), column.to_string());
        if !self.values.contains_key(&key) {
            let v = self.read(table, column)?;
            self.values.insert(key.clone(), v);
        }
        let values = &self.values[&key];
        for (lit, path) in lits {
            if values.holds(&lit, l.case_sensitive) {
                continue;
            }
            let near = if values.spellings.len() <= HINT_MAX_VALUES { crate::diag::nearest(&lit, values.spellings.iter().map(String::as_str)) } else { None };
            let hint = match near {
                Some(v) => format!("did you mean `{v}`? (`audience values {field}` lists them)"),
                None => format!("`audience values {field}` lists the values the data holds"),
            };
            let message = format!("{what} `{lit}`, so {}", effect(l.op));
            self.out.push(Warning { file: file.to_path_buf(), path, message, hint: Some(hint) });
        }
        Ok(())
    }

    fn read(&self, table: &str, column: &str) -> Result<Values> {
        let df = if table.is_empty() {
            self.data.contacts.select([column])?
        } else {
            let t = self.data.table(table).expect("a table the caller found");
            crate::exec::run_in_memory(t.lf.clone().select([col(column)]).unique_stable(None, UniqueKeepStrategy::First))?
        };
        let ca = df.columns()[0].str()?.clone();
        Ok(Values::from_cells(ca.iter()))
    }
}

impl Values {
    fn from_cells<'a>(cells: impl Iterator<Item = Option<&'a str>>) -> Values {
        let mut v = Values { folded: HashMap::new(), exact: Default::default(), spellings: Vec::new() };
        for s in cells.flatten() {
            if v.exact.insert(s.to_string()) {
                v.spellings.push(s.to_string());
            }
            v.folded.entry(crate::text::fold(s)).or_insert_with(|| s.to_string());
        }
        v
    }

    fn holds(&self, lit: &str, case_sensitive: bool) -> bool {
        if case_sensitive {
            self.exact.contains(lit)
        } else {
            self.folded.contains_key(&crate::text::fold(lit))
        }
    }
}

/// The text literals an equality test names, with their YAML paths.
fn literals(l: &Leaf) -> Vec<(String, String)> {
    let value_path = join(&l.path, "value");
    let text = |v: &Value| match v {
        Value::Bool(_) | Value::Null => None,
        other => scalar_text(other),
    };
    match (l.op, &l.value) {
        (Op::Eq | Op::Neq, Some(v)) => text(v).map(|t| vec![(t, value_path)]).unwrap_or_default(),
        (Op::In | Op::NotIn, Some(Value::Sequence(items))) => {
            items.iter().enumerate().filter_map(|(i, v)| text(v).map(|t| (t, index(&value_path, i)))).collect()
        }
        _ => Vec::new(),
    }
}

/// What a test does with a literal no row holds.
fn effect(op: Op) -> &'static str {
    match op {
        Op::Eq => "this `eq` never holds",
        Op::Neq => "this `neq` always holds",
        Op::In => "this value of `in` never matches",
        _ => "this value of `not_in` never excludes anyone",
    }
}
