//! The plan's values and tests as polars expressions. Every positive test is
//! false on a missing value; a negation is the positive's `not`.

use std::cell::RefCell;

use chrono::NaiveDate;
use polars::prelude::*;

use super::masks::Mask;
use crate::plan::{Bound, CmpOp, Leaf, Operand, Plan, Pred, Test, TextOp, Value};
use crate::segment::literal::{compile_regex, RankAmount};
use crate::text::{self, number_text};
use crate::types::columns;
use crate::types::{member_column, FieldType, KEY};

/// Lowers the values and predicates of one plan, noting which text columns
/// are read folded so that each is folded once per frame.
pub struct Lower<'a> {
    pub plan: &'a Plan,
    /// (source, column): "" is the contacts, else a table's file.
    folds: RefCell<Vec<(String, String)>>,
}

impl<'a> Lower<'a> {
    pub fn new(plan: &'a Plan) -> Self {
        Lower { plan, folds: RefCell::new(Vec::new()) }
    }

    /// The value over the feature table (or over a table's rows).
    pub fn value(&self, v: &Value) -> Expr {
        match &v.operand {
            Operand::Contact(c) | Operand::Row(c) => col(c.as_str()),
            Operand::Agg(id) => col(columns::agg(*id)),
            Operand::Ratio { total, count } => {
                let n = col(columns::agg(*count));
                when(n.clone().gt(lit(0))).then(tidy(col(columns::agg(*total)) / n.cast(DataType::Float64))).otherwise(lit(NULL).cast(DataType::Float64))
            }
            Operand::DaysSince(last) => {
                let days = crate::dates::to_days(self.plan.as_of);
                (lit(days) - col(columns::agg(*last)).cast(DataType::Int32)).cast(DataType::Int64)
            }
            Operand::Rfm(name) => col(*name),
            Operand::Cluster => col(columns::CLUSTER),
        }
    }

    /// The column holding a text column already folded, for columns of the
    /// contacts or of `source`'s rows; registered so that the frame gets it.
    fn folded(&self, v: &Value, source: &str) -> Option<Expr> {
        let (source, column) = match &v.operand {
            Operand::Contact(c) if v.ty == FieldType::Text => ("", c),
            Operand::Row(c) if v.ty == FieldType::Text => (source, c),
            _ => return None,
        };
        let entry = (source.to_string(), column.to_string());
        let mut folds = self.folds.borrow_mut();
        if !folds.contains(&entry) {
            folds.push(entry);
        }
        Some(col(columns::folded(column)))
    }

    /// The fold columns `source` needs ("" for the contacts).
    pub fn fold_columns(&self, source: &str) -> Vec<Expr> {
        self.folds.borrow().iter().filter(|(s, _)| s == source).map(|(_, c)| fold_text(col(c.as_str())).alias(columns::folded(c))).collect()
    }

    /// A contact-level predicate as a mask: leaves become expressions over
    /// the feature table, the rest is combined by [`super::masks`].
    pub fn mask(&self, p: &Pred) -> PolarsResult<Mask> {
        Ok(match p {
            Pred::Const(b) => Mask::Const(*b),
            Pred::All(ps) => Mask::all(ps.iter().map(|p| self.mask(p)).collect::<PolarsResult<_>>()?),
            Pred::Any(ps) => Mask::any(ps.iter().map(|p| self.mask(p)).collect::<PolarsResult<_>>()?),
            Pred::Not(p) => Mask::not(self.mask(p)?),
            Pred::Leaf(l) => Mask::Leaf(self.leaf(l, "")?),
            Pred::Member(alias) => Mask::Member(member_column(alias)),
            Pred::Keys(set) => Mask::Leaf(key_mask(&set.keys)),
        })
    }

    /// A predicate over the rows of `source` as one expression; `and`/`or`
    /// are built balanced, so a long list makes a shallow tree.
    pub fn rows(&self, p: &Pred, source: &str) -> PolarsResult<Expr> {
        Ok(match p {
            Pred::Const(b) => lit(*b),
            Pred::All(ps) => balanced(ps.iter().map(|p| self.rows(p, source)).collect::<PolarsResult<_>>()?, true),
            Pred::Any(ps) => balanced(ps.iter().map(|p| self.rows(p, source)).collect::<PolarsResult<_>>()?, false),
            Pred::Not(p) => self.rows(p, source)?.not(),
            Pred::Leaf(l) => self.leaf(l, source)?,
            Pred::Keys(set) => key_mask(&set.keys),
            Pred::Member(alias) => polars_bail!(ComputeError: "a segment reference (`{}`) cannot be tested on a table's rows", alias),
        })
    }

    /// One test, false where the value is missing.
    pub fn leaf(&self, l: &Leaf, source: &str) -> PolarsResult<Expr> {
        Ok(self.positive(l, source)?.fill_null(lit(false)))
    }

    fn positive(&self, l: &Leaf, source: &str) -> PolarsResult<Expr> {
        let ty = l.value.ty;
        let e = self.value(&l.value);
        // The field as text compared: as written, or folded (from the
        // folded column when there is one).
        let text_field = |fold: bool| -> Expr {
            if !fold {
                return text_view(e.clone(), ty);
            }
            match self.folded(&l.value, source) {
                Some(f) => f,
                None => fold_text(text_view(e.clone(), ty)),
            }
        };
        Ok(match &l.test {
            Test::Const(b) => lit(*b),
            Test::IsEmpty => e.is_null(),
            Test::Truth(wants) => {
                let folded = || self.folded(&l.value, source).unwrap_or_else(|| fold_text(e.clone()));
                let tests = wants.iter().map(|b| truth(e.clone(), folded, ty, *b));
                tests.reduce(Expr::or).unwrap_or(lit(false))
            }
            Test::NumEq(n) => e.cast(DataType::Float64).eq(lit(n.get())),
            Test::DateEq(d) => date_view(e, ty).eq(date_lit(*d)),
            Test::Text { op, value, fold } => {
                let f = text_field(*fold);
                match op {
                    TextOp::Eq => f.eq(lit(value.clone())),
                    TextOp::Contains => f.str().contains_literal(lit(value.clone())),
                    TextOp::StartsWith => f.str().starts_with(lit(value.clone())),
                    TextOp::EndsWith => f.str().ends_with(lit(value.clone())),
                }
            }
            Test::InText { values, fold } => in_set(text_field(*fold), values.clone()),
            Test::AnyAffix { op: TextOp::Contains, values, fold } => contains_any(text_field(*fold), values),
            Test::AnyAffix { op, values, fold } => any_affix(text_field(*fold), values.clone(), *op == TextOp::EndsWith),
            Test::InDates(ds) => {
                let d = date_view(e, ty);
                balanced(ds.iter().map(|x| d.clone().eq(date_lit(*x))).collect(), false)
            }
            Test::Matches { pattern, case_sensitive } => {
                // The same builder `check` used, so this cannot fail where it passed.
                let re = compile_regex(pattern, *case_sensitive).map_err(|m| polars_err!(ComputeError: "{}", m))?;
                let subject = if *case_sensitive { text_view(e, ty) } else { map_text(text_view(e, ty), text::strip_accents, str::is_ascii) };
                regex_match(subject, re)
            }
            Test::Compare { op, bound } => {
                let (lhs, b) = ordered(e, ty, *bound);
                match op {
                    CmpOp::Lt => lhs.lt(b),
                    CmpOp::Lte => lhs.lt_eq(b),
                    CmpOp::Gt => lhs.gt(b),
                    CmpOp::Gte => lhs.gt_eq(b),
                    CmpOp::Eq => lhs.eq(b),
                }
            }
            Test::Between { lo, hi } => {
                let (lhs, lo) = ordered(e, ty, *lo);
                lhs.clone().gt_eq(lo).and(lhs.lt_eq(bound_lit(*hi)))
            }
            Test::Rank { top, amount } => {
                let v = if ty.is_date() { date_view(e, ty) } else { e.cast(DataType::Float64) };
                // The k-th highest value with ties all in: a value is in when
                // fewer than k values beat it, that is when its rank (ties
                // sharing the lowest rank) is at most k. Missing values have no
                // rank and are never in; N counts the values present. With
                // k = ⌈N × num / den⌉, rank ≤ k ⇔ (rank − 1) × den < N × num:
                // integers only, so no rounding decides who is in.
                let rank = v.clone().rank(RankOptions { method: RankMethod::Min, descending: *top }, None).cast(DataType::Float64);
                match amount {
                    RankAmount::Share { num, den } => ((rank - lit(1.0)) * lit(*den as f64)).lt(v.count().cast(DataType::Float64) * lit(*num as f64)),
                    RankAmount::Count(c) => rank.lt_eq(lit(*c as f64)),
                }
            }
        })
    }
}

/// The left side and a bound of an ordering test, typed alike.
fn ordered(e: Expr, ty: FieldType, bound: Bound) -> (Expr, Expr) {
    let lhs = match bound {
        Bound::Date(_) => date_view(e, ty),
        Bound::Num(_) => e.cast(DataType::Float64),
    };
    (lhs, bound_lit(bound))
}

fn bound_lit(bound: Bound) -> Expr {
    match bound {
        Bound::Date(d) => date_lit(d),
        Bound::Num(n) => lit(n.get()),
    }
}

/// Whether the contact's key is one of `keys`.
pub fn key_mask(keys: &[String]) -> Expr {
    if keys.is_empty() {
        lit(false)
    } else {
        in_set(col(KEY), keys.to_vec()).fill_null(lit(false))
    }
}

fn string_out(_: &Schema, f: &Field) -> PolarsResult<Field> {
    Ok(Field::new(f.name().clone(), DataType::String))
}

/// `f` over every text value; `keeps(v)` says `f(v) == v` cheaply. A
/// column `f` leaves alone is returned as it is, without a copy.
fn map_text(e: Expr, f: fn(&str) -> String, keeps: fn(&str) -> bool) -> Expr {
    e.map(
        move |c: Column| {
            // Table columns repeat a few values (events, tariffs) over many
            // rows: each distinct value that changes is transformed once.
            let out = {
                let ca = c.str()?;
                let mut changed: PlHashMap<&str, String> = PlHashMap::new();
                for s in ca.iter().flatten() {
                    if !keeps(s) && !changed.contains_key(s) {
                        changed.insert(s, f(s));
                    }
                }
                if changed.is_empty() {
                    None
                } else {
                    let out: StringChunked = ca.iter().map(|v| v.map(|s| changed.get(s).map_or(s, String::as_str))).collect();
                    Some(out.with_name(c.name().clone()).into_column())
                }
            };
            Ok(out.unwrap_or(c))
        },
        string_out,
    )
}

/// AND (or OR) of `parts` as a tree of depth log2(n) rather than n.
pub fn balanced(mut parts: Vec<Expr>, and: bool) -> Expr {
    if parts.is_empty() {
        return lit(and);
    }
    while parts.len() > 1 {
        let mut next = Vec::with_capacity(parts.len().div_ceil(2));
        let mut it = parts.into_iter();
        while let Some(a) = it.next() {
            next.push(match it.next() {
                Some(b) if and => a.and(b),
                Some(b) => a.or(b),
                None => a,
            });
        }
        parts = next;
    }
    parts.pop().unwrap_or(lit(and))
}

/// The text folded for comparison: lower case, accents removed.
pub fn fold_text(e: Expr) -> Expr {
    map_text(e, text::fold, text::is_folded)
}

/// The field as text: numbers in their shortest decimal form.
fn text_view(e: Expr, ty: FieldType) -> Expr {
    match ty {
        FieldType::Text => e,
        FieldType::Float => e.map(
            |c: Column| {
                let f = c.cast(&DataType::Float64)?;
                let out: StringChunked = f.f64()?.iter().map(|v| v.map(number_text)).collect();
                Ok(out.with_name(c.name().clone()).into_column())
            },
            string_out,
        ),
        FieldType::Datetime => e.dt().to_string("%Y-%m-%dT%H:%M:%S"),
        _ => e.cast(DataType::String),
    }
}

fn date_view(e: Expr, ty: FieldType) -> Expr {
    match ty {
        FieldType::Datetime => e.dt().date(),
        _ => e,
    }
}

fn date_lit(d: NaiveDate) -> Expr {
    lit(crate::dates::to_days(d)).cast(DataType::Date)
}

/// Membership of a text expression in a set of values; missing stays missing.
/// A hash set in a UDF sidesteps polars' list-literal coercion rules.
pub fn in_set(e: Expr, values: Vec<String>) -> Expr {
    let set: std::sync::Arc<PlHashSet<String>> = std::sync::Arc::new(values.into_iter().collect());
    e.map(
        move |c: Column| {
            let ca = c.str()?;
            let out: BooleanChunked = ca.iter().map(|v| v.map(|s| set.contains(s))).collect();
            Ok(out.with_name(c.name().clone()).into_column())
        },
        |_, f| Ok(Field::new(f.name().clone(), DataType::Boolean)),
    )
}

/// Whether each text value starts (or, with `suffix`, ends) with one of
/// `affixes`; missing stays missing. Each of the value's own prefixes (or
/// suffixes) is looked up in a set, so the cost grows with the length of
/// the text, not with the number of affixes.
fn any_affix(e: Expr, affixes: Vec<String>, suffix: bool) -> Expr {
    let lengths: std::collections::BTreeSet<usize> = affixes.iter().map(String::len).collect();
    let set: std::sync::Arc<(PlHashSet<String>, Vec<usize>)> = std::sync::Arc::new((affixes.into_iter().collect(), lengths.into_iter().collect()));
    text_test(e, move |s| {
        let (set, lengths) = &*set;
        lengths.iter().take_while(|n| **n <= s.len()).any(|&n| {
            let part = if suffix { s.get(s.len() - n..) } else { s.get(..n) };
            part.is_some_and(|p| set.contains(p))
        })
    })
}

/// Whether each text value contains one of `words`, in one pass over it
/// however many words there are (the regex crate runs an alternation of
/// literals as Aho-Corasick); missing stays missing.
fn contains_any(e: Expr, words: &[String]) -> Expr {
    let alternation = words.iter().map(|w| regex::escape(w)).collect::<Vec<_>>().join("|");
    let finder = match regex::Regex::new(&alternation) {
        Ok(f) => std::sync::Arc::new(f),
        // Past the regex size limit: one test per word.
        Err(_) => return balanced(words.iter().map(|w| e.clone().str().contains_literal(lit(w.clone()))).collect(), false),
    };
    text_test(e, move |s| finder.is_match(s))
}

/// Whether `re` matches each text value; missing stays missing. The regex
/// is compiled once per query, never per chunk.
fn regex_match(e: Expr, re: regex::Regex) -> Expr {
    text_test(e, move |s| re.is_match(s))
}

/// A per-value test on a text column as a boolean column of the same name;
/// missing stays missing.
fn text_test(e: Expr, test: impl Fn(&str) -> bool + Send + Sync + 'static) -> Expr {
    e.map(
        move |c: Column| {
            let out: BooleanChunked = c.str()?.iter().map(|v| v.map(&test)).collect();
            Ok(out.with_name(c.name().clone()).into_column())
        },
        |_, f| Ok(Field::new(f.name().clone(), DataType::Boolean)),
    )
}

/// A truth test for a bool, int (1/0) or text (boolean words) field; the
/// words are read without regard to case or accents, even under
/// `case_sensitive`.
fn truth(e: Expr, folded: impl Fn() -> Expr, ty: FieldType, want: bool) -> Expr {
    match ty {
        FieldType::Bool => e.eq(lit(want)),
        FieldType::Int => e.eq(lit(if want { 1i64 } else { 0 })),
        _ => {
            let words: Vec<String> = (if want { text::TRUE_WORDS } else { text::FALSE_WORDS }).iter().map(|s| s.to_string()).collect();
            in_set(folded(), words)
        }
    }
}

/// Sums of money in binary floating point pick up noise (45.3 + 57.3 =
/// 102.60000000000001); rounding to nine decimals gives back what a person
/// would write, far below any currency's smallest unit.
pub fn tidy(e: Expr) -> Expr {
    e.map(
        |c: Column| {
            let ca = c.cast(&DataType::Float64)?;
            let out: Float64Chunked = ca.f64()?.iter().map(|v| v.map(|x| if x.is_finite() { (x * 1e9).round() / 1e9 } else { x })).collect();
            Ok(out.with_name(c.name().clone()).into_column())
        },
        |_, f| Ok(Field::new(f.name().clone(), DataType::Float64)),
    )
}
