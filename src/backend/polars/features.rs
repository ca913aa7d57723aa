//! The feature table: the contacts with every aggregate of the plan beside
//! them, computed in one pass per export file. Tables over the same file (all
//! tickets, and those that count) and every scope on them share that pass:
//! each (table, scope) becomes a row mask, and each aggregate reads only the
//! rows its mask keeps.

use std::collections::HashMap;

use polars::prelude::*;

use super::lower::{tidy, Lower};
use crate::load::{Dataset, TableData, KEY, ROW};
use crate::plan::{AggKind, Plan};
use crate::segment::ast::Agg;
use crate::types::columns::{self, CONTACT};
use crate::types::FieldType;

/// What one aggregate column computes, its row filter lowered.
#[derive(Clone, Debug)]
enum Kind {
    Def { filter: Option<Expr>, agg: Agg, field: Option<String> },
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

/// The plan's aggregates, each named by its index.
fn agg_cols(plan: &Plan, data: &Dataset, lower: &Lower) -> PolarsResult<Vec<AggCol>> {
    let mut out = Vec::with_capacity(plan.aggs.len());
    for (i, a) in plan.aggs.iter().enumerate() {
        let Some(t) = data.table(&a.agg.table) else { polars_bail!(ComputeError: "no table `{}`", a.agg.table) };
        let kind = match &a.agg.kind {
            AggKind::Rows => Kind::Rows,
            AggKind::Orders => Kind::OrderCount,
            AggKind::Spent => Kind::TotalSpent,
            AggKind::FirstDate => Kind::FirstDate,
            AggKind::LastDate => Kind::LastDate,
            AggKind::Of { agg, field, filter } => {
                let filter = match filter {
                    Some(p) => Some(lower.rows(p, &t.source)?),
                    None => None,
                };
                Kind::Def { filter, agg: *agg, field: field.clone() }
            }
        };
        out.push(AggCol { table: a.agg.table.clone(), scope: a.agg.scope, kind, name: columns::agg(i), ty: a.ty, zero_when_none: a.agg.zero_when_none() });
    }
    Ok(out)
}

/// A table's rows that count at all: its `where` applied.
pub fn rows_that_count(plan_filter: Option<&crate::plan::Pred>, t: &TableData, lower: &Lower) -> PolarsResult<LazyFrame> {
    let Some(w) = plan_filter else { return Ok(t.lf.clone()) };
    let keep = lower.rows(w, &t.source)?.fill_null(lit(false));
    Ok(t.lf.clone().with_columns(lower.fold_columns(&t.source)).filter(keep))
}

/// Builds the feature table: the contacts with one aggregation per
/// export beside them. Tables over the same file (all tickets, and those
/// that count) and every scope on them share that one pass: each (table,
/// scope) becomes a row mask, and each aggregate reads only the rows
/// its mask keeps. The aggregations run here (the scans and group-bys,
/// the heavy part); what is left in the returned frame are per-contact
/// columns over the result, for the caller to collect in memory.
pub fn features(plan: &Plan, data: &Dataset, lower: &Lower) -> PolarsResult<LazyFrame> {
    let all = agg_cols(plan, data, lower)?;
    let table_data = |name: &str| data.table(name).expect("resolved in the plan");
    // Per-contact frames (one row per contact that has rows), computed
    // together when each source takes one pass, else part by part.
    let mut pending: Vec<LazyFrame> = Vec::new();
    let mut picks: Vec<Pick> = Vec::new();
    let mut ready: Vec<DataFrame> = Vec::new();
    let mut totals: Vec<Expr> = Vec::new();
    let mut sources: Vec<&str> = Vec::new();
    for a in &all {
        let src = table_data(&a.table).source.as_str();
        if !sources.contains(&src) {
            sources.push(src);
        }
    }
    for (si, src) in sources.into_iter().enumerate() {
        let aggs: Vec<&AggCol> = all.iter().filter(|a| table_data(&a.table).source == src).collect();
        let first = table_data(&aggs[0].table);
        let mut masks: Vec<Expr> = Vec::new();
        let mut group_masks: HashMap<(String, Option<usize>), Expr> = HashMap::new();
        for a in &aggs {
            let g = (a.table.clone(), a.scope);
            if group_masks.contains_key(&g) {
                continue;
            }
            let mut m: Option<Expr> = None;
            if let Some(w) = plan.table_filter(&a.table) {
                m = Some(lower.rows(w, src)?);
            }
            if let Some(f) = a.scope.and_then(|id| plan.scopes[id].filter.as_ref()) {
                let f = lower.rows(f, src)?;
                m = Some(match m {
                    Some(m) => m.and(f),
                    None => f,
                });
            }
            let name = columns::group_mask(si, group_masks.len());
            masks.push(m.unwrap_or(lit(true)).fill_null(lit(false)).alias(name.as_str()));
            group_masks.insert(g, col(name.as_str()));
        }
        let picks_any = aggs.iter().any(|a| matches!(a.kind, Kind::Def { agg: Agg::First | Agg::Last, .. }));
        // `first`/`last` by a date: the row with the least (or greatest)
        // key of (date, file order) is found by a plain min (max) of that
        // key packed into one integer (see `OrderKey`), and its value read
        // afterwards; no sort of the rows. Dates the key cannot hold exactly
        // (nanoseconds, too wide a span) are sorted instead.
        let key = match (picks_any, first.cfg.date.as_deref()) {
            (true, Some(date)) => {
                let t0 = std::time::Instant::now();
                let k = OrderKey::of(first, date)?;
                crate::exec::timing("features: order key", t0);
                k
            }
            _ => None,
        };
        let ordered = picks_any && key.is_none();
        let keyed = key.is_some();
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
            let t = table_data(&a.table);
            if let Some(value) = distinct_of(t, a) {
                match distinct.iter_mut().find(|(v, _)| *v == value) {
                    Some((_, list)) => list.push((mask.clone(), *a)),
                    None => distinct.push((value, vec![(mask.clone(), *a)])),
                }
            }
            if let Some(e) = agg_expr(t, a, mask, keyed) {
                exprs.push(e);
            }
            if let (Kind::Def { agg: Agg::First | Agg::Last, field: Some(f), .. }, true) = (&a.kind, keyed) {
                let row_bits = key.map_or(0, |k| k.row_bits);
                picks.push(Pick { name: a.name.clone(), table: a.table.clone(), field: f.clone(), row_bits });
            }
        }
        // The source's rows become one frame per contact and step: the
        // plain aggregates, then one per column that distinct counts read.
        let steps = |part: Option<Part>| -> Vec<LazyFrame> {
            let mut rows = first.lf.clone();
            let mut ids = data.contacts.clone().lazy().select([col(KEY), col(ROW).alias(CONTACT)]);
            if let Some(part) = part {
                rows = rows.filter(part.keeps(col(KEY)));
                ids = ids.filter(part.keeps(col(KEY)));
            }
            // Aggregate masks build on the group masks: two steps.
            let mut rows = rows.with_columns(lower.fold_columns(src)).with_columns(masks.clone()).with_columns(agg_masks.clone());
            if let (Some(key), Some(date)) = (key, first.cfg.date.as_deref()) {
                rows = rows.with_column(key.expr(col(date)));
            }
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
                let counts: Vec<Expr> =
                    list.iter().enumerate().map(|(k, _)| col(columns::distinct_flag(k)).cast(DataType::Int64).sum().alias(distinct_name(si, di, k))).collect();
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
    // Together, not one after the other: they share each export's scan and
    // its join to the contacts. Measured at 1M contacts and 125 segments,
    // one at a time peaked at 2.9 GB instead of 5.2 GB but took 37 s
    // instead of 29 s, and the sample's segments at 600k contacts 9.1 s
    // instead of 7 s: the memory was not worth the time.
    ready.extend(crate::exec::run_queries(pending)?);
    // The aggregates are set beside the contact columns, which are not
    // copied (at 10M contacts a copy is 2 GB), each in contact order.
    let mut df = data.contacts.clone();
    let positions = contact_positions(&df)?;
    for agg in ready {
        for c in align(agg, &positions, df.height())? {
            df.with_column(c)?;
        }
    }
    let t0 = std::time::Instant::now();
    pick_values(&mut df, &picks, data)?;
    crate::exec::timing("features: first/last values", t0);
    let mut lf = df.lazy().with_columns(totals);
    let fills: Vec<Expr> = all.iter().filter(|a| a.zero_when_none).map(|a| col(a.name.as_str()).fill_null(lit(0)).alias(a.name.as_str())).collect();
    if !fills.is_empty() {
        lf = lf.with_columns(fills);
    }
    Ok(lf.with_columns(lower.fold_columns("")))
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

/// A `first`/`last` aggregate found by its order key: the contact's
/// column holds the key of the row picked until [`pick_values`] reads it.
struct Pick {
    name: String,
    table: String,
    field: String,
    /// The low bits of the key that hold the row number.
    row_bits: u32,
}

/// (date, file order) as one integer that orders a table's rows the same
/// way: the date in units from the table's earliest, above the row's
/// number. Exact or not used: the units are the coarsest that every date
/// of the table is a whole number of (days for a date; for a datetime a
/// second, a millisecond or a microsecond), and the span in those units
/// must fit beside the row numbers.
#[derive(Clone, Copy)]
struct OrderKey {
    is_date: bool,
    /// Days per unit for a date, microseconds per unit for a datetime.
    unit: i64,
    earliest: i64,
    row_bits: u32,
}

impl OrderKey {
    fn of(t: &TableData, date: &str) -> PolarsResult<Option<OrderKey>> {
        let is_date = match t.lf.clone().collect_schema()?.get(date) {
            Some(DataType::Date) => true,
            // Nanoseconds would be cut to microseconds: such rows are sorted.
            Some(DataType::Datetime(TimeUnit::Milliseconds | TimeUnit::Microseconds, _)) => false,
            _ => return Ok(None),
        };
        let v = Self::raw(col(date), is_date);
        let stats =
            t.lf.clone()
                .select([
                    v.clone().min().alias("min"),
                    v.clone().max().alias("max"),
                    (v.clone() % lit(1_000_000i64)).neq(lit(0i64)).any(true).alias("sub_second"),
                    (v % lit(1_000i64)).neq(lit(0i64)).any(true).alias("sub_milli"),
                    // Row numbers count the rows without a key too.
                    col(ROW).cast(DataType::Int64).max().alias("last_row"),
                ])
                .collect()?;
        let get = |name: &str| -> PolarsResult<Option<i64>> { Ok(stats.column(name)?.i64()?.get(0)) };
        let flag = |name: &str| -> PolarsResult<bool> { Ok(stats.column(name)?.bool()?.get(0).unwrap_or(false)) };
        let (Some(min), Some(max), Some(last_row)) = (get("min")?, get("max")?, get("last_row")?) else { return Ok(None) };
        let row_bits = (u64::BITS - (last_row as u64).leading_zeros()).max(1);
        let unit = if is_date {
            1
        } else if !flag("sub_second")? {
            1_000_000
        } else if !flag("sub_milli")? {
            1_000
        } else {
            1
        };
        let span = ((max - min) / unit) as u64;
        let span_bits = u64::BITS - span.leading_zeros();
        Ok((span_bits + row_bits <= 62).then_some(OrderKey { is_date, unit, earliest: min, row_bits }))
    }

    /// A date as its day number, a datetime as microseconds.
    fn raw(date: Expr, is_date: bool) -> Expr {
        if is_date {
            date.cast(DataType::Int32).cast(DataType::Int64)
        } else {
            date.cast(DataType::Datetime(TimeUnit::Microseconds, None)).cast(DataType::Int64)
        }
    }

    fn expr(self, date: Expr) -> Expr {
        let OrderKey { earliest, unit, row_bits, .. } = self;
        let high = Self::raw(date, self.is_date).map(
            move |c: Column| {
                let out: Int64Chunked = c.i64()?.apply_values(|v| ((v - earliest) / unit) << row_bits);
                Ok(out.with_name(c.name().clone()).into_column())
            },
            |_, f| Ok(Field::new(f.name().clone(), DataType::Int64)),
        );
        (high + col(ROW).cast(DataType::Int64)).alias(columns::ORDER_KEY)
    }
}

/// Replaces each pick's order keys by the picked row's value: the row
/// number is the key's low part, and a table's row number is its position.
fn pick_values(df: &mut DataFrame, picks: &[Pick], data: &Dataset) -> PolarsResult<()> {
    // The picked columns of each export, read in one pass over it.
    let mut sources: Vec<(&str, Vec<&str>)> = Vec::new();
    for p in picks {
        let src = data.table(&p.table).expect("resolved in the plan").source.as_str();
        match sources.iter_mut().find(|(s, _)| *s == src) {
            Some((_, fields)) if !fields.contains(&p.field.as_str()) => fields.push(&p.field),
            Some(_) => {}
            None => sources.push((src, vec![&p.field])),
        }
    }
    let mut read: HashMap<&str, DataFrame> = HashMap::new();
    for (src, fields) in sources {
        let t = data.tables.iter().find(|t| t.source == src).expect("a table reads it");
        read.insert(src, t.lf.clone().select(fields.iter().map(|f| col(*f)).collect::<Vec<_>>()).collect()?);
    }
    for p in picks {
        let src = data.table(&p.table).expect("resolved in the plan").source.as_str();
        let values = read[src].column(p.field.as_str())?;
        let keys = df.column(p.name.as_str())?.i64()?.clone();
        let low = (1i64 << p.row_bits) - 1;
        let rows: IdxCa = keys.iter().map(|k| k.map(|k| (k & low) as IdxSize)).collect();
        let picked = values.take(&rows)?.with_name(p.name.as_str().into());
        df.with_column(picked)?;
    }
    Ok(())
}

fn stack(frames: Vec<DataFrame>) -> PolarsResult<DataFrame> {
    let mut frames = frames.into_iter();
    let mut out = frames.next().expect("at least one part");
    for df in frames {
        out.vstack_mut(&df)?;
    }
    Ok(out)
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
fn agg_expr(t: &TableData, a: &AggCol, mask: Expr, keyed: bool) -> Option<Expr> {
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
                // The picked row's order key; its value is read in `pick_values`.
                Agg::First | Agg::Last if keyed => {
                    let k = when(mask.clone().and(col(date.unwrap_or_default()).is_not_null())).then(col(columns::ORDER_KEY)).otherwise(lit(NULL));
                    if *agg == Agg::First {
                        k.min()
                    } else {
                        k.max()
                    }
                }
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
