//! The per-contact feature table: contact columns, then every aggregate any
//! requested segment needs, computed in one group-by per (table, scope).
//! Conditions compile to expressions over this table.

use std::cell::RefCell;
use std::collections::HashMap;

use chrono::NaiveDate;
use polars::prelude::*;

use crate::load::{Dataset, FieldType, TableData, KEY, ROW};
use crate::masks::Mask;
use crate::project::Project;
use crate::segment::ast::{Agg, AggDef, Cond, Leaf, Op, Scope};
use crate::segment::compile::{balanced, fold_text, leaf_expr, leaf_expr_folded, CResult, CompileError};
use crate::types::columns::{self, CONTACT};
pub use crate::types::member_column;

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

/// What one aggregate column computes.
#[derive(Clone, Debug)]
enum Kind {
    /// `key` is the definition's canonical text: compiled expressions do not
    /// print the values they hold (sets in UDFs), so they cannot serve as keys.
    Def {
        filter: Option<Expr>,
        agg: Agg,
        field: Option<String>,
        key: String,
    },
    OrderCount,
    TotalSpent,
    FirstDate,
    LastDate,
    Rows,
}

#[derive(Clone, Debug)]
struct AggCol {
    table: String,
    scope: Option<usize>,
    kind: Kind,
    name: String,
    ty: FieldType,
    zero_when_none: bool,
}

#[derive(Clone, Debug)]
struct ScopeDef {
    table: String,
    filter: Option<Expr>,
}

/// Collects the aggregates that the compiled conditions refer to, so the
/// feature table computes each once.
pub struct Plan<'a> {
    pub data: &'a Dataset,
    pub project: &'a Project,
    pub as_of: NaiveDate,
    aggs: Vec<AggCol>,
    by_key: HashMap<String, usize>,
    scopes: Vec<ScopeDef>,
    scope_keys: HashMap<String, usize>,
    derived: Vec<(String, Expr)>,
    derived_keys: HashMap<String, usize>,
    pub needs_rfm: bool,
    /// Errors found beside the one a compile call returns (siblings in an
    /// `all`/`any`); the caller reports them too.
    pub deferred: Vec<CompileError>,
    /// Text columns that conditions read folded, as (source, column): each
    /// is folded once per query ("" is the contacts).
    folds: RefCell<Vec<(String, String)>>,
}

/// A field resolved in a segment's context: the expression over the feature
/// table, and its type.
pub struct Resolved {
    pub expr: Expr,
    pub ty: FieldType,
}

impl<'a> Plan<'a> {
    pub fn new(data: &'a Dataset, project: &'a Project) -> Self {
        Plan {
            data,
            project,
            as_of: project.as_of,
            aggs: Vec::new(),
            by_key: HashMap::new(),
            scopes: Vec::new(),
            scope_keys: HashMap::new(),
            derived: Vec::new(),
            derived_keys: HashMap::new(),
            needs_rfm: false,
            deferred: Vec::new(),
            folds: RefCell::new(Vec::new()),
        }
    }

    fn table(&self, name: &str, path: &str) -> CResult<&'a TableData> {
        self.data.table(name).ok_or_else(|| {
            let names: Vec<&str> = self.data.tables.iter().map(|t| t.cfg.name.as_str()).collect();
            let hint = crate::diag::did_you_mean(name, names.iter().copied()).unwrap_or_else(|| format!("tables: {}", names.join(", ")));
            CompileError::new(path, format!("no table `{name}` in audience.yaml")).hint(hint)
        })
    }

    /// Registers a segment's scope; returns its id and the candidate column.
    pub fn scope(&mut self, s: &Scope) -> CResult<(usize, Expr)> {
        let t = self.table(&s.table, &format!("{}.table", s.path))?;
        let filter = match &s.filter {
            Some(c) => Some(self.row_cond(t, c)?),
            None => None,
        };
        let key = format!("{}|{}", s.table, s.filter.as_ref().map(Cond::canonical).unwrap_or_default());
        let id = match self.scope_keys.get(&key) {
            Some(id) => *id,
            None => {
                self.scopes.push(ScopeDef { table: s.table.clone(), filter });
                self.scope_keys.insert(key, self.scopes.len() - 1);
                self.scopes.len() - 1
            }
        };
        let rows = self.add_agg(&s.table, Some(id), Kind::Rows, FieldType::Int, true);
        Ok((id, col(rows).gt(lit(0))))
    }

    fn scope_for(&self, table: &str, scope: Option<usize>) -> Option<usize> {
        scope.filter(|id| self.scopes[*id].table == table)
    }

    fn add_agg(&mut self, table: &str, scope: Option<usize>, kind: Kind, ty: FieldType, zero: bool) -> String {
        let what = match &kind {
            Kind::Def { key, .. } => format!("def|{key}"),
            other => format!("{other:?}"),
        };
        let key = format!("{table}|{scope:?}|{what}");
        if let Some(i) = self.by_key.get(&key) {
            return self.aggs[*i].name.clone();
        }
        let name = columns::agg(self.aggs.len());
        self.aggs.push(AggCol { table: table.into(), scope, kind, name: name.clone(), ty, zero_when_none: zero });
        self.by_key.insert(key, self.aggs.len() - 1);
        name
    }

    fn add_derived(&mut self, key: String, expr: Expr) -> String {
        if let Some(i) = self.derived_keys.get(&key) {
            return self.derived[*i].0.clone();
        }
        let name = columns::derived(self.derived.len());
        self.derived.push((name.clone(), expr));
        self.derived_keys.insert(key, self.derived.len() - 1);
        name
    }

    /// A named aggregate (metric or table condition) over the contact's rows.
    pub fn agg(&mut self, def: &AggDef, scope: Option<usize>) -> CResult<Resolved> {
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
        let zero = matches!(def.agg, Agg::Count | Agg::CountDistinct | Agg::Sum);
        let scope = self.scope_for(&def.table, scope);
        let name = self.add_agg(&def.table, scope, Kind::Def { filter, agg: def.agg, field: def.field.clone(), key: def.canonical() }, ty, zero);
        Ok(Resolved { expr: col(name), ty })
    }

    fn builtin(&mut self, name: &str, scope: Option<usize>, path: &str) -> CResult<Resolved> {
        self.builtin_on("orders", name, scope, path)
    }

    fn builtin_on(&mut self, table: &str, name: &str, scope: Option<usize>, path: &str) -> CResult<Resolved> {
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
        let count = |p: &mut Self| p.add_agg(table, scope, Kind::OrderCount, FieldType::Int, true);
        Ok(match name {
            "order_count" => Resolved { expr: col(count(self)), ty: FieldType::Int },
            "total_spent" => {
                need("amount", t.cfg.amount.is_some())?;
                Resolved { expr: col(self.add_agg(table, scope, Kind::TotalSpent, FieldType::Float, true)), ty: FieldType::Float }
            }
            "avg_order_value" => {
                need("amount", t.cfg.amount.is_some())?;
                let total = self.add_agg(table, scope, Kind::TotalSpent, FieldType::Float, true);
                let n = count(self);
                let d = self.add_derived(
                    format!("avg|{total}|{n}"),
                    when(col(n.as_str()).gt(lit(0)))
                        .then(tidy(col(total) / col(n.as_str()).cast(DataType::Float64)))
                        .otherwise(lit(NULL).cast(DataType::Float64)),
                );
                Resolved { expr: col(d), ty: FieldType::Float }
            }
            "first_order_date" | "last_order_date" => {
                need("date", t.cfg.date.is_some())?;
                let kind = if name == "first_order_date" { Kind::FirstDate } else { Kind::LastDate };
                Resolved { expr: col(self.add_agg(table, scope, kind, FieldType::Date, false)), ty: FieldType::Date }
            }
            "days_since_last_order" => {
                need("date", t.cfg.date.is_some())?;
                let last = self.add_agg(table, scope, Kind::LastDate, FieldType::Date, false);
                let days = crate::dates::to_days(self.as_of);
                let d = self.add_derived(format!("since|{last}"), (lit(days) - col(last).cast(DataType::Int32)).cast(DataType::Int64));
                Resolved { expr: col(d), ty: FieldType::Int }
            }
            _ => unreachable!("not a built-in: {name}"),
        })
    }

    /// The inputs of RFM: unscoped frequency, monetary and latest date over the RFM table.
    pub fn rfm_inputs(&mut self) -> CResult<(String, String, String)> {
        let table = self.project.rfm.table.clone();
        let t = self
            .data
            .table(&table)
            .ok_or_else(|| CompileError::new("rfm.table", format!("RFM needs the table `{table}`, which audience.yaml does not define")))?;
        if t.cfg.date.is_none() || t.cfg.amount.is_none() {
            return Err(CompileError::new("rfm.table", format!("RFM needs table `{table}` to name its `date` and `amount` columns")));
        }
        let f = self.add_agg(&table, None, Kind::OrderCount, FieldType::Int, true);
        let m = self.add_agg(&table, None, Kind::TotalSpent, FieldType::Float, true);
        let r = self.add_agg(&table, None, Kind::LastDate, FieldType::Date, false);
        self.needs_rfm = true;
        Ok((f, m, r))
    }

    /// A contact-level field by name, in a segment's scope.
    pub fn field(&mut self, name: &str, scope: Option<usize>, path: &str) -> CResult<Resolved> {
        if let Some(ty) = self.data.column_type(name) {
            return Ok(Resolved { expr: col(name), ty });
        }
        if BUILTINS.iter().any(|(n, _)| *n == name) {
            return self.builtin(name, scope, path);
        }
        if let Some(m) = self.project.metrics.iter().find(|m| m.name == name) {
            let def = m.def.clone();
            return self.agg(&def, scope);
        }
        if let Some((_, ty)) = RFM_FIELDS.iter().find(|(n, _)| *n == name) {
            self.rfm_inputs()?;
            return Ok(Resolved { expr: col(name), ty: *ty });
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
        names
    }

    /// A table's rows that count at all: its `where` applied.
    pub fn rows_that_count(&self, t: &TableData) -> CResult<LazyFrame> {
        let Some(w) = &t.cfg.filter else { return Ok(t.lf.clone()) };
        let keep = self.row_cond(t, w)?.fill_null(lit(false));
        Ok(t.lf.clone().with_columns(self.fold_columns(&t.source)).filter(keep))
    }

    /// A condition over one table's rows (a table's or a scope's `where`).
    pub fn row_cond(&self, t: &TableData, c: &Cond) -> CResult<Expr> {
        match c {
            // Balanced, so a long list makes a shallow expression.
            Cond::All(cs, _) => Ok(balanced(cs.iter().map(|c| self.row_cond(t, c)).collect::<CResult<_>>()?, true)),
            Cond::Any(cs, _) => Ok(balanced(cs.iter().map(|c| self.row_cond(t, c)).collect::<CResult<_>>()?, false)),
            Cond::Not(c, _) => Ok(self.row_cond(t, c)?.not()),
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
                let folded = (ty == FieldType::Text).then(|| self.folded(&t.source, name));
                let section = format!("tables: {}", t.cfg.name);
                leaf_expr_folded(col(name), folded, ty, &l.field, l, self.as_of).map_err(|e| e.declared_in(Some(&section), &l.field))
            }
            Cond::Table(a, _) => Err(CompileError::new(&a.path, "a table condition cannot stand inside a table's `where`")),
            Cond::Segment(_, p) => Err(CompileError::new(p, "a segment reference cannot stand inside a table's `where`")),
        }
    }

    /// The column holding `column` of `source` folded, registered so that
    /// `features` computes it.
    fn folded(&self, source: &str, column: &str) -> Expr {
        let entry = (source.to_string(), column.to_string());
        let mut folds = self.folds.borrow_mut();
        if !folds.contains(&entry) {
            folds.push(entry);
        }
        col(fold_name(column))
    }

    /// The fold columns `source` needs.
    fn fold_columns(&self, source: &str) -> Vec<Expr> {
        self.folds.borrow().iter().filter(|(s, _)| s == source).map(|(_, c)| fold_text(col(c.as_str())).alias(fold_name(c))).collect()
    }

    /// A contact-level condition as a mask: its leaves are expressions over
    /// the feature table; segment references are the referenced segment's
    /// members, combined by [`crate::masks`].
    pub fn cond(&mut self, c: &Cond, scope: Option<usize>) -> CResult<Mask> {
        match c {
            Cond::All(cs, _) | Cond::Any(cs, _) => {
                let all = matches!(c, Cond::All(..));
                let mut parts = Vec::with_capacity(cs.len());
                let mut errors = Vec::new();
                for c in cs {
                    match self.cond(c, scope) {
                        Ok(m) => parts.push(m),
                        Err(e) => errors.push(e),
                    }
                }
                // Every mistake among siblings is reported, not just the first.
                let mut errors = errors.into_iter();
                match errors.next() {
                    None if all => Ok(Mask::all(parts)),
                    None => Ok(Mask::any(parts)),
                    Some(first) => {
                        self.deferred.extend(errors);
                        Err(first)
                    }
                }
            }
            Cond::Not(c, _) => Ok(Mask::not(self.cond(c, scope)?)),
            Cond::Field(l) => {
                let r = self.field(&l.field, scope, &format!("{}.field", l.path))?;
                let contact_text = r.ty == FieldType::Text && self.data.column_type(&l.field).is_some();
                let folded = contact_text.then(|| self.folded("", &l.field));
                let is_column = self.data.column_type(&l.field).is_some();
                leaf_expr_folded(r.expr, folded, r.ty, &l.field, l, self.as_of)
                    .map(Mask::Leaf)
                    .map_err(|e| e.declared_in(is_column.then_some("contacts"), &l.field))
            }
            Cond::Table(def, l) => {
                let r = self.agg(def, scope)?;
                let label = format!("{}({})", def.agg.name(), def.field.as_deref().unwrap_or(&def.table));
                // first/last/min/max keep the column's type, which its table declares.
                let section = matches!(def.agg, Agg::First | Agg::Last | Agg::Min | Agg::Max).then(|| format!("tables: {}", def.table));
                let column = def.field.clone().unwrap_or_default();
                leaf_expr(r.expr, r.ty, &label, &Leaf { path: l.path.clone(), ..l.clone() }, self.as_of)
                    .map(Mask::Leaf)
                    .map_err(|e| e.declared_in(section.as_deref(), &column))
            }
            Cond::Segment(alias, _) => Ok(Mask::Member(member_column(alias))),
        }
    }

    /// Builds the feature table: the contacts with one aggregation per
    /// export beside them. Tables over the same file (all tickets, and those
    /// that count) and every scope on them share that one pass: each (table,
    /// scope) becomes a row mask, and each aggregate reads only the rows
    /// its mask keeps. The aggregations run here (the scans and group-bys,
    /// the heavy part); what is left in the returned frame are per-contact
    /// columns over the result, for the caller to collect in memory.
    pub fn features(&self) -> PolarsResult<LazyFrame> {
        // Per-contact frames (one row per contact that has rows), computed
        // together when each source takes one pass, else part by part.
        let mut pending: Vec<LazyFrame> = Vec::new();
        let mut ready: Vec<DataFrame> = Vec::new();
        let mut totals: Vec<Expr> = Vec::new();
        let mut sources: Vec<&str> = Vec::new();
        for a in &self.aggs {
            let src = self.table_data(&a.table).source.as_str();
            if !sources.contains(&src) {
                sources.push(src);
            }
        }
        for (si, src) in sources.into_iter().enumerate() {
            let aggs: Vec<&AggCol> = self.aggs.iter().filter(|a| self.table_data(&a.table).source == src).collect();
            let first = self.table_data(&aggs[0].table);
            let mut masks: Vec<Expr> = Vec::new();
            let mut group_masks: HashMap<(String, Option<usize>), Expr> = HashMap::new();
            for a in &aggs {
                let g = (a.table.clone(), a.scope);
                if group_masks.contains_key(&g) {
                    continue;
                }
                let t = self.table_data(&a.table);
                let mut m: Option<Expr> = None;
                if let Some(w) = &t.cfg.filter {
                    m = Some(self.row_cond(t, w).map_err(|e| polars_err!(ComputeError: "{}", e.message))?);
                }
                if let Some(f) = a.scope.and_then(|id| self.scopes[id].filter.clone()) {
                    m = Some(match m {
                        Some(m) => m.and(f),
                        None => f,
                    });
                }
                let name = columns::group_mask(si, group_masks.len());
                masks.push(m.unwrap_or(lit(true)).fill_null(lit(false)).alias(name.as_str()));
                group_masks.insert(g, col(name.as_str()));
            }
            let mut exprs = Vec::new();
            let mut agg_masks = Vec::new();
            // Distinct counts, by the column whose values they count.
            let mut distinct: Vec<(String, Vec<(Expr, &AggCol)>)> = Vec::new();
            for (ai, a) in aggs.iter().enumerate() {
                let group = group_masks[&(a.table.clone(), a.scope)].clone();
                let mask = match &a.kind {
                    Kind::Def { filter: Some(f), .. } => {
                        let name = columns::agg_mask(si, ai);
                        agg_masks.push(group.and(f.clone()).fill_null(lit(false)).alias(name.as_str()));
                        col(name.as_str())
                    }
                    _ => group,
                };
                let t = self.table_data(&a.table);
                if let Some(value) = distinct_of(t, a) {
                    match distinct.iter_mut().find(|(v, _)| *v == value) {
                        Some((_, list)) => list.push((mask.clone(), *a)),
                        None => distinct.push((value, vec![(mask.clone(), *a)])),
                    }
                }
                if let Some(e) = agg_expr(t, a, mask) {
                    exprs.push(e);
                }
            }
            let ordered = aggs.iter().any(|a| matches!(a.kind, Kind::Def { agg: Agg::First | Agg::Last, .. }));
            // The source's rows become one frame per contact and step: the
            // plain aggregates, then one per column that distinct counts read.
            let steps = |part: Option<Part>| -> Vec<LazyFrame> {
                let mut rows = first.lf.clone();
                let mut ids = self.data.contacts.clone().lazy().select([col(KEY), col(ROW).alias(CONTACT)]);
                if let Some(part) = part {
                    rows = rows.filter(part.keeps(col(KEY)));
                    ids = ids.filter(part.keeps(col(KEY)));
                }
                // Aggregate masks build on the group masks: two steps.
                let mut rows = rows.with_columns(self.fold_columns(src)).with_columns(masks.clone()).with_columns(agg_masks.clone());
                // `first`/`last` take the group's rows in (date, file order): sort
                // them once here; group-bys keep row order within a group.
                if let (true, Some(date)) = (ordered, first.cfg.date.as_deref()) {
                    rows = rows.sort_by_exprs([col(date), col(ROW)], SortMultipleOptions::default());
                }
                // Rows are grouped by the contact's number rather than by its key
                // text: the join that finds it drops rows of no contact, and the
                // group-by then hashes integers instead of e-mail addresses. The
                // hash table is built on the contacts, never on the rows: left to
                // choose, the streaming engine first buffers up to 10M rows of
                // each side to compare them.
                let keep_order = if ordered { MaintainOrderJoin::Left } else { MaintainOrderJoin::None };
                let join = JoinArgs { maintain_order: keep_order, build_side: Some(JoinBuildSide::ForceRight), ..JoinArgs::new(JoinType::Inner) };
                let rows = rows.join(ids, [col(KEY)], [col(KEY)], join);
                let mut out = Vec::new();
                if !exprs.is_empty() {
                    out.push(rows.clone().group_by([col(CONTACT)]).agg(exprs.clone()));
                }
                // A distinct count in two group-bys, both plain reductions
                // that the streaming engine runs in bounded memory (`n_unique`
                // is not one): first one group per (contact, value) noting
                // which counts keep it, then per contact the number of groups
                // each keeps.
                for (di, (value, list)) in distinct.iter().enumerate() {
                    let v = col(value.as_str());
                    let flags: Vec<Expr> =
                        list.iter().enumerate().map(|(k, (m, _))| m.clone().and(v.clone().is_not_null()).any(true).alias(columns::distinct_flag(k))).collect();
                    let counts: Vec<Expr> = list
                        .iter()
                        .enumerate()
                        .map(|(k, _)| col(columns::distinct_flag(k)).cast(DataType::Int64).sum().alias(distinct_name(si, di, k)))
                        .collect();
                    out.push(rows.clone().group_by([col(CONTACT), v]).agg(flags).group_by([col(CONTACT)]).agg(counts));
                }
                out
            };
            let parts = parts_for(first.rows);
            if parts == 1 {
                pending.extend(steps(None));
            } else {
                // Too many rows for one pass in bounded memory: the contacts
                // are split by their key into parts aggregated one after the
                // other, each pass holding the groups of one part only.
                let mut done: Vec<Vec<DataFrame>> = Vec::new();
                for index in 0..parts {
                    for (i, df) in crate::exec::run_queries(steps(Some(Part { index, of: parts })))?.into_iter().enumerate() {
                        match done.get_mut(i) {
                            Some(list) => list.push(df),
                            None => done.push(vec![df]),
                        }
                    }
                }
                for dfs in done {
                    ready.push(stack(dfs)?);
                }
            }
            for (di, (_, list)) in distinct.iter().enumerate() {
                totals.extend(list.iter().enumerate().map(|(k, (_, a))| {
                    let d = col(distinct_name(si, di, k)).fill_null(lit(0));
                    // An order count also has its rows without an id: see `agg_expr`.
                    let e = if matches!(a.kind, Kind::OrderCount) { col(a.name.as_str()).fill_null(lit(0)) + d } else { d };
                    e.alias(a.name.as_str())
                }));
            }
        }
        if crate::exec::options().profile {
            for lf in &pending {
                eprintln!("plan:\n{}", lf.clone().explain(true)?);
                let (_, profile) = lf.clone().profile()?;
                for row in crate::output::text_rows(&profile, usize::MAX).map_err(|e| polars_err!(ComputeError: "{e}"))? {
                    eprintln!("profile: {}", row.join("  "));
                }
            }
        }
        ready.extend(crate::exec::run_queries(pending)?);
        // The aggregates are set beside the contact columns, which are not
        // copied (at 10M contacts a copy is 2 GB), each in contact order.
        let mut df = self.data.contacts.clone();
        let positions = contact_positions(&df)?;
        for agg in ready {
            for c in align(agg, &positions, df.height())? {
                df.with_column(c)?;
            }
        }
        let mut lf = df.lazy().with_columns(totals);
        let fills: Vec<Expr> = self.aggs.iter().filter(|a| a.zero_when_none).map(|a| col(a.name.as_str()).fill_null(lit(0)).alias(a.name.as_str())).collect();
        if !fills.is_empty() {
            lf = lf.with_columns(fills);
        }
        for (name, e) in &self.derived {
            lf = lf.with_column(e.clone().alias(name.as_str()));
        }
        Ok(lf.with_columns(self.fold_columns("")))
    }

    fn table_data(&self, name: &str) -> &'a TableData {
        self.data.table(name).expect("resolved during compile")
    }
}

/// Table rows one pass of the feature query takes, at most;
/// `AUDIENCE_PART_ROWS` sets another figure. Measured at 10M contacts and
/// 100M order rows: passes of 10M rows peak at 7,065 MiB, of 20M at
/// 7,849 MiB, in about the same time (the passes are not the slow part).
const PART_ROWS: u64 = 10_000_000;

fn parts_for(rows: u64) -> u64 {
    let per = crate::exec::options().part_rows.unwrap_or(PART_ROWS);
    rows.div_ceil(per).max(1)
}

/// One of `of` parts of the contacts, chosen by a hash of the key, so that a
/// contact and its rows land in the same part.
#[derive(Clone, Copy)]
struct Part {
    index: u64,
    of: u64,
}

impl Part {
    fn keeps(self, key: Expr) -> Expr {
        let Part { index, of } = self;
        key.map(
            move |c: Column| {
                let ca = c.str()?;
                let out: BooleanChunked = ca.iter().map(|k| Some(k.is_some_and(|k| key_hash(k.as_bytes()) % of == index))).collect();
                Ok(out.with_name(c.name().clone()).into_column())
            },
            |_, f| Ok(Field::new(f.name().clone(), DataType::Boolean)),
        )
    }
}

/// FNV-1a with a final mix: stable across runs and cheap on short keys.
fn key_hash(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h = (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3);
    }
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^ (h >> 33)
}

/// For each contact number (ROW), the contact's row in the frame.
fn contact_positions(contacts: &DataFrame) -> PolarsResult<Vec<IdxSize>> {
    let rows = contacts.column(ROW)?.cast(&IDX_DTYPE)?;
    let rows = rows.idx()?;
    let n = rows.iter().flatten().max().map_or(0, |m| m as usize + 1);
    let mut at = vec![IdxSize::MAX; n];
    for (pos, row) in rows.iter().enumerate() {
        if let Some(row) = row {
            at[row as usize] = pos as IdxSize;
        }
    }
    Ok(at)
}

/// A per-contact frame's columns in contact order: the value of the
/// contact in row i at row i, missing for contacts it has no row for. A
/// gather, where a join would build a hash table of every contact.
fn align(agg: DataFrame, positions: &[IdxSize], height: usize) -> PolarsResult<Vec<Column>> {
    let mut take: Vec<Option<IdxSize>> = vec![None; height];
    let ids = agg.column(CONTACT)?.cast(&IDX_DTYPE)?;
    for (i, id) in ids.idx()?.iter().enumerate() {
        if let Some(&pos) = id.and_then(|id| positions.get(id as usize)) {
            if pos != IdxSize::MAX {
                take[pos as usize] = Some(i as IdxSize);
            }
        }
    }
    let take = IdxCa::from_iter_options(PlSmallStr::EMPTY, take.into_iter());
    agg.columns().iter().filter(|c| c.name().as_str() != CONTACT).map(|c| c.take(&take)).collect()
}

fn stack(frames: Vec<DataFrame>) -> PolarsResult<DataFrame> {
    let mut frames = frames.into_iter();
    let mut out = frames.next().expect("at least one part");
    for df in frames {
        out.vstack_mut(&df)?;
    }
    Ok(out)
}

fn fold_name(column: &str) -> String {
    columns::folded(column)
}

fn distinct_name(source: usize, value: usize, k: usize) -> String {
    columns::distinct(source, value, k)
}

/// The column whose distinct values an aggregate counts, if it counts any.
fn distinct_of(t: &TableData, a: &AggCol) -> Option<String> {
    match &a.kind {
        Kind::OrderCount => t.cfg.id.clone(),
        Kind::Def { agg: Agg::CountDistinct, field, .. } => field.clone(),
        _ => None,
    }
}

/// One aggregate over the rows `mask` (a boolean column) keeps. Values
/// outside the mask become missing, which every aggregate but `first` and
/// `last` skips, so all of them run as plain group-by kernels. Distinct
/// counts are computed apart (see `features`): for them this gives only
/// what they add to it, if anything.
fn agg_expr(t: &TableData, a: &AggCol, mask: Expr) -> Option<Expr> {
    let cfg = &t.cfg;
    let masked = |e: Expr| when(mask.clone()).then(e).otherwise(lit(NULL));
    let rows = || mask.clone().cast(DataType::Int64).sum();
    let date = cfg.date.as_deref();
    let e = match &a.kind {
        Kind::Rows => rows(),
        // Orders: distinct ids, a row without an id being an order of its
        // own; the distinct ids are added in `features`.
        Kind::OrderCount => match cfg.id.as_deref() {
            Some(id) => mask.clone().and(col(id).is_null()).cast(DataType::Int64).sum(),
            None => rows(),
        },
        Kind::TotalSpent => tidy(masked(col(cfg.amount.as_deref().unwrap_or_default()).cast(DataType::Float64)).sum()),
        Kind::FirstDate | Kind::LastDate => {
            let d = col(date.unwrap_or_default());
            let d = if matches!(t.column_type(date.unwrap_or_default()), Some(FieldType::Datetime)) { d.dt().date() } else { d };
            if matches!(a.kind, Kind::FirstDate) {
                masked(d).min()
            } else {
                masked(d).max()
            }
        }
        Kind::Def { agg, field, .. } => {
            let f = || col(field.as_deref().unwrap_or_default());
            match agg {
                Agg::Count => rows(),
                Agg::CountDistinct => return None,
                Agg::Sum if a.ty == FieldType::Float => tidy(masked(f()).sum()),
                Agg::Sum => masked(f()).sum(),
                Agg::Avg => tidy(masked(f().cast(DataType::Float64)).mean()),
                Agg::Min => masked(f()).min(),
                Agg::Max => masked(f()).max(),
                Agg::First | Agg::Last => {
                    // Rows arrive sorted by (date, file order): see `features`.
                    let kept = f().filter(mask.clone().and(col(date.unwrap_or_default()).is_not_null()));
                    if *agg == Agg::First {
                        kept.first()
                    } else {
                        kept.last()
                    }
                }
            }
        }
    };
    Some(e.alias(a.name.as_str()))
}

/// Sums of money in binary floating point pick up noise (45.3 + 57.3 =
/// 102.60000000000001); rounding to nine decimals gives back what a person
/// would write, far below any currency's smallest unit.
fn tidy(e: Expr) -> Expr {
    e.map(
        |c: Column| {
            let ca = c.cast(&DataType::Float64)?;
            let out: Float64Chunked = ca.f64()?.iter().map(|v| v.map(|x| if x.is_finite() { (x * 1e9).round() / 1e9 } else { x })).collect();
            Ok(out.with_name(c.name().clone()).into_column())
        },
        |_, f| Ok(Field::new(f.name().clone(), DataType::Float64)),
    )
}
