//! The plan compiled to SQL: per requested segment one statement selecting
//! its recipients with the list's columns, or one statement of counts. The
//! query is built as a syntax tree ([`ast`]) and printed for a dialect
//! ([`dialect`]); every relative date is already a literal date in the plan.
//!
//! The shape of every statement:
//! - `__ranked`, `__c`: the contacts relation with its key normalised (as
//!   `run` normalises it), rows with an empty key dropped, and one row per
//!   key: the first by every column in header order;
//! - `__rows_T`: table T's rows that count (its `where`), key normalised;
//! - `__agg_T`: per contact, every aggregate over T, each over the rows its
//!   scope and filter keep (masked with `CASE`, so one `GROUP BY` serves all);
//!   `first`/`last` take the row of lowest (or highest) date by row number,
//!   so a missing value on that row stays missing;
//! - `__f`: the contacts with their aggregates; `__g` adds the rank tests
//!   (`top`/`bottom`) as columns;
//! - the final `SELECT`: members, less suppressed, without consent and
//!   unreachable, ordered by the key.

pub mod ast;
pub mod dialect;

use ast::{bin, case, cast, coalesce, col, func, is_null, masked, not, Expr, From, Func, Order, Printer, Query, Select, Type};
pub use dialect::Dialect;

use crate::load::{Dataset, KEY};
use crate::plan::{AggKind, Bound, CmpOp, ColumnValue, KeySet, Leaf, Operand, Plan, Pred, SegmentPlan, Test, TextOp, Value};
use crate::project::Project;
use crate::segment::ast::{Agg, Channel, Purpose};
use crate::segment::literal::RankAmount;
use crate::types::FieldType;

/// What a dialect cannot (or does not yet) express, and where: the field or
/// list column it comes from, so the caller can point at the condition.
#[derive(Clone, Debug, PartialEq)]
pub struct Unsupported {
    pub what: String,
    /// The field name whose leaf cannot compile, when a leaf is the cause.
    pub field: Option<String>,
}

type R<T> = Result<T, Unsupported>;

fn unsupported(what: impl Into<String>, field: Option<&str>) -> Unsupported {
    Unsupported { what: what.into(), field: field.map(str::to_string) }
}

/// Where the relations are: `warehouse:` in audience.yaml, or default names.
#[derive(Clone, Debug, Default)]
pub struct Relations {
    pub contacts: Option<String>,
    pub tables: Vec<(String, String)>,
    /// List files kept as relations: (the file's path as opened, relation).
    pub lists: Vec<(std::path::PathBuf, String)>,
}

impl Relations {
    pub fn contacts_name(&self) -> String {
        self.contacts.clone().unwrap_or_else(|| "contacts".into())
    }

    pub fn table_name(&self, name: &str) -> String {
        self.tables.iter().find(|(t, _)| t == name).map(|(_, r)| r.clone()).unwrap_or_else(|| name.to_string())
    }

    /// The relation a list file is kept as, if `warehouse.lists` names it.
    pub fn list_name(&self, path: &std::path::Path) -> Option<&str> {
        let path = same_file(path);
        self.lists.iter().find(|(p, _)| same_file(p) == path).map(|(_, r)| r.as_str())
    }
}

/// A path compared as the file it names (`./a.csv` and `a.csv` alike).
pub fn same_file(p: &std::path::Path) -> std::path::PathBuf {
    std::fs::canonicalize(p).unwrap_or_else(|_| p.components().collect())
}

/// The name a list relation goes by in a dbt source: its last part.
pub fn list_logical(relation: &str) -> &str {
    relation.rsplit('.').next().unwrap_or(relation)
}

pub struct Compiler<'a> {
    plan: &'a Plan,
    project: &'a Project,
    data: &'a Dataset,
    d: &'static Dialect,
    rel: Relations,
    /// Rank tests, as window expressions named `__k<i>` in `__g`.
    ranks: std::cell::RefCell<Vec<(Leaf, Expr)>>,
    /// Relations printed as the dbt sources of this name.
    pub dbt_source: Option<&'static str>,
}

const RANKED: &str = "__ranked";
const CONTACTS: &str = "__c";
const FEATURES: &str = "__f";
const RANKS: &str = "__g";
const RN: &str = "__rn";

fn agg_col(i: usize) -> String {
    crate::types::columns::agg(i)
}

fn raw_agg_col(i: usize) -> String {
    format!("__raw{i}")
}

fn rows_cte(table: &str) -> String {
    format!("__rows_{table}")
}

fn agg_cte(table: &str) -> String {
    format!("__agg_{table}")
}

impl<'a> Compiler<'a> {
    pub fn new(plan: &'a Plan, data: &'a Dataset, project: &'a Project, d: &'static Dialect, rel: Relations) -> Self {
        Compiler { plan, project, data, d, rel, ranks: Default::default(), dbt_source: None }
    }

    /// The normalised key of a relation's key column, as `run` normalises it.
    fn norm_key(&self, column: &str, ty: Option<FieldType>) -> Expr {
        let text = match ty {
            Some(FieldType::Text) | None => col(column),
            Some(_) => cast(col(column), Type::Text),
        };
        let trimmed = Expr::Func("trim", vec![text]);
        if self.data.email_key {
            func(Func::Lower, vec![trimmed])
        } else {
            trimmed
        }
    }

    /// The CTEs every statement starts from: contacts, rows, aggregates, features.
    fn base(&self, ctes: &mut Vec<(String, Select)>) -> R<()> {
        let key_col = &self.data.key_column;
        let key_ty = self.data.column_type(key_col);
        let key = self.norm_key(key_col, key_ty);
        let mut items: Vec<(Expr, String)> = vec![(key.clone(), KEY.to_string())];
        for (name, _) in &self.data.columns {
            items.push((if name == key_col { key.clone() } else { col(name) }, name.clone()));
        }
        // One row per key: the first by every column in header order.
        let order: Vec<Order> = self.data.columns.iter().map(|(n, _)| Order::asc(col(n))).collect();
        items.push((Expr::Over { func: Box::new(Expr::Func("row_number", vec![])), partition: vec![key.clone()], order }, RN.into()));
        ctes.push((
            RANKED.into(),
            Select {
                items,
                from: Some(From::Relation { logical: "contacts".into(), name: self.rel.contacts_name() }),
                filter: Some(Expr::And(vec![not(is_null(key.clone())), bin(key, "<>", Expr::Str(String::new()))])),
                ..Select::default()
            },
        ));
        let mut keep: Vec<(Expr, String)> = vec![(col(KEY), KEY.into())];
        keep.extend(self.data.columns.iter().map(|(n, _)| (col(n), n.clone())));
        ctes.push((
            CONTACTS.into(),
            Select { items: keep, from: Some(From::Cte(RANKED.into())), filter: Some(bin(col(RN), "=", Expr::Int(1))), ..Select::default() },
        ));

        let mut joined = From::Cte(CONTACTS.into());
        let mut tables: Vec<&str> = Vec::new();
        for a in &self.plan.aggs {
            if !tables.contains(&a.agg.table.as_str()) {
                tables.push(&a.agg.table);
            }
        }
        let mut feature_items: Vec<(Expr, String)> = Vec::new();
        for table in tables {
            let t = self.data.table(table).ok_or_else(|| unsupported(format!("no table `{table}`"), None))?;
            let tkey = self.norm_key(&t.cfg.source.key, t.column_type(&t.cfg.source.key));
            let mut items = vec![(tkey.clone(), KEY.to_string())];
            // The key column reads as normalised, as `run` loads it (a
            // count_distinct of it counts contacts, not spellings).
            items.extend(
                t.columns
                    .iter()
                    .filter(|(n, _)| n != KEY && n != crate::load::ROW)
                    .map(|(n, _)| (if *n == t.cfg.source.key { tkey.clone() } else { col(n) }, n.clone())),
            );
            let filter = match self.plan.table_filter(table) {
                Some(p) => Some(self.rows_pred(p)?),
                None => None,
            };
            ctes.push((
                rows_cte(table),
                Select { items, from: Some(From::Relation { logical: table.to_string(), name: self.rel.table_name(table) }), filter, ..Select::default() },
            ));
            let mut aggs: Vec<(Expr, String)> = Vec::new();
            for (i, a) in self.plan.aggs.iter().enumerate().filter(|(_, a)| a.agg.table == table) {
                let mut mask: Vec<Expr> = Vec::new();
                if let Some(f) = a.agg.scope.and_then(|s| self.plan.scopes[s].filter.as_ref()) {
                    mask.push(self.rows_pred(f)?);
                }
                if let AggKind::Of { filter: Some(f), .. } = &a.agg.kind {
                    mask.push(self.rows_pred(f)?);
                }
                let date = t.cfg.date.as_deref();
                let date_of = |date: &str| if t.column_type(date) == Some(FieldType::Datetime) { func(Func::ToDate, vec![col(date)]) } else { col(date) };
                let keep = |extra: Option<Expr>| -> Expr {
                    let mut m = mask.clone();
                    m.extend(extra);
                    if m.is_empty() {
                        Expr::Bool(true)
                    } else {
                        Expr::And(m)
                    }
                };
                let rows = |extra: Option<Expr>| Expr::Func("count", vec![masked(keep(extra), Expr::Int(1))]);
                let e = match &a.agg.kind {
                    AggKind::Rows => rows(None),
                    AggKind::Orders => match t.cfg.id.as_deref() {
                        Some(id) => bin(Expr::CountDistinct(Box::new(masked(keep(None), col(id)))), "+", rows(Some(is_null(col(id))))),
                        None => rows(None),
                    },
                    AggKind::Spent => {
                        let amount = t.cfg.amount.as_deref().unwrap_or_default();
                        func(Func::Tidy, vec![Expr::Func("sum", vec![masked(keep(None), cast(col(amount), Type::Double))])])
                    }
                    AggKind::FirstDate | AggKind::LastDate => {
                        let d = date_of(date.unwrap_or_default());
                        Expr::Func(if a.agg.kind == AggKind::FirstDate { "min" } else { "max" }, vec![masked(keep(None), d)])
                    }
                    AggKind::Of { agg, field, .. } => {
                        let f = || col(field.as_deref().unwrap_or_default());
                        match agg {
                            Agg::Count => rows(None),
                            Agg::CountDistinct => Expr::CountDistinct(Box::new(masked(keep(None), f()))),
                            Agg::Sum if a.ty == FieldType::Float => func(Func::Tidy, vec![Expr::Func("sum", vec![masked(keep(None), f())])]),
                            Agg::Sum => Expr::Func("sum", vec![masked(keep(None), f())]),
                            Agg::Avg => func(Func::Tidy, vec![Expr::Func("avg", vec![masked(keep(None), cast(f(), Type::Double))])]),
                            Agg::Min => Expr::Func("min", vec![masked(keep(None), f())]),
                            Agg::Max => Expr::Func("max", vec![masked(keep(None), f())]),
                            Agg::First | Agg::Last => {
                                let date = date.unwrap_or_default();
                                let name = format!("__pick{i}");
                                // By the date column as it is (a timestamp to the second),
                                // as `run` sorts; ties: the first row by every column in header order.
                                let order = if *agg == Agg::First { Order::asc(col(date)) } else { Order::desc(col(date)) };
                                let mut order = vec![order];
                                order.extend(t.columns.iter().filter(|(n, _)| n != KEY && n != crate::load::ROW).map(|(n, _)| Order::asc(col(n))));
                                let picked = Select {
                                    items: vec![
                                        (col(KEY), KEY.into()),
                                        (f(), raw_agg_col(i)),
                                        (Expr::Over { func: Box::new(Expr::Func("row_number", vec![])), partition: vec![col(KEY)], order }, RN.into()),
                                    ],
                                    from: Some(From::Cte(rows_cte(table))),
                                    filter: Some(keep(Some(not(is_null(col(date)))))),
                                    ..Select::default()
                                };
                                ctes.push((
                                    name.clone(),
                                    Select {
                                        items: vec![(col(KEY), KEY.into()), (col(&raw_agg_col(i)), raw_agg_col(i))],
                                        from: Some(From::Sub(Box::new(Query::new(picked)), "__p".into())),
                                        filter: Some(bin(col(RN), "=", Expr::Int(1))),
                                        ..Select::default()
                                    },
                                ));
                                joined = From::LeftJoin(Box::new(joined), Box::new(From::Cte(name)), KEY.into());
                                feature_items.push((col(&raw_agg_col(i)), agg_col(i)));
                                continue;
                            }
                        }
                    }
                };
                aggs.push((e, raw_agg_col(i)));
                let v = if a.agg.zero_when_none() { coalesce(col(&raw_agg_col(i)), Expr::Int(0)) } else { col(&raw_agg_col(i)) };
                feature_items.push((v, agg_col(i)));
            }
            if !aggs.is_empty() {
                let mut items = vec![(col(KEY), KEY.to_string())];
                items.extend(aggs);
                ctes.push((agg_cte(table), Select { items, from: Some(From::Cte(rows_cte(table))), group_by: vec![col(KEY)], ..Select::default() }));
                joined = From::LeftJoin(Box::new(joined), Box::new(From::Cte(agg_cte(table))), KEY.into());
            }
        }
        let mut items = vec![(col(KEY), KEY.to_string())];
        items.extend(self.data.columns.iter().map(|(n, _)| (col(n), n.clone())));
        items.extend(feature_items);
        match self.plan.rfm {
            None => ctes.push((FEATURES.into(), Select { items, from: Some(joined), ..Select::default() })),
            Some(inputs) => {
                ctes.push(("__f0".into(), Select { items, from: Some(joined), ..Select::default() }));
                self.rfm(ctes, inputs)?;
                ctes.push((
                    FEATURES.into(),
                    Select {
                        star: true,
                        from: Some(From::LeftJoin(Box::new(From::Cte("__f0".into())), Box::new(From::Cte("__rfm".into())), KEY.into())),
                        ..Select::default()
                    },
                ));
            }
        }
        Ok(())
    }

    /// RFM as R's `rfm` package scores it (section 6): type-7 quantiles
    /// computed from row numbers (every engine can), cut points one above
    /// them, bins by range, classes in order.
    fn rfm(&self, ctes: &mut Vec<(String, Select)>, inputs: crate::plan::RfmInputs) -> R<()> {
        let cfg = crate::backend::polars::rfm::config(self.project).map_err(|e| unsupported(format!("{e}"), None))?;
        let freq = cast(col(&agg_col(inputs.frequency)), Type::Double);
        let money = cast(col(&agg_col(inputs.monetary)), Type::Double);
        let has = bin(freq.clone(), ">", Expr::Float(0.0));
        let recency =
            case(has.clone(), cast(func(Func::DaysBetween, vec![col(&agg_col(inputs.last_date)), Expr::Date(self.plan.as_of)]), Type::Double), Expr::Null);
        const DIMS: [&str; 3] = ["r", "f", "m"];
        ctes.push((
            "__rfm_v".into(),
            Select {
                items: vec![(col(KEY), KEY.into()), (has, "has".into()), (recency, "r".into()), (freq, "f".into()), (money, "m".into())],
                from: Some(From::Cte("__f0".into())),
                ..Select::default()
            },
        ));
        let counts = crate::rfm::bin_counts(&cfg);
        // Per dimension: its cut points, and the lowest and highest value.
        let mut cut_items: Vec<(Expr, String)> = Vec::new();
        for (d, dim) in DIMS.iter().enumerate() {
            let scored = || Select { from: Some(From::Cte("__rfm_v".into())), filter: Some(not(is_null(col("r")))), ..Select::default() };
            cut_items.push((Expr::Func("min", vec![col(dim)]), format!("{dim}_min")));
            cut_items.push((Expr::Func("max", vec![col(dim)]), format!("{dim}_max")));
            match &cfg.thresholds {
                Some(t) => {
                    for (i, c) in t[d].iter().enumerate() {
                        cut_items.push((Expr::Func("min", vec![Expr::Float(*c)]), format!("{dim}_cut{i}")));
                    }
                }
                None => {
                    let bins = cfg.bins[d].max(1);
                    let step = 1.0 / bins as f64;
                    let sorted = format!("__rfm_{dim}");
                    let order = vec![Order::asc(col(dim))];
                    let mut s = scored();
                    s.items = vec![
                        (col(dim), "v".into()),
                        (Expr::Over { func: Box::new(Expr::Func("row_number", vec![])), partition: vec![], order }, "rn".into()),
                        (Expr::Over { func: Box::new(Expr::CountStar), partition: vec![], order: vec![] }, "n".into()),
                    ];
                    ctes.push((sorted.clone(), s));
                    let mut q_items = Vec::new();
                    for i in 1..bins {
                        let p = i as f64 * step;
                        let index = bin(Expr::Float(1.0), "+", bin(cast(bin(col("n"), "-", Expr::Int(1)), Type::Double), "*", Expr::Float(p)));
                        let lo = Expr::Func("floor", vec![index.clone()]);
                        let hi = Expr::Func("least", vec![Expr::Func("ceil", vec![index.clone()]), cast(col("n"), Type::Double)]);
                        let at = |k: Expr| Expr::Func("max", vec![masked(bin(cast(col("rn"), Type::Double), "=", k), col("v"))]);
                        q_items.push((Expr::Func("max", vec![index]), format!("{dim}_idx{i}")));
                        q_items.push((at(lo), format!("{dim}_lo{i}")));
                        q_items.push((at(hi), format!("{dim}_hi{i}")));
                    }
                    if !q_items.is_empty() {
                        ctes.push((format!("__rfm_q{dim}"), Select { items: q_items, from: Some(From::Cte(sorted)), ..Select::default() }));
                    }
                }
            }
        }
        // The quantile of R's type 7 from idx, x_lo and x_hi, plus 1.
        let mut from = From::Cte("__rfm_v".into());
        let mut cuts_select: Vec<(Expr, String)> = Vec::new();
        for (d, dim) in DIMS.iter().enumerate() {
            if cfg.thresholds.is_none() && cfg.bins[d].max(1) > 1 {
                from = From::Cross(Box::new(from), Box::new(From::Cte(format!("__rfm_q{dim}"))));
                for i in 1..cfg.bins[d].max(1) {
                    let (idx, lo, hi) = (col(&format!("{dim}_idx{i}")), col(&format!("{dim}_lo{i}")), col(&format!("{dim}_hi{i}")));
                    let h = bin(idx.clone(), "-", Expr::Func("floor", vec![idx.clone()]));
                    let between = bin(bin(bin(Expr::Float(1.0), "-", h.clone()), "*", lo.clone()), "+", bin(h, "*", hi.clone()));
                    let q = Expr::Case(
                        vec![(Expr::And(vec![bin(idx.clone(), ">", Expr::Func("floor", vec![idx])), bin(hi, "<>", lo.clone())]), between)],
                        Some(Box::new(lo)),
                    );
                    cuts_select.push((bin(q, "+", Expr::Float(1.0)), format!("{dim}_cut{}", i - 1)));
                }
            }
        }
        // Bounds of every dimension over the scored contacts, and threshold cuts.
        ctes.push((
            "__rfm_b".into(),
            Select { items: cut_items, from: Some(From::Cte("__rfm_v".into())), filter: Some(not(is_null(col("r")))), ..Select::default() },
        ));
        from = From::Cross(Box::new(from), Box::new(From::Cte("__rfm_b".into())));
        let mut items: Vec<(Expr, String)> =
            vec![(col(KEY), KEY.into()), (col("has"), "has".into()), (col("r"), "r".into()), (col("f"), "f".into()), (col("m"), "m".into())];
        for (dim, _) in DIMS.iter().zip(0..) {
            items.push((col(&format!("{dim}_min")), format!("{dim}_min")));
            items.push((col(&format!("{dim}_max")), format!("{dim}_max")));
        }
        for (d, dim) in DIMS.iter().enumerate() {
            let n_cuts = counts[d].saturating_sub(1) as usize;
            for i in 0..n_cuts {
                let name = format!("{dim}_cut{i}");
                let e = cuts_select.iter().find(|(_, n)| *n == name).map(|(e, _)| e.clone()).unwrap_or_else(|| col(&name));
                items.push((e, name));
            }
        }
        ctes.push(("__rfm_c".into(), Select { items, from: Some(from), ..Select::default() }));
        // Bins: the last whose [lower, upper) holds the value, else the top.
        let mut scores: Vec<(Expr, String)> = vec![(col(KEY), KEY.into())];
        let mut score_cols = Vec::new();
        for (d, dim) in DIMS.iter().enumerate() {
            let n = counts[d] as usize;
            let lower = |k: usize| if k == 0 { col(&format!("{dim}_min")) } else { col(&format!("{dim}_cut{}", k - 1)) };
            let upper = |k: usize| if k + 1 == n { bin(col(&format!("{dim}_max")), "+", Expr::Float(1.0)) } else { col(&format!("{dim}_cut{k}")) };
            let arms: Vec<(Expr, Expr)> = (0..n)
                .rev()
                .map(|k| {
                    let b = k as i64 + 1;
                    let score = if d == 0 { n as i64 + 1 - b } else { b };
                    (Expr::And(vec![bin(lower(k), "<=", col(dim)), bin(col(dim), "<", upper(k))]), Expr::Int(score))
                })
                .collect();
            let top = if d == 0 { 1 } else { n as i64 };
            let e = case(is_null(col("r")), Expr::Null, Expr::Case(arms, Some(Box::new(Expr::Int(top)))));
            let name = ["rfm_recency", "rfm_frequency", "rfm_monetary"][d];
            scores.push((e, name.into()));
            score_cols.push(name);
        }
        scores.push((col("has"), "__has".into()));
        ctes.push(("__rfm_s".into(), Select { items: scores, from: Some(From::Cte("__rfm_c".into())), ..Select::default() }));
        let within = |c: &str, (lo, hi): (u32, u32)| Expr::And(vec![bin(col(c), ">=", Expr::Int(lo.into())), bin(col(c), "<=", Expr::Int(hi.into()))]);
        let mut arms =
            vec![(not(col("__has")), Expr::Str(crate::rfm::NO_PURCHASE.into())), (is_null(col("rfm_recency")), Expr::Str(crate::rfm::OTHERS.into()))];
        for c in &cfg.classes {
            arms.push((Expr::And(vec![within("rfm_recency", c.r), within("rfm_frequency", c.f), within("rfm_monetary", c.m)]), Expr::Str(c.name.clone())));
        }
        let class = Expr::Case(arms, Some(Box::new(Expr::Str(crate::rfm::OTHERS.into()))));
        let text = |c: &str| cast(col(c), Type::Text);
        let score_text = bin(bin(text("rfm_recency"), "||", text("rfm_frequency")), "||", text("rfm_monetary"));
        ctes.push((
            "__rfm".into(),
            Select {
                items: vec![
                    (col(KEY), KEY.into()),
                    (col("rfm_recency"), "rfm_recency".into()),
                    (col("rfm_frequency"), "rfm_frequency".into()),
                    (col("rfm_monetary"), "rfm_monetary".into()),
                    (score_text, "rfm_score".into()),
                    (class, "rfm_class".into()),
                ],
                from: Some(From::Cte("__rfm_s".into())),
                ..Select::default()
            },
        ));
        Ok(())
    }

    /// `__g`: the features plus every rank test met while lowering, and
    /// the suppression, consent and address tests.
    fn ranks_cte(&self, ctes: &mut Vec<(String, Select)>) -> R<()> {
        let ranks = self.ranks.borrow();
        let mut items: Vec<(Expr, String)> = ranks.iter().enumerate().map(|(i, (_, e))| (e.clone(), format!("__k{i}"))).collect();
        items.extend(self.shared_flags()?);
        ctes.push((RANKS.into(), Select { star: true, items, from: Some(From::Cte(FEATURES.into())), ..Select::default() }));
        Ok(())
    }

    // ---- values and tests ----

    fn value(&self, v: &Value) -> R<Expr> {
        Ok(match &v.operand {
            Operand::Contact(c) | Operand::Row(c) => col(c),
            Operand::Agg(id) => col(&agg_col(*id)),
            Operand::Ratio { total, count } => {
                let n = col(&agg_col(*count));
                case(bin(n.clone(), ">", Expr::Int(0)), func(Func::Tidy, vec![bin(col(&agg_col(*total)), "/", cast(n, Type::Double))]), Expr::Null)
            }
            Operand::DaysSince(last) => cast(func(Func::DaysBetween, vec![col(&agg_col(*last)), Expr::Date(self.plan.as_of)]), Type::BigInt),
            Operand::Rfm(name) => col(name),
            Operand::Cluster => return Err(unsupported("the field `cluster` comes from a model `audience` fits; it has no SQL form", Some("cluster"))),
        })
    }

    /// `e`, naming the field of `v` when it names none yet.
    fn at_field(mut e: Unsupported, v: &Value) -> Unsupported {
        e.field = e.field.or_else(|| Self::field_name(v).map(str::to_string));
        e
    }

    fn field_name(v: &Value) -> Option<&str> {
        match &v.operand {
            Operand::Contact(c) | Operand::Row(c) => Some(c),
            Operand::Rfm(n) => Some(n),
            Operand::Cluster => Some("cluster"),
            _ => None,
        }
    }

    /// The value as text: numbers in their shortest decimal form.
    fn text_view(&self, v: &Value) -> R<Expr> {
        let e = self.value(v)?;
        Ok(match v.ty {
            FieldType::Text => e,
            FieldType::Float => {
                let whole =
                    Expr::And(vec![bin(e.clone(), "=", Expr::Func("floor", vec![e.clone()])), bin(Expr::Func("abs", vec![e.clone()]), "<", Expr::Float(1e15))]);
                case(whole, cast(cast(e.clone(), Type::BigInt), Type::Text), cast(e, Type::Text))
            }
            FieldType::Datetime => func(Func::DatetimeText, vec![e]),
            FieldType::Bool => case(e.clone(), Expr::Str("true".into()), case(not(e), Expr::Str("false".into()), Expr::Null)),
            _ => cast(e, Type::Text),
        })
    }

    fn date_view(&self, v: &Value) -> R<Expr> {
        let e = self.value(v)?;
        Ok(if v.ty == FieldType::Datetime { func(Func::ToDate, vec![e]) } else { e })
    }

    fn bound(b: Bound) -> Expr {
        match b {
            Bound::Num(n) => Expr::Float(n.get()),
            Bound::Date(d) => Expr::Date(d),
        }
    }

    fn ordered(&self, v: &Value, b: Bound) -> R<Expr> {
        match b {
            Bound::Date(_) => self.date_view(v),
            Bound::Num(_) => Ok(cast(self.value(v)?, Type::Double)),
        }
    }

    /// One test, false (never NULL) on a missing value.
    fn leaf(&self, l: &Leaf) -> R<Expr> {
        Ok(coalesce(self.positive(l)?, Expr::Bool(false)))
    }

    fn positive(&self, l: &Leaf) -> R<Expr> {
        let v = &l.value;
        let text = |fold: bool| -> R<Expr> {
            let t = self.text_view(v)?;
            Ok(if fold { func(Func::Fold, vec![t]) } else { t })
        };
        Ok(match &l.test {
            Test::Const(b) => Expr::Bool(*b),
            Test::IsEmpty => is_null(self.value(v)?),
            Test::Truth(wants) => {
                let e = self.value(v)?;
                let words_of = func(Func::Fold, vec![Expr::Func("trim", vec![self.text_view(v)?])]);
                let tests: Vec<Expr> = wants
                    .iter()
                    .map(|want| match v.ty {
                        FieldType::Bool => bin(e.clone(), "=", Expr::Bool(*want)),
                        FieldType::Int => bin(e.clone(), "=", Expr::Int(i64::from(*want))),
                        _ => {
                            let words = if *want { crate::text::TRUE_WORDS } else { crate::text::FALSE_WORDS };
                            Expr::In(Box::new(words_of.clone()), words.iter().map(|w| Expr::Str(w.to_string())).collect())
                        }
                    })
                    .collect();
                Expr::Or(tests)
            }
            Test::NumEq(n) => bin(cast(self.value(v)?, Type::Double), "=", Expr::Float(n.get())),
            Test::DateEq(d) => bin(self.date_view(v)?, "=", Expr::Date(*d)),
            Test::Text { op, value, fold } => {
                let f = text(*fold)?;
                let s = Expr::Str(value.clone());
                match op {
                    TextOp::Eq => bin(f, "=", s),
                    TextOp::Contains => func(Func::Contains, vec![f, s]),
                    TextOp::StartsWith => func(Func::StartsWith, vec![f, s]),
                    TextOp::EndsWith => func(Func::EndsWith, vec![f, s]),
                }
            }
            Test::InText { values, fold } => Expr::In(Box::new(text(*fold)?), values.iter().map(|s| Expr::Str(s.clone())).collect()),
            Test::AnyAffix { op, values, fold } => {
                let f = text(*fold)?;
                let which = match op {
                    TextOp::EndsWith => Func::EndsWith,
                    TextOp::Contains => Func::Contains,
                    _ => Func::StartsWith,
                };
                Expr::Or(values.iter().map(|s| func(which, vec![f.clone(), Expr::Str(s.clone())])).collect())
            }
            Test::InDates(ds) => Expr::In(Box::new(self.date_view(v)?), ds.iter().map(|d| Expr::Date(*d)).collect()),
            Test::Matches { pattern, case_sensitive } => {
                let t = self.text_view(v)?;
                let subject = if *case_sensitive { t } else { func(Func::StripAccents, vec![t]) };
                func(Func::Matches, vec![subject, Expr::Str(pattern.clone()), Expr::Bool(!*case_sensitive)])
            }
            Test::Compare { op, bound } => {
                let lhs = self.ordered(v, *bound)?;
                let sym = match op {
                    CmpOp::Lt => "<",
                    CmpOp::Lte => "<=",
                    CmpOp::Gt => ">",
                    CmpOp::Gte => ">=",
                    CmpOp::Eq => "=",
                };
                bin(lhs, sym, Self::bound(*bound))
            }
            Test::Between { lo, hi } => {
                let lhs = self.ordered(v, *lo)?;
                Expr::And(vec![bin(lhs.clone(), ">=", Self::bound(*lo)), bin(lhs, "<=", Self::bound(*hi))])
            }
            Test::Rank { top, amount } => {
                let x = if v.ty.is_date() { self.date_view(v)? } else { cast(self.value(v)?, Type::Double) };
                // Ties share the lowest rank (SQL's RANK); missing values
                // sort last, so they never push a value out, and are never in.
                let order = if *top { Order::desc(x.clone()) } else { Order::asc(x.clone()) };
                let rank = Expr::Over { func: Box::new(Expr::Func("rank", vec![])), partition: vec![], order: vec![order] };
                let present = Expr::Over { func: Box::new(Expr::Func("count", vec![x.clone()])), partition: vec![], order: vec![] };
                let within = match amount {
                    RankAmount::Share { num, den } => {
                        bin(bin(bin(rank, "-", Expr::Int(1)), "*", Expr::Int(*den as i64)), "<", bin(present, "*", Expr::Int(*num as i64)))
                    }
                    RankAmount::Count(c) => bin(rank, "<=", Expr::Int(*c as i64)),
                };
                let e = Expr::And(vec![not(is_null(x)), within]);
                let mut ranks = self.ranks.borrow_mut();
                let i = match ranks.iter().position(|(k, _)| k == l) {
                    Some(i) => i,
                    None => {
                        ranks.push((l.clone(), e));
                        ranks.len() - 1
                    }
                };
                col(&format!("__k{i}"))
            }
        })
    }

    /// A condition over a table's rows (its `where`, a scope, a filter).
    fn rows_pred(&self, p: &Pred) -> R<Expr> {
        Ok(match p {
            Pred::Const(b) => Expr::Bool(*b),
            Pred::All(ps) => Expr::And(ps.iter().map(|p| self.rows_pred(p)).collect::<R<_>>()?),
            Pred::Any(ps) => Expr::Or(ps.iter().map(|p| self.rows_pred(p)).collect::<R<_>>()?),
            Pred::Not(p) => not(self.rows_pred(p)?),
            Pred::Leaf(l) => self.leaf(l).map_err(|e| Self::at_field(e, &l.value))?,
            Pred::Keys(set) => self.keys([set]),
            Pred::Member(a) => return Err(unsupported(format!("a segment reference (`{a}`) inside a table's condition"), None)),
        })
    }

    /// Whether the contact's key is in the sets: the keys written out,
    /// or, for a file `warehouse.lists` names, read from its relation (its
    /// keys normalised as `run` normalises them).
    fn keys<'k>(&self, sets: impl IntoIterator<Item = &'k KeySet>) -> Expr {
        let mut literal: Vec<Expr> = Vec::new();
        let mut tests: Vec<Expr> = Vec::new();
        for set in sets {
            let relation = set.file.as_ref().and_then(|f| self.rel.list_name(&f.path).map(|r| (f, r)));
            match relation {
                Some((file, relation)) => {
                    let key = self.norm_key(&file.column, None);
                    let select = Select {
                        items: vec![(key.clone(), KEY.into())],
                        from: Some(From::Relation { logical: list_logical(relation).to_string(), name: relation.to_string() }),
                        filter: Some(not(is_null(key))),
                        ..Select::default()
                    };
                    tests.push(Expr::InSelect(Box::new(col(KEY)), Box::new(select)));
                }
                None => literal.extend(set.keys.iter().map(|k| Expr::Str(k.clone()))),
            }
        }
        if !literal.is_empty() || tests.is_empty() {
            tests.insert(0, Expr::In(Box::new(col(KEY)), literal));
        }
        if tests.len() == 1 {
            tests.pop().expect("one test")
        } else {
            Expr::Or(tests)
        }
    }

    /// A contact-level condition; a segment reference is that segment's
    /// members, inlined.
    fn pred(&self, p: &Pred) -> R<Expr> {
        Ok(match p {
            Pred::Const(b) => Expr::Bool(*b),
            Pred::All(ps) => Expr::And(ps.iter().map(|p| self.pred(p)).collect::<R<_>>()?),
            Pred::Any(ps) => Expr::Or(ps.iter().map(|p| self.pred(p)).collect::<R<_>>()?),
            Pred::Not(p) => not(self.pred(p)?),
            Pred::Leaf(l) => self.leaf(l)?,
            Pred::Keys(set) => self.keys([set]),
            Pred::Member(alias) => {
                let s = self.plan.segments.iter().find(|s| &s.alias == alias).ok_or_else(|| unsupported(format!("no segment `{alias}` in the plan"), None))?;
                self.pred(&s.members)?
            }
        })
    }

    // ---- recipients ----

    /// The tests between members and recipients, each a boolean that is
    /// never NULL: (suppressed, consents, reachable), as columns of `__g`.
    fn reasons(&self, s: &SegmentPlan) -> R<(Expr, Expr, Expr)> {
        if s.channel == Channel::Sms {
            return Err(unsupported(
                "an SMS segment needs mobile numbers in E.164, which `audience` normalises with libphonenumber; SQL has no equivalent",
                None,
            ));
        }
        if self.data.channels.address.is_some() {
            return Err(unsupported("a project whose e-mail address is a column apart from the key is not compiled to SQL yet", None));
        }
        let suppressed = col(if s.purpose == Purpose::Marketing { "__sup_marketing" } else { "__sup_informational" });
        let consent = if s.purpose == Purpose::Marketing { col("__consent") } else { Expr::Bool(true) };
        Ok((suppressed, consent, col("__valid")))
    }

    /// The columns `reasons` reads, computed once per contact in `__g`.
    fn shared_flags(&self) -> R<Vec<(Expr, String)>> {
        let sup = &self.plan.suppress;
        let list = |extra: &[KeySet]| coalesce(self.keys(sup.all.iter().chain(extra)), Expr::Bool(false));
        let consent = match &self.plan.consent {
            Some(l) => self.leaf(l)?,
            None => Expr::Bool(true),
        };
        let valid = if self.data.email_key {
            coalesce(func(Func::Matches, vec![col(KEY), Expr::Str(self.d_email_pattern()), Expr::Bool(false)]), Expr::Bool(false))
        } else {
            Expr::Bool(true)
        };
        Ok(vec![
            (list(&sup.marketing), "__sup_marketing".into()),
            (list(&sup.informational), "__sup_informational".into()),
            (consent, "__consent".into()),
            (valid, "__valid".into()),
        ])
    }

    fn d_email_pattern(&self) -> String {
        // POSIX classes where a dialect's regex reads `\s` inside brackets
        // differently; both forms mean "no @, no white space".
        if self.d.name == "postgres" {
            "^[^@[:space:]]+@[^@[:space:].]+(\\.[^@[:space:].]+)+$".into()
        } else {
            crate::text::EMAIL_PATTERN.into()
        }
    }

    /// The contact's test group, by the MD5 rule of [`crate::groups`]: the
    /// first eight hex digits of MD5("salt:key") modulo 10,000 pick the
    /// first group whose running share exceeds them.
    fn group(&self, s: &SegmentPlan) -> Expr {
        let salted = bin(Expr::Str(format!("{}:", s.groups_salt)), "||", col(KEY));
        let digits = Expr::Func("substr", vec![func(Func::Md5Hex, vec![salted]), Expr::Int(1), Expr::Int(8)]);
        let bucket = func(Func::Mod, vec![func(Func::Hex8, vec![digits]), Expr::Int(10_000)]);
        let mut sum = 0i64;
        let mut arms = Vec::new();
        for g in &s.groups {
            sum += i64::from(g.basis_points);
            arms.push((bin(bucket.clone(), "<", Expr::Int(sum)), Expr::Str(g.name.clone())));
        }
        let last = s.groups.last().map(|g| Expr::Str(g.name.clone())).unwrap_or(Expr::Null);
        Expr::Case(arms, Some(Box::new(last)))
    }

    /// The statement of one segment's recipients, with its list columns.
    pub fn segment(&self, s: &SegmentPlan) -> R<String> {
        self.ranks.borrow_mut().clear();
        let mut ctes = Vec::new();
        self.base(&mut ctes)?;
        let body = self.recipients(s, From::Cte(RANKS.into()))?;
        self.ranks_cte(&mut ctes)?;
        Ok(self.print(&Query { ctes, body: vec![body] }))
    }

    /// The shared stage of `--stage`: one row per contact with every
    /// aggregate, rank test and recipient flag that the requested segments
    /// read (the `__g` of their statements, computed once). Call it before
    /// [`Compiler::staged_segment`], which names the same rank columns.
    pub fn stage(&self, segments: &[&SegmentPlan]) -> R<String> {
        self.ranks.borrow_mut().clear();
        let mut ctes = Vec::new();
        self.base(&mut ctes)?;
        // Lowering every segment registers its rank tests as columns.
        for s in segments {
            self.recipients(s, From::Cte(RANKS.into()))?;
        }
        self.ranks_cte(&mut ctes)?;
        let body = Select { star: true, from: Some(From::Cte(RANKS.into())), ..Select::default() };
        Ok(self.print(&Query { ctes, body: vec![body] }))
    }

    /// Whether the segment compiles (its conditions, list columns and
    /// recipient tests), without keeping what it registers.
    pub fn check_segment(&self, s: &SegmentPlan) -> R<()> {
        let before = self.ranks.borrow().len();
        let r = self.recipients(s, From::Cte(RANKS.into())).map(|_| ());
        self.ranks.borrow_mut().truncate(before);
        r
    }

    /// A segment's recipients read from the stage table `table`.
    pub fn staged_segment(&self, s: &SegmentPlan, table: &str) -> R<String> {
        let before = self.ranks.borrow().len();
        let body = self.recipients(s, From::Stage(table.to_string()))?;
        if self.ranks.borrow().len() != before {
            return Err(unsupported("a rank test that the stage does not hold (compile the stage with every segment)", None));
        }
        Ok(self.print(&Query { ctes: Vec::new(), body: vec![body] }))
    }

    /// The `SELECT` of a segment's recipients with its list columns, over `from`
    /// (the statement's `__g`, or the stage table).
    fn recipients(&self, s: &SegmentPlan, from: From) -> R<Select> {
        let members = self.pred(&s.members)?;
        let (suppressed, consent, valid) = self.reasons(s)?;
        let mut items = Vec::new();
        match &s.export {
            Some(e) => {
                for c in &e.columns {
                    let v = match &c.value {
                        ColumnValue::Field(v) => self.value(v).map_err(|e| Self::at_field(e, v))?,
                        ColumnValue::Address => col(KEY),
                        ColumnValue::Phone => {
                            return Err(unsupported(format!("the list column `{}` holds E.164 numbers, which SQL cannot normalise", c.header), None))
                        }
                        ColumnValue::Group => self.group(s),
                        ColumnValue::Json(_) | ColumnValue::Joined(_) => {
                            return Err(unsupported(
                                format!("the list column `{}` (a preset's JSON or joined text) is not compiled to SQL yet", c.header),
                                None,
                            ))
                        }
                    };
                    items.push((v, c.header.clone()));
                }
            }
            None => items.push((col(KEY), self.data.key_column.clone())),
        }
        Ok(Select {
            items,
            from: Some(from),
            filter: Some(Expr::And(vec![members, not(suppressed), consent, valid])),
            order_by: vec![Order::asc(col(KEY))],
            ..Select::default()
        })
    }

    /// One statement of counts: a row per requested segment, in the order
    /// asked. Every count is taken in one pass over the contacts (one row of
    /// 5 × N columns), then turned into N rows by a join with the list of
    /// aliases: engines that inline a CTE at each use (ClickHouse, BigQuery)
    /// would otherwise compute everything once per segment.
    pub fn counts(&self) -> R<String> {
        self.ranks.borrow_mut().clear();
        let mut ctes = Vec::new();
        self.base(&mut ctes)?;
        const COLUMNS: [&str; 5] = ["members", "recipients", "suppressed", "no_consent", "invalid_email"];
        let mut totals: Vec<(Expr, String)> = Vec::new();
        let mut aliases: Vec<Select> = Vec::new();
        let requested: Vec<&SegmentPlan> = self.plan.requested().collect();
        for (i, s) in requested.iter().enumerate() {
            let m = self.pred(&s.members)?;
            let (sup, consent, valid) = self.reasons(s)?;
            let count = |e: Expr| Expr::Func("count", vec![masked(e, Expr::Int(1))]);
            let kept = Expr::And(vec![m.clone(), not(sup.clone())]);
            let each = [
                count(m.clone()),
                count(Expr::And(vec![kept.clone(), consent.clone(), valid.clone()])),
                count(Expr::And(vec![m, sup])),
                count(Expr::And(vec![kept.clone(), not(consent.clone())])),
                count(Expr::And(vec![kept, consent, not(valid)])),
            ];
            for (c, e) in COLUMNS.iter().zip(each) {
                totals.push((e, format!("{c}_{i}")));
            }
            aliases.push(Select { items: vec![(Expr::Int(i as i64), "__i".into()), (Expr::Str(s.alias.clone()), "alias".into())], ..Select::default() });
        }
        self.ranks_cte(&mut ctes)?;
        ctes.push(("__n".into(), Select { items: totals, from: Some(From::Cte(RANKS.into())), ..Select::default() }));
        let mut items = vec![(col("alias"), "alias".to_string())];
        for c in COLUMNS {
            let arms = (0..requested.len()).map(|i| (bin(col("__i"), "=", Expr::Int(i as i64)), col(&format!("{c}_{i}")))).collect();
            items.push((Expr::Case(arms, None), c.to_string()));
        }
        let list = Query { ctes: Vec::new(), body: aliases };
        let body = Select {
            items,
            from: Some(From::Cross(Box::new(From::Cte("__n".into())), Box::new(From::Sub(Box::new(list), "__s".into())))),
            order_by: vec![Order::asc(col("__i"))],
            ..Select::default()
        };
        Ok(self.print(&Query { ctes, body: vec![body] }))
    }

    fn print(&self, q: &Query) -> String {
        let mut p = Printer::new(self.d);
        p.dbt_source = self.dbt_source;
        p.query(q);
        p.push(self.d.suffix);
        p.finish()
    }

    /// A relation's dotted name, quoted for the dialect.
    pub fn relation_name(&self, name: &str) -> String {
        Printer::new(self.d).relation(name)
    }

    /// A name for `--materialize`, quoted for the dialect.
    pub fn table_name(&self, prefix: &str, alias: &str) -> String {
        Printer::new(self.d).ident(&format!("{prefix}{}", alias.replace('-', "_")))
    }
}

/// The relation names of `warehouse:` in audience.yaml.
pub fn relations(project: &Project) -> Relations {
    match &project.warehouse {
        Some(w) => Relations {
            contacts: w.contacts.clone(),
            tables: w.tables.clone(),
            lists: w.lists.iter().map(|(file, relation)| (std::path::PathBuf::from(file), relation.clone())).collect(),
        },
        None => Relations::default(),
    }
}
