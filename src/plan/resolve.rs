//! Resolution: the project, the segment ASTs and the data's schema become a
//! [`Plan`], or every problem found along the way, each at its place.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;

use chrono::NaiveDate;

use super::{
    leaf, AggDef, AggId, AggKind, Aggregate, ClusterInputs, Column, ColumnValue, Export, KeySet, Leaf, ListFile, Operand, Plan, Pred, RfmInputs, Scope,
    ScopeId, SegmentPlan, Suppress, Value,
};
use crate::diag::{CResult, CompileError};
use crate::load::{read_key_list, Dataset, TableData, KEY};
use crate::project::Project;
use crate::segment::ast::{self, Agg, Channel, Cond, KeyList, Op, Preset, Purpose, Segment};
use crate::types::FieldType;

/// A problem and the file it is in (None: the project file).
pub type Located = (Option<PathBuf>, CompileError);

pub const BUILTINS: &[(&str, FieldType)] = &[
    ("order_count", FieldType::Int),
    ("total_spent", FieldType::Float),
    ("avg_order_value", FieldType::Float),
    ("first_order_date", FieldType::Date),
    ("last_order_date", FieldType::Date),
    ("days_since_last_order", FieldType::Int),
];

pub const RFM_FIELDS: &[(&str, FieldType)] = &[
    ("rfm_recency", FieldType::Int),
    ("rfm_frequency", FieldType::Int),
    ("rfm_monetary", FieldType::Int),
    ("rfm_score", FieldType::Text),
    ("rfm_class", FieldType::Text),
];

/// What the caller wants resolved beyond membership.
#[derive(Default, Clone, Copy)]
pub struct Request {
    /// The columns of each requested segment's list.
    pub export_columns: bool,
    /// Read the suppress files (`check` reads them once, apart).
    pub suppress: bool,
}

/// Resolves names and aggregates; shared by the segments of one plan so
/// that each aggregate is computed once.
pub struct Resolver<'a> {
    pub data: &'a Dataset,
    pub project: &'a Project,
    pub as_of: NaiveDate,
    aggs: Vec<AggDef>,
    agg_ids: HashMap<Aggregate, AggId>,
    scopes: Vec<Scope>,
    scope_ids: HashMap<Scope, ScopeId>,
    rfm: Option<RfmInputs>,
    clusters: Option<ClusterInputs>,
    /// Errors found beside the one a call returns (siblings in an
    /// `all`/`any`); the caller reports them too.
    pub deferred: Vec<CompileError>,
}

impl<'a> Resolver<'a> {
    pub fn new(data: &'a Dataset, project: &'a Project) -> Self {
        Resolver {
            data,
            project,
            as_of: project.as_of,
            aggs: Vec::new(),
            agg_ids: HashMap::new(),
            scopes: Vec::new(),
            scope_ids: HashMap::new(),
            rfm: None,
            clusters: None,
            deferred: Vec::new(),
        }
    }

    fn table(&self, name: &str, path: &str) -> CResult<&'a TableData> {
        self.data.table(name).ok_or_else(|| {
            let names: Vec<&str> = self.data.tables.iter().map(|t| t.cfg.name.as_str()).collect();
            let hint = crate::diag::did_you_mean(name, names.iter().copied()).unwrap_or_else(|| format!("tables: {}", names.join(", ")));
            CompileError::new(path, format!("no table `{name}` in audience.yaml")).hint(hint)
        })
    }

    /// Registers a segment's scope; returns its id and the test that a
    /// contact is a candidate (has a row in it).
    pub fn scope(&mut self, s: &ast::Scope) -> CResult<(ScopeId, Pred)> {
        let t = self.table(&s.table, &format!("{}.table", s.path))?;
        let filter = match &s.filter {
            Some(c) => Some(self.row_cond(t, c)?),
            None => None,
        };
        let scope = Scope { table: s.table.clone(), filter };
        let id = match self.scope_ids.get(&scope) {
            Some(id) => *id,
            None => {
                self.scopes.push(scope.clone());
                self.scope_ids.insert(scope, self.scopes.len() - 1);
                self.scopes.len() - 1
            }
        };
        let rows = self.add_agg(Aggregate { table: s.table.clone(), scope: Some(id), kind: AggKind::Rows }, FieldType::Int);
        let test = super::Test::Compare { op: super::CmpOp::Gt, bound: super::Bound::Num(super::Num::new(0.0)) };
        Ok((id, Pred::Leaf(Leaf { value: Value { operand: Operand::Agg(rows), ty: FieldType::Int }, test })))
    }

    fn scope_for(&self, table: &str, scope: Option<ScopeId>) -> Option<ScopeId> {
        scope.filter(|id| self.scopes[*id].table == table)
    }

    fn add_agg(&mut self, agg: Aggregate, ty: FieldType) -> AggId {
        if let Some(id) = self.agg_ids.get(&agg) {
            return *id;
        }
        self.aggs.push(AggDef { agg: agg.clone(), ty });
        self.agg_ids.insert(agg, self.aggs.len() - 1);
        self.aggs.len() - 1
    }

    fn value(&mut self, table: &str, scope: Option<ScopeId>, kind: AggKind, ty: FieldType) -> Value {
        let id = self.add_agg(Aggregate { table: table.into(), scope, kind }, ty);
        Value { operand: Operand::Agg(id), ty }
    }

    /// A named aggregate (metric or table condition) over the contact's rows.
    pub fn agg(&mut self, def: &ast::AggDef, scope: Option<ScopeId>) -> CResult<Value> {
        let t = self.table(&def.table, &format!("{}.table", def.path))?;
        let field_ty = match &def.field {
            Some(f) => Some(t.column_type(f).ok_or_else(|| {
                let names: Vec<&str> = t.columns.iter().map(|(n, _)| n.as_str()).collect();
                let hint = crate::diag::did_you_mean(f, names.iter().copied()).unwrap_or_else(|| format!("columns of `{}`: {}", def.table, names.join(", ")));
                CompileError::new(&format!("{}.field", def.path), format!("table `{}` has no column `{f}`", def.table)).hint(hint)
            })?),
            None => None,
        };
        let ty = match (def.agg, field_ty) {
            (Agg::Count | Agg::CountDistinct, _) => FieldType::Int,
            (Agg::Sum, Some(t)) if t.is_number() => t,
            (Agg::Avg, Some(t)) if t.is_number() => FieldType::Float,
            (Agg::Sum | Agg::Avg, Some(t)) => {
                return Err(CompileError::new(
                    &format!("{}.field", def.path),
                    format!("agg `{}` needs a number column; `{}` is {}", def.agg.name(), def.field.as_deref().unwrap_or(""), t.name()),
                ))
            }
            (Agg::First | Agg::Last, _) if t.cfg.date.is_none() => {
                return Err(CompileError::new(
                    &format!("{}.agg", def.path),
                    format!("agg `{}` needs the table `{}` to have a `date` column in audience.yaml", def.agg.name(), def.table),
                ))
            }
            (_, Some(t)) => t,
            (_, None) => FieldType::Int,
        };
        let filter = match &def.filter {
            Some(c) => Some(self.row_cond(t, c)?),
            None => None,
        };
        let scope = self.scope_for(&def.table, scope);
        Ok(self.value(&def.table, scope, AggKind::Of { agg: def.agg, field: def.field.clone(), filter }, ty))
    }

    /// A built-in metric over the `orders` table.
    fn builtin(&mut self, name: &str, scope: Option<ScopeId>, path: &str) -> CResult<Value> {
        let table = "orders";
        let t = self.data.table(table).ok_or_else(|| {
            CompileError::new(path, format!("`{name}` is computed from a table named `{table}`, and the project has none"))
                .hint("add it under `tables:` in audience.yaml")
        })?;
        let scope = self.scope_for(table, scope);
        let need = |what: &str, has: bool| -> CResult<()> {
            if has {
                Ok(())
            } else {
                Err(CompileError::new(path, format!("`{name}` needs table `{table}` to name its `{what}` column in audience.yaml")))
            }
        };
        Ok(match name {
            "order_count" => self.value(table, scope, AggKind::Orders, FieldType::Int),
            "total_spent" => {
                need("amount", t.cfg.amount.is_some())?;
                self.value(table, scope, AggKind::Spent, FieldType::Float)
            }
            "avg_order_value" => {
                need("amount", t.cfg.amount.is_some())?;
                let total = self.add_agg(Aggregate { table: table.into(), scope, kind: AggKind::Spent }, FieldType::Float);
                let count = self.add_agg(Aggregate { table: table.into(), scope, kind: AggKind::Orders }, FieldType::Int);
                Value { operand: Operand::Ratio { total, count }, ty: FieldType::Float }
            }
            "first_order_date" | "last_order_date" => {
                need("date", t.cfg.date.is_some())?;
                let kind = if name == "first_order_date" { AggKind::FirstDate } else { AggKind::LastDate };
                self.value(table, scope, kind, FieldType::Date)
            }
            "days_since_last_order" => {
                need("date", t.cfg.date.is_some())?;
                let last = self.add_agg(Aggregate { table: table.into(), scope, kind: AggKind::LastDate }, FieldType::Date);
                Value { operand: Operand::DaysSince(last), ty: FieldType::Int }
            }
            _ => unreachable!("not a built-in: {name}"),
        })
    }

    /// The inputs of RFM: unscoped frequency, monetary and latest date over the RFM table.
    pub fn rfm_inputs(&mut self) -> CResult<RfmInputs> {
        let table = self.project.rfm.table.clone();
        let t = self
            .data
            .table(&table)
            .ok_or_else(|| CompileError::new("rfm.table", format!("RFM needs the table `{table}`, which audience.yaml does not define")))?;
        if t.cfg.date.is_none() || t.cfg.amount.is_none() {
            return Err(CompileError::new("rfm.table", format!("RFM needs table `{table}` to name its `date` and `amount` columns")));
        }
        let agg = |kind| Aggregate { table: table.clone(), scope: None, kind };
        let inputs = RfmInputs {
            frequency: self.add_agg(agg(AggKind::Orders), FieldType::Int),
            monetary: self.add_agg(agg(AggKind::Spent), FieldType::Float),
            last_date: self.add_agg(agg(AggKind::LastDate), FieldType::Date),
        };
        self.rfm = Some(inputs);
        Ok(inputs)
    }

    /// The features and the `only` condition of `clusters:`, each feature
    /// a numeric field over every order (unscoped).
    pub fn cluster_inputs(&mut self) -> CResult<ClusterInputs> {
        if let Some(c) = &self.clusters {
            return Ok(c.clone());
        }
        let Some(cfg) = self.project.clusters.clone() else {
            return Err(CompileError::new("clusters", "the field `cluster` needs a `clusters:` section in audience.yaml, and there is none")
                .hint("add one such as `clusters: {features: [order_count, total_spent], k: 4}`; `audience clusters` then shows the model"));
        };
        let mut features = Vec::new();
        let mut errors = Vec::new();
        for (name, path) in &cfg.features {
            if name == "cluster" {
                errors.push(CompileError::new(path, "`cluster` cannot be a feature of the clusters it names"));
                continue;
            }
            match self.field(name, None, path) {
                Ok(v) if matches!(v.ty, FieldType::Int | FieldType::Float) => features.push((name.clone(), v)),
                Ok(v) => errors.push(
                    CompileError::new(path, format!("feature `{name}` is {}, and clusters are fitted on numbers", v.ty.name()))
                        .hint("choose numeric fields (int or float): counts, amounts, days since, scores"),
                ),
                Err(e) => errors.push(e),
            }
        }
        let only = match &cfg.only {
            Some(c) if refers_to_segment_or_cluster(c) => {
                errors.push(
                    CompileError::new("clusters.only", "`clusters.only` cannot refer to a segment or to `cluster`")
                        .hint("write the condition itself, on fields"),
                );
                None
            }
            Some(c) => match self.cond(c, None) {
                Ok(p) => Some(p),
                Err(e) => {
                    errors.push(e);
                    errors.append(&mut self.deferred);
                    None
                }
            },
            None => None,
        };
        let mut errors = errors.into_iter();
        if let Some(first) = errors.next() {
            self.deferred.extend(errors);
            return Err(first);
        }
        let inputs = ClusterInputs { features, only };
        self.clusters = Some(inputs.clone());
        Ok(inputs)
    }

    /// [`Resolver::cluster_inputs`] with every problem, for `check`.
    pub fn cluster_inputs_checked(mut self) -> Result<ClusterInputs, Vec<CompileError>> {
        self.cluster_inputs().map_err(|e| std::iter::once(e).chain(self.deferred).collect())
    }

    /// A contact-level field by name, in a segment's scope.
    pub fn field(&mut self, name: &str, scope: Option<ScopeId>, path: &str) -> CResult<Value> {
        if let Some(ty) = self.data.column_type(name) {
            return Ok(Value { operand: Operand::Contact(name.to_string()), ty });
        }
        if BUILTINS.iter().any(|(n, _)| *n == name) {
            return self.builtin(name, scope, path);
        }
        if let Some(m) = self.project.metrics.iter().find(|m| m.name == name) {
            let def = m.def.clone();
            return self.agg(&def, scope);
        }
        if let Some((n, ty)) = RFM_FIELDS.iter().find(|(n, _)| *n == name) {
            self.rfm_inputs()?;
            return Ok(Value { operand: Operand::Rfm(n), ty: *ty });
        }
        if name == "cluster" {
            self.cluster_inputs()?;
            return Ok(Value { operand: Operand::Cluster, ty: FieldType::Int });
        }
        let names = self.field_names();
        let hint = crate::diag::did_you_mean(name, names.iter().map(String::as_str)).unwrap_or_else(|| "run `audience fields` to list every field".into());
        Err(CompileError::new(path, format!("no field `{name}`: it is not a contacts column, a built-in metric, an RFM field or a metric")).hint(hint))
    }

    pub fn field_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.data.columns.iter().map(|(n, _)| n.clone()).collect();
        names.extend(BUILTINS.iter().map(|(n, _)| n.to_string()));
        names.extend(self.project.metrics.iter().map(|m| m.name.clone()));
        names.extend(RFM_FIELDS.iter().map(|(n, _)| n.to_string()));
        if self.project.clusters.is_some() {
            names.push("cluster".into());
        }
        names
    }

    /// A condition over one table's rows (a table's or a scope's `where`).
    pub fn row_cond(&self, t: &TableData, c: &Cond) -> CResult<Pred> {
        match c {
            Cond::All(cs, _) => Ok(Pred::all(cs.iter().map(|c| self.row_cond(t, c)).collect::<CResult<_>>()?)),
            Cond::Any(cs, _) => Ok(Pred::any(cs.iter().map(|c| self.row_cond(t, c)).collect::<CResult<_>>()?)),
            Cond::Not(c, _) => Ok(Pred::not(self.row_cond(t, c)?)),
            Cond::Field(l) if matches!(l.op, Op::Top | Op::Bottom) => Err(CompileError::new(
                &format!("{}.op", l.path),
                format!("`{}` ranks contacts, not a table's rows; it cannot stand inside a `where` over `{}`", l.op.name(), t.cfg.name),
            )
            .hint("rank a contact field or a metric, or a table condition's aggregate (`agg: sum`, `op: top`)")),
            Cond::Field(l) => {
                let ty = t.column_type(&l.field).ok_or_else(|| {
                    let names: Vec<&str> = t.columns.iter().map(|(n, _)| n.as_str()).collect();
                    let hint = crate::diag::did_you_mean(&l.field, names.iter().copied())
                        .unwrap_or_else(|| format!("columns of `{}`: {}", t.cfg.name, names.join(", ")));
                    CompileError::new(&format!("{}.field", l.path), format!("table `{}` has no column `{}`", t.cfg.name, l.field)).hint(hint)
                })?;
                let name = if l.field == t.cfg.source.key { KEY } else { l.field.as_str() };
                let section = format!("tables: {}", t.cfg.name);
                let value = Value { operand: Operand::Row(name.to_string()), ty };
                leaf::pred(value, &l.field, l, self.as_of).map_err(|e| e.declared_in(Some(&section), &l.field))
            }
            Cond::Table(a, _) => Err(CompileError::new(&a.path, "a table condition cannot stand inside a table's `where`")),
            Cond::Segment(_, p) => Err(CompileError::new(p, "a segment reference cannot stand inside a table's `where`")),
        }
    }

    /// A contact-level condition. Every mistake among the children of an
    /// `all`/`any` is found: the first is returned, the others deferred.
    pub fn cond(&mut self, c: &Cond, scope: Option<ScopeId>) -> CResult<Pred> {
        match c {
            Cond::All(cs, _) | Cond::Any(cs, _) => {
                let all = matches!(c, Cond::All(..));
                let mut parts = Vec::with_capacity(cs.len());
                let mut errors = Vec::new();
                for c in cs {
                    match self.cond(c, scope) {
                        Ok(p) => parts.push(p),
                        Err(e) => errors.push(e),
                    }
                }
                let mut errors = errors.into_iter();
                match errors.next() {
                    None if all => Ok(Pred::all(parts)),
                    None => Ok(Pred::any(parts)),
                    Some(first) => {
                        self.deferred.extend(errors);
                        Err(first)
                    }
                }
            }
            Cond::Not(c, _) => Ok(Pred::not(self.cond(c, scope)?)),
            Cond::Field(l) => {
                let value = self.field(&l.field, scope, &format!("{}.field", l.path))?;
                let is_column = self.data.column_type(&l.field).is_some();
                leaf::pred(value, &l.field, l, self.as_of).map_err(|e| e.declared_in(is_column.then_some("contacts"), &l.field))
            }
            Cond::Table(def, l) => {
                let value = self.agg(def, scope)?;
                let label = format!("{}({})", def.agg.name(), def.field.as_deref().unwrap_or(&def.table));
                // first/last/min/max keep the column's type, which its table declares.
                let section = matches!(def.agg, Agg::First | Agg::Last | Agg::Min | Agg::Max).then(|| format!("tables: {}", def.table));
                let column = def.field.clone().unwrap_or_default();
                leaf::pred(value, &label, l, self.as_of).map_err(|e| e.declared_in(section.as_deref(), &column))
            }
            Cond::Segment(alias, _) => Ok(Pred::Member(alias.clone())),
        }
    }

    /// A plan of no segment that computes the values resolved so far (for
    /// `fields`, `values`, `rfm`); `resolve` adds the segments. The `where`
    /// of every table an aggregate reads is resolved here.
    pub fn into_plan(self) -> CResult<Plan> {
        let mut table_filters: Vec<(String, Option<Pred>)> = Vec::new();
        for a in &self.aggs {
            if !table_filters.iter().any(|(t, _)| *t == a.agg.table) {
                let t = self.table(&a.agg.table, "tables")?;
                table_filters.push((a.agg.table.clone(), table_filter(self.data, self.project, t)?));
            }
        }
        Ok(Plan {
            as_of: self.as_of,
            aggs: self.aggs,
            scopes: self.scopes,
            table_filters,
            rfm: self.rfm,
            clusters: self.clusters,
            segments: Vec::new(),
            requested: Vec::new(),
            suppress: Suppress::default(),
            consent: None,
            sms_consent: None,
        })
    }
}

fn refers_to_segment_or_cluster(c: &Cond) -> bool {
    let mut found = false;
    c.walk(&mut |c| found |= matches!(c, Cond::Segment(..)) || matches!(c, Cond::Field(l) if l.field == "cluster"));
    found
}

/// A table's own `where` (the rows that count), resolved.
pub fn table_filter(data: &Dataset, project: &Project, t: &TableData) -> CResult<Option<Pred>> {
    match &t.cfg.filter {
        Some(w) => Ok(Some(Resolver::new(data, project).row_cond(t, w)?)),
        None => Ok(None),
    }
}

/// Orders `wanted` and everything they refer to so that a segment comes after
/// the ones it uses. A cycle is an error naming it.
pub fn dependency_order<'s>(all: &'s [Segment], wanted: &[&str]) -> Result<Vec<&'s Segment>, Vec<Located>> {
    let by_alias: HashMap<&str, &Segment> = all.iter().map(|s| (s.alias.as_str(), s)).collect();
    let mut order = Vec::new();
    let mut done: HashSet<&str> = HashSet::new();
    let mut errors = Vec::new();
    fn visit<'s>(
        s: &'s Segment,
        by_alias: &HashMap<&str, &'s Segment>,
        stack: &mut Vec<&'s str>,
        done: &mut HashSet<&'s str>,
        order: &mut Vec<&'s Segment>,
        errors: &mut Vec<Located>,
    ) {
        if done.contains(s.alias.as_str()) {
            return;
        }
        stack.push(&s.alias);
        for (alias, path) in s.references() {
            if let Some(pos) = stack.iter().position(|a| *a == alias) {
                // The reference that closes the loop is the one reported.
                let cycle = stack[pos..].iter().copied().chain([alias.as_str()]).collect::<Vec<_>>().join(" → ");
                errors.push((
                    s.file.clone(),
                    CompileError::new(&path, format!("segment references form a cycle: {cycle}"))
                        .hint("a segment cannot include itself through other segments; remove one reference"),
                ));
                continue;
            }
            match by_alias.get(alias.as_str()) {
                Some(r) => visit(r, by_alias, stack, done, order, errors),
                None => {
                    let names: Vec<&str> = by_alias.keys().copied().collect();
                    let hint = crate::diag::did_you_mean(&alias, names.iter().copied()).unwrap_or_else(|| "run `audience count` to list the segments".into());
                    errors.push((s.file.clone(), CompileError::new(&path, format!("no segment with alias `{alias}`")).hint(hint)));
                }
            }
        }
        stack.pop();
        if errors.is_empty() && done.insert(&s.alias) {
            order.push(s);
        }
    }
    for w in wanted {
        if let Some(s) = by_alias.get(w) {
            let mut stack = Vec::new();
            visit(s, &by_alias, &mut stack, &mut done, &mut order, &mut errors);
        }
    }
    if errors.is_empty() {
        Ok(order)
    } else {
        Err(errors)
    }
}

/// Which file a problem belongs to: project-level definitions (metrics,
/// tables, rfm) are in audience.yaml.
pub fn locate_file(s: &Segment, e: &CompileError) -> Option<PathBuf> {
    if ["metrics.", "tables.", "rfm.", "clusters"].iter().any(|p| e.path.starts_with(p)) {
        None
    } else {
        s.file.clone()
    }
}

/// Resolves the `requested` segments of `all` (and those they refer to)
/// into one plan.
/// Things worth telling that are no error (keys that are no contact…) go
/// to `notes`, whether or not the plan resolves.
pub fn resolve(
    project: &Project,
    data: &Dataset,
    all: &[Segment],
    requested: &[&Segment],
    want: Request,
    notes: &mut Vec<String>,
) -> Result<Plan, Vec<Located>> {
    let wanted: Vec<&str> = requested.iter().map(|s| s.alias.as_str()).collect();
    let order = dependency_order(all, &wanted)?;
    let mut r = Resolver::new(data, project);
    let mut errors: Vec<Located> = Vec::new();
    let mut segments: Vec<SegmentPlan> = Vec::new();
    let mut scopes: HashMap<&str, Option<ScopeId>> = HashMap::new();
    for s in &order {
        let scope = match &s.scope {
            Some(sc) => match r.scope(sc) {
                Ok(found) => Some(found),
                Err(e) => {
                    errors.push((locate_file(s, &e), e));
                    continue;
                }
            },
            None => None,
        };
        let filter = match &s.filter {
            Some(c) => match r.cond(c, scope.as_ref().map(|(id, _)| *id)) {
                Ok(p) => Some(p),
                Err(e) => {
                    for e in std::iter::once(e).chain(r.deferred.drain(..).collect::<Vec<_>>()) {
                        errors.push((locate_file(s, &e), e));
                    }
                    continue;
                }
            },
            None => None,
        };
        let (scope_id, candidate) = match scope {
            Some((id, cand)) => (Some(id), Some(cand)),
            None => (None, None),
        };
        let base = match (filter, candidate) {
            (Some(f), Some(cand)) => Pred::all(vec![f, cand]),
            (Some(f), None) => f,
            (None, Some(cand)) => cand,
            (None, None) => Pred::Const(false),
        };
        let mut list = |keys: &KeyList, what: &str| match key_list(data, project, keys, notes, what, &s.alias) {
            Ok(k) => k,
            Err(e) => {
                errors.push((s.file.clone(), e));
                None
            }
        };
        let include = list(&s.include, "include");
        let exclude = list(&s.exclude, "exclude");
        // An empty file stays a test: its relation in a warehouse may hold keys.
        let keyed = |keys: Option<KeySet>| match keys {
            Some(k) if !k.keys.is_empty() || k.file.is_some() => Pred::Keys(k),
            _ => Pred::Const(false),
        };
        let members = Pred::all(vec![Pred::any(vec![base, keyed(include)]), Pred::not(keyed(exclude))]);
        scopes.insert(&s.alias, scope_id);
        segments.push(SegmentPlan {
            alias: s.alias.clone(),
            purpose: s.purpose,
            channel: s.channel,
            members,
            groups: s.export.groups.clone(),
            groups_salt: s.export.groups_salt.clone().unwrap_or_else(|| s.alias.clone()),
            export: None,
        });
    }
    for s in requested.iter().filter(|s| s.channel == Channel::Sms && data.channels.phone.is_none()) {
        let e = CompileError::new("channel", "`channel: sms` needs the project's phone column, and audience.yaml names none")
            .hint("name it under contacts, such as `phone: mobile`, with `phone_region: FR` for numbers written without +");
        errors.push((locate_file(s, &e), e));
    }
    if want.export_columns {
        for s in requested {
            let scope = scopes.get(s.alias.as_str()).copied().flatten();
            let columns = match export_columns(&mut r, s, scope) {
                Ok(c) => c,
                Err(e) => {
                    errors.extend(e.into_iter().map(|e| (locate_file(s, &e), e)));
                    Vec::new()
                }
            };
            let mut split = None;
            if let Some((field, path)) = &s.export.split_by {
                match r.field(field, scope, path) {
                    Ok(v) => split = Some(v),
                    Err(e) => errors.push((locate_file(s, &e), e)),
                }
            }
            if let Some(p) = segments.iter_mut().find(|p| p.alias == s.alias) {
                p.export = Some(Export { columns, split });
            }
        }
    }
    // Unreadable suppress files are reported with the other mistakes.
    let suppress = if want.suppress {
        match suppress_lists(data, project) {
            Ok(s) => s,
            Err(e) => {
                errors.extend(e);
                Suppress::default()
            }
        }
    } else {
        Suppress::default()
    };
    let plan = match r.into_plan() {
        Ok(plan) => plan,
        Err(e) => {
            errors.push((None, e));
            return Err(errors);
        }
    };
    if !errors.is_empty() {
        return Err(errors);
    }
    let email_consent = consent(data, project, notes, requested, Channel::Email);
    let sms_consent = consent(data, project, notes, requested, Channel::Sms);
    let requested = requested.iter().filter_map(|s| segments.iter().position(|p| p.alias == s.alias)).collect();
    Ok(Plan { segments, requested, suppress, consent: email_consent, sms_consent, ..plan })
}

/// The keys of an `include` or `exclude`; a list file that cannot be read
/// is an error at its `file:` entry.
fn key_list(data: &Dataset, project: &Project, list: &KeyList, notes: &mut Vec<String>, what: &str, alias: &str) -> CResult<Option<KeySet>> {
    let keys = match list {
        KeyList::None => return Ok(None),
        KeyList::Inline(k) => KeySet { keys: k.iter().map(|k| data.normalize_key(k)).collect(), file: None },
        KeyList::File(p) => {
            let (keys, column) = read_key_list(p, data, &project.csv).map_err(|e| {
                CompileError::new(&format!("{what}.file"), format!("cannot read the `{what}` list: {e:#}"))
                    .hint("the path is relative to the segment file's folder")
            })?;
            KeySet { keys, file: Some(ListFile { path: p.clone(), column }) }
        }
    };
    if what == "include" && !keys.keys.is_empty() {
        let missing = data.unknown_keys(&keys.keys);
        if missing > 0 {
            notes.push(format!("segment `{alias}`: {missing} `include` key(s) are no contact and were ignored"));
        }
    }
    Ok(Some(keys))
}

/// The keys of every suppress file; one that cannot be read is an error at
/// its entry in audience.yaml.
pub fn suppress_lists(data: &Dataset, project: &Project) -> Result<Suppress, Vec<Located>> {
    let mut out = Suppress::default();
    let mut errors = Vec::new();
    for s in &project.suppress {
        let keys = match read_key_list(&s.path, data, &project.csv) {
            Ok((keys, column)) => KeySet { keys, file: Some(ListFile { path: s.path.clone(), column }) },
            Err(e) => {
                errors.push((
                    None,
                    CompileError::new(&s.at, format!("cannot read the suppress file: {e:#}")).hint("the path is relative to the folder of audience.yaml"),
                ));
                continue;
            }
        };
        match s.purpose {
            None => out.all.push(keys),
            Some(Purpose::Marketing) => out.marketing.push(keys),
            Some(Purpose::Informational) => out.informational.push(keys),
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

/// The consent test of a channel: its column read as true/false. None when
/// the project names no such column (noted when a marketing segment needs it).
fn consent(data: &Dataset, project: &Project, notes: &mut Vec<String>, requested: &[&Segment], channel: Channel) -> Option<Leaf> {
    let column = if channel == Channel::Sms { &data.channels.sms_consent } else { &data.consent };
    let Some(c) = column else {
        let what = if channel == Channel::Sms {
            "no SMS consent column is set (contacts.consent: {sms: …}); marketing SMS segments are exported without a consent filter"
        } else {
            "no consent column is set (contacts.consent); marketing segments are exported without a consent filter"
        };
        if requested.iter().any(|s| s.channel == channel && s.purpose == Purpose::Marketing) {
            notes.push(what.into());
        }
        return None;
    };
    let ty = data.column_type(c).unwrap_or(FieldType::Text);
    let leaf = ast::Leaf { field: c.clone(), op: Op::IsTrue, value: None, case_sensitive: false, path: String::new() };
    let value = Value { operand: Operand::Contact(c.clone()), ty };
    // A column that cannot be read as true/false gives no one consent.
    match leaf::pred(value.clone(), c, &leaf, project.as_of) {
        Ok(Pred::Leaf(l)) => Some(l),
        _ => Some(Leaf { value, test: super::Test::Truth(vec![]) }),
    }
}

/// The columns of a segment's list, headed as exported: a preset's first,
/// then `export.columns` (every contact column without it), then `rename`
/// over the headers. Every problem is reported.
fn export_columns(r: &mut Resolver, s: &Segment, scope: Option<ScopeId>) -> Result<Vec<Column>, Vec<CompileError>> {
    let data = r.data;
    let ex = &s.export;
    let mut errors = Vec::new();
    let preset = match ex.preset {
        Some(p) => match preset_columns(data, p, s) {
            Ok(cols) => Some(cols),
            Err(e) => {
                errors.extend(e);
                None
            }
        },
        None => None,
    };
    let ch = &data.channels;
    let names: Vec<(String, String)> = match (&ex.columns, &preset) {
        (Some(c), _) => c.clone(),
        // A preset alone exports its own columns.
        (None, Some(_)) => Vec::new(),
        (None, None) => {
            let mut all: Vec<(String, String)> = data.columns.iter().map(|(n, _)| (n.clone(), String::new())).collect();
            // An address apart from the key comes right after it.
            if let Some(at) = ch.address.as_ref().and_then(|a| all.iter().position(|(n, _)| n == a)) {
                let address = all.remove(at);
                all.insert(1.min(all.len()), address);
            }
            all
        }
    };
    let mut out: Vec<Column> = Vec::new();
    let mut rest: Vec<Column> = Vec::new();
    let used: Vec<String> = preset.as_ref().map(|p| p.sources.clone()).unwrap_or_default();
    for (name, path) in &names {
        // A preset already carries the key and its name columns.
        if used.contains(name) {
            continue;
        }
        let value = if name == "group" && !ex.groups.is_empty() {
            ColumnValue::Group
        } else if s.channel == Channel::Sms && ch.phone.as_ref() == Some(name) {
            // SMS lists carry the number as the platform sends to it.
            ColumnValue::Phone
        } else if ch.address.as_ref() == Some(name) {
            ColumnValue::Address
        } else {
            match r.field(name, scope, path) {
                Ok(v) => ColumnValue::Field(v),
                Err(e) => {
                    errors.push(e);
                    continue;
                }
            }
        };
        rest.push(Column { header: name.clone(), value });
    }
    match preset {
        Some(p) if p.attributes => {
            out.extend(p.columns);
            out.push(Column { header: "attributes".into(), value: ColumnValue::Json(rest) });
        }
        Some(p) => {
            out.extend(p.columns);
            out.extend(rest);
        }
        None => out = rest,
    }
    for (from, to) in &ex.rename {
        match out.iter_mut().find(|c| c.header == *from) {
            Some(c) => c.header = to.clone(),
            None => errors.push(
                CompileError::new(&format!("export.rename.{from}"), format!("`rename` names `{from}`, which is not an exported column"))
                    .hint("rename keys must be columns listed in export.columns (or contact columns when it is absent), or a preset's headers"),
            ),
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

/// A preset's leading columns, the contact columns they draw on, and
/// whether the other columns go into one JSON `attributes` column.
struct PresetColumns {
    columns: Vec<Column>,
    sources: Vec<String>,
    attributes: bool,
}

fn preset_name(p: Preset) -> &'static str {
    crate::segment::ast::PRESETS.iter().find(|(_, q)| *q == p).map(|(n, _)| *n).unwrap_or("?")
}

/// The columns a mailer preset puts first, and the contact columns they
/// draw on. A name without a source is an error at `export.preset`.
fn preset_columns(data: &Dataset, preset: Preset, s: &Segment) -> Result<PresetColumns, Vec<CompileError>> {
    let ex = &s.export;
    let mut errors = Vec::new();
    let mut sources = vec![data.key_column.clone()];
    sources.extend(data.channels.address.clone());
    let contact = |c: &str| ColumnValue::Field(Value { operand: Operand::Contact(c.to_string()), ty: data.column_type(c).unwrap_or(FieldType::Text) });
    let mut source = |name: &str, required: bool, errors: &mut Vec<CompileError>| -> Option<ColumnValue> {
        let (column, path) = match ex.preset_columns.iter().find(|(n, _, _)| n == name) {
            Some((_, c, p)) => (c.clone(), p.clone()),
            None => (name.to_string(), "export.preset".to_string()),
        };
        if data.column_type(&column).is_some() {
            sources.push(column.clone());
            return Some(contact(&column));
        }
        if required {
            let said =
                if path == "export.preset" { format!("no contacts column is called `{name}`") } else { format!("the contacts have no column `{column}`") };
            let names: Vec<&str> = data.columns.iter().map(|(n, _)| n.as_str()).collect();
            let hint = if path == "export.preset" {
                format!("name the contacts column that holds it in `export.preset_columns: {{{name}: …}}`")
            } else {
                crate::diag::did_you_mean(&column, names.iter().copied()).unwrap_or_else(|| format!("contacts columns: {}", names.join(", ")))
            };
            errors.push(CompileError::new(&path, format!("preset `{}` needs a {name} column, and {said}", preset_name(preset))).hint(hint));
        }
        None
    };
    let email = || if data.channels.address.is_some() { ColumnValue::Address } else { contact(&data.key_column) };
    let col = |header: &str, value: ColumnValue| Column { header: header.into(), value };
    let mut columns = Vec::new();
    let mut attributes = false;
    match preset {
        Preset::Mailchimp | Preset::Brevo => {
            let first = source("first_name", true, &mut errors);
            let last = source("last_name", true, &mut errors);
            let heads = if preset == Preset::Mailchimp { ["Email Address", "First Name", "Last Name"] } else { ["EMAIL", "FIRSTNAME", "LASTNAME"] };
            if let (Some(first), Some(last)) = (first, last) {
                columns = vec![col(heads[0], email()), col(heads[1], first), col(heads[2], last)];
                // Brevo takes the mobile number too, in E.164.
                if let (Preset::Brevo, Some(phone)) = (preset, &data.channels.phone) {
                    columns.push(col("SMS", ColumnValue::Phone));
                    sources.push(phone.clone());
                }
            }
        }
        Preset::Listmonk => {
            let name = match source("name", false, &mut errors) {
                Some(n) => Some(n),
                None => {
                    let first = source("first_name", true, &mut errors);
                    let last = source("last_name", true, &mut errors);
                    match (first, last) {
                        (Some(f), Some(l)) => Some(ColumnValue::Joined(vec![col("first", f), col("last", l)])),
                        _ => None,
                    }
                }
            };
            if let Some(name) = name {
                columns = vec![col("email", email()), col("name", name)];
            }
            attributes = true;
        }
    }
    if errors.is_empty() {
        Ok(PresetColumns { columns, sources, attributes })
    } else {
        Err(errors)
    }
}
