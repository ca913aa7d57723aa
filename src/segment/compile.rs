//! Leaf tests compiled to polars expressions. Every positive test is false on
//! a missing value; every negative test is exactly its positive's negation.

use chrono::NaiveDate;
use polars::prelude::*;
use serde_yaml::Value;

use super::ast::{Leaf, Op};
use crate::dates;
use crate::text;
use crate::text::number_text;
use crate::types::FieldType;
use crate::yamldoc::scalar_text;

/// A problem found while compiling: where (YAML path), what, and a hint.
#[derive(Clone, Debug)]
pub struct CompileError {
    pub path: String,
    pub message: String,
    pub hint: Option<String>,
    /// For a value of the wrong kind: the type the leaf asks for, and the
    /// hint without the place to declare it (see `declared_in`).
    wants: Option<(&'static str, String)>,
}

impl CompileError {
    pub fn new(path: &str, message: impl Into<String>) -> Self {
        CompileError { path: path.to_string(), message: message.into(), hint: None, wants: None }
    }

    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// Points the hint of a wrong-kind error at the section of audience.yaml
    /// that declares `column` (`contacts`, or `tables: orders`); None: the
    /// value is computed (an aggregate), so only the operator can change.
    pub fn declared_in(mut self, section: Option<&str>, column: &str) -> Self {
        if let Some((ty, check)) = &self.wants {
            self.hint = Some(match section {
                Some(section) => declare_hint(check, section, column, ty),
                None => format!("{check}; this value is computed, so its type cannot be declared"),
            });
        }
        self
    }
}

fn declare_hint(check: &str, section: &str, column: &str, ty: &str) -> String {
    format!("{check}, or declare the column's type in audience.yaml: `{section}: columns: {{{column}: {ty}}}` (the line `{column}: {ty}` under `columns:`)")
}

pub type CResult<T> = Result<T, CompileError>;

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

struct TextMode {
    case_sensitive: bool,
    /// The field already folded, when the caller computes it once per column.
    folded: Option<Expr>,
}

impl TextMode {
    fn field(&self, e: Expr, ty: FieldType) -> Expr {
        if self.case_sensitive {
            return text_view(e, ty);
        }
        match (&self.folded, ty) {
            (Some(f), FieldType::Text) => f.clone(),
            _ => fold_text(text_view(e, ty)),
        }
    }

    fn value(&self, s: &str) -> String {
        if self.case_sensitive {
            s.to_string()
        } else {
            text::fold(s)
        }
    }
}

fn date_view(e: Expr, ty: FieldType) -> Expr {
    match ty {
        FieldType::Datetime => e.dt().date(),
        _ => e,
    }
}

fn date_lit(d: NaiveDate) -> Expr {
    lit(dates::to_days(d)).cast(DataType::Date)
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

/// Compiled regexes may take this much memory (regex's default, named so
/// that `check` and `run` cannot differ).
const REGEX_SIZE_LIMIT: usize = 10 * (1 << 20);

/// The one way a `matches` pattern is compiled, by `check` and `run` alike:
/// case ignored (the `(?i)` flag) unless `case_sensitive`, and one size limit.
pub fn compile_regex(pattern: &str, case_sensitive: bool) -> Result<regex::Regex, String> {
    regex::RegexBuilder::new(pattern).case_insensitive(!case_sensitive).size_limit(REGEX_SIZE_LIMIT).build().map_err(|e| match e {
        regex::Error::CompiledTooBig(limit) => {
            let how = if case_sensitive { "" } else { " with case ignored" };
            format!("the regular expression is too large: compiled{how}, it needs more than the {} MiB allowed", limit >> 20)
        }
        other => format!("invalid regular expression: {}", other.to_string().lines().last().unwrap_or("").trim()),
    })
}

/// Whether `re` matches each text value; missing stays missing. The regex
/// is the one `check` compiled, never compiled again per chunk.
fn regex_match(e: Expr, re: regex::Regex) -> Expr {
    let re = std::sync::Arc::new(re);
    e.map(
        move |c: Column| {
            let ca = c.str()?;
            let out: BooleanChunked = ca.iter().map(|v| v.map(|s| re.is_match(s))).collect();
            Ok(out.with_name(c.name().clone()).into_column())
        },
        |_, f| Ok(Field::new(f.name().clone(), DataType::Boolean)),
    )
}

/// How many contacts `top` and `bottom` keep: a share of those with a value
/// (`10%`, `12.5%`), or a number of contacts (`100`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RankAmount {
    /// num / den of the contacts: `12.5%` is 125 / 1000, kept as integers
    /// so that ⌈share × N⌉ is exact.
    Share {
        num: u64,
        den: u64,
    },
    Count(u64),
}

pub fn rank_amount(v: &Value) -> Result<RankAmount, String> {
    let shape = || format!("`top` and `bottom` take a share such as 10% or a number of contacts such as 100, found `{}`", scalar_text(v).unwrap_or_default());
    match v {
        Value::Number(n) => match n.as_u64() {
            Some(c) if c > 0 => Ok(RankAmount::Count(c)),
            _ => Err(format!("{}; a number of contacts is a whole number above 0", shape())),
        },
        Value::String(s) => {
            let Some(pct) = s.trim().strip_suffix('%') else {
                return match s.trim().parse::<u64>() {
                    Ok(c) if c > 0 => Ok(RankAmount::Count(c)),
                    _ => Err(shape()),
                };
            };
            let pct = pct.trim();
            let (whole, frac) = pct.split_once('.').unwrap_or((pct, ""));
            let digits_only = |t: &str| t.bytes().all(|b| b.is_ascii_digit());
            if whole.is_empty() || !digits_only(whole) || !digits_only(frac) || frac.len() > 6 {
                return Err(shape());
            }
            let den = 100 * 10u64.pow(frac.len() as u32);
            let num: u64 = format!("{whole}{frac}").parse().map_err(|_| shape())?;
            if num == 0 || num > den {
                return Err(format!("a share for `top` or `bottom` is above 0% and at most 100%, found `{}`", s.trim()));
            }
            Ok(RankAmount::Share { num, den })
        }
        _ => Err(shape()),
    }
}

/// The value as a number, if it is one (numbers, or text that reads as one).
fn as_number(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse::<f64>().ok().filter(|f| f.is_finite()),
        _ => None,
    }
}

fn as_date(v: &Value, as_of: NaiveDate) -> Option<NaiveDate> {
    v.as_str().and_then(|s| dates::resolve_date(s, as_of).ok())
}

/// The column type a leaf asks for: `date` for a date operator or date
/// values, `float` for numbers, else `string` (text operators).
fn wanted_type(leaf: &Leaf, ty: FieldType) -> &'static str {
    if matches!(leaf.op, Op::Before | Op::After | Op::On | Op::InLast) {
        return "date";
    }
    if matches!(leaf.op, Op::Top | Op::Bottom) {
        return "float";
    }
    let values: Vec<&Value> = match &leaf.value {
        Some(Value::Sequence(items)) => items.iter().collect(),
        Some(v) => vec![v],
        None => vec![],
    };
    let is_number = |v: &Value| matches!(v, Value::Number(_)) || v.as_str().is_some_and(|s| s.trim().parse::<f64>().is_ok());
    let is_date = |v: &Value| !is_number(v) && v.as_str().is_some_and(|s| dates::resolve_date(s, dates::epoch()).is_ok());
    let text_op = matches!(leaf.op, Op::Contains | Op::NotContains | Op::StartsWith | Op::EndsWith | Op::Matches);
    if !text_op && values.iter().any(|v| is_date(v)) {
        "date"
    } else if !text_op && ty == FieldType::Text && (values.iter().any(|v| is_number(v)) || matches!(leaf.op, Op::Lt | Op::Lte | Op::Gt | Op::Gte | Op::Between))
    {
        "float"
    } else {
        "string"
    }
}

/// Compiles one leaf over `e`, a field of type `ty` named `field`.
pub fn leaf_expr(e: Expr, ty: FieldType, field: &str, leaf: &Leaf, as_of: NaiveDate) -> CResult<Expr> {
    leaf_expr_folded(e, None, ty, field, leaf, as_of)
}

/// `leaf_expr` given, for a text field, a column holding it already folded
/// (lower case, no accents): many conditions on one column then share one
/// folding pass.
pub fn leaf_expr_folded(e: Expr, folded: Option<Expr>, ty: FieldType, field: &str, leaf: &Leaf, as_of: NaiveDate) -> CResult<Expr> {
    if let Some(pos) = leaf.op.negates() {
        let mut l = leaf.clone();
        l.op = pos;
        return Ok(positive(e, folded, ty, field, &l, as_of)?.not());
    }
    positive(e, folded, ty, field, leaf, as_of)
}

fn positive(e: Expr, folded: Option<Expr>, ty: FieldType, field: &str, leaf: &Leaf, as_of: NaiveDate) -> CResult<Expr> {
    Ok(positive_raw(e, folded, ty, field, leaf, as_of)?.fill_null(lit(false)))
}

/// "a text", "an int": the type's name with its article.
fn a_type(ty: FieldType) -> String {
    let name = ty.name();
    let article = if name.starts_with(['a', 'e', 'i', 'o', 'u']) { "an" } else { "a" };
    format!("{article} {name}")
}

fn wrong(leaf: &Leaf, field: &str, ty: FieldType, what: &str) -> CompileError {
    CompileError::new(&format!("{}.value", leaf.path), format!("`{field}` is {} field; operator `{}` {what}", a_type(ty), leaf.op.name()))
        .wants(wanted_type(leaf, ty))
        .declared_in(Some("contacts"), field)
}

impl CompileError {
    fn wants(mut self, ty: &'static str) -> Self {
        self.wants = Some((ty, "check the operator".into()));
        self
    }
}

fn positive_raw(e: Expr, folded: Option<Expr>, ty: FieldType, field: &str, leaf: &Leaf, as_of: NaiveDate) -> CResult<Expr> {
    let mode = TextMode { case_sensitive: leaf.case_sensitive, folded };
    let value = leaf.value.as_ref();
    let op = leaf.op;
    let vpath = format!("{}.value", leaf.path);
    match op {
        Op::IsEmpty => Ok(e.is_null()),
        Op::IsTrue | Op::IsFalse => truth(e, &mode, ty, op == Op::IsTrue)
            .ok_or_else(|| CompileError::new(&leaf.path, format!("`{field}` is {} field; `{}` needs a bool, text or int field", a_type(ty), op.name()))),
        Op::Eq => {
            let v = value.expect("checked by parse");
            if let Value::Bool(b) = v {
                return truth(e, &mode, ty, *b).ok_or_else(|| wrong(leaf, field, ty, "with true/false needs a bool, text or int field"));
            }
            match ty {
                FieldType::Int | FieldType::Float => match as_number(v) {
                    Some(n) => Ok(e.cast(DataType::Float64).eq(lit(n))),
                    None => Err(wrong(leaf, field, ty, &format!("needs a number, not `{}`", scalar_text(v).unwrap_or_default()))),
                },
                FieldType::Date | FieldType::Datetime => match as_date(v, as_of) {
                    Some(d) => Ok(date_view(e, ty).eq(date_lit(d))),
                    None => Err(wrong(leaf, field, ty, "needs a date such as 2025-01-31 or -30d")),
                },
                FieldType::Bool => match scalar_text(v).as_deref().and_then(text::bool_word) {
                    Some(b) => Ok(truth(e, &mode, ty, b).expect("bool field")),
                    None => Err(wrong(leaf, field, ty, "needs true or false")),
                },
                FieldType::Text => Ok(mode.field(e, ty).eq(lit(mode.value(&scalar_text(v).unwrap_or_default())))),
            }
        }
        Op::In => {
            let items = value.and_then(Value::as_sequence).cloned().unwrap_or_default();
            if items.is_empty() {
                return Ok(lit(false));
            }
            if ty.is_date() {
                let mut ds = Vec::new();
                for it in &items {
                    ds.push(as_date(it, as_of).ok_or_else(|| wrong(leaf, field, ty, "needs a list of dates"))?);
                }
                let d = date_view(e, ty);
                return Ok(balanced(ds.into_iter().map(|x| d.clone().eq(date_lit(x))).collect(), false));
            }
            // On a bool field, and for a list of true/false on any field read
            // as booleans, `in` is a test of truth: [true] is is_true, and
            // [true, false] holds for every value that is either.
            let all_bools = items.iter().all(|v| matches!(v, Value::Bool(_)));
            if ty == FieldType::Bool || (all_bools && matches!(ty, FieldType::Text | FieldType::Int)) {
                let mut wants = Vec::new();
                for it in &items {
                    let b = match it {
                        Value::Bool(b) => Some(*b),
                        _ => scalar_text(it).as_deref().and_then(text::bool_word),
                    };
                    match b {
                        Some(b) if !wants.contains(&b) => wants.push(b),
                        Some(_) => {}
                        None => return Err(wrong(leaf, field, ty, &format!("takes true and false here, not `{}`", scalar_text(it).unwrap_or_default()))),
                    }
                }
                let tests = wants.into_iter().map(|b| truth(e.clone(), &mode, ty, b).expect("bool, text or int field"));
                return Ok(tests.reduce(Expr::or).expect("non-empty"));
            }
            let vals: Vec<String> = items.iter().map(|v| mode.value(&scalar_text(v).unwrap_or_default())).collect();
            Ok(in_set(mode.field(e, ty), vals))
        }
        Op::Contains | Op::StartsWith | Op::EndsWith | Op::Matches => {
            if ty.is_date() || ty == FieldType::Bool {
                return Err(wrong(leaf, field, ty, "tests text; it does not apply here"));
            }
            let v = scalar_text(value.expect("checked by parse")).unwrap_or_default();
            match op {
                Op::Matches => {
                    let re = compile_regex(&v, leaf.case_sensitive).map_err(|m| CompileError::new(&vpath, m))?;
                    let subject = if leaf.case_sensitive { text_view(e, ty) } else { map_text(text_view(e, ty), text::strip_accents, str::is_ascii) };
                    Ok(regex_match(subject, re))
                }
                Op::Contains => Ok(mode.field(e, ty).str().contains_literal(lit(mode.value(&v)))),
                Op::StartsWith => Ok(mode.field(e, ty).str().starts_with(lit(mode.value(&v)))),
                _ => Ok(mode.field(e, ty).str().ends_with(lit(mode.value(&v)))),
            }
        }
        Op::Lt | Op::Lte | Op::Gt | Op::Gte | Op::Between | Op::Before | Op::After | Op::On => {
            let (lhs, bounds) = ordered_operands(e, ty, field, leaf, as_of)?;
            Ok(match op {
                Op::Lt | Op::Before => lhs.lt(bounds[0].clone()),
                Op::Lte => lhs.lt_eq(bounds[0].clone()),
                Op::Gt | Op::After => lhs.gt(bounds[0].clone()),
                Op::Gte => lhs.gt_eq(bounds[0].clone()),
                Op::On => lhs.eq(bounds[0].clone()),
                _ => lhs.clone().gt_eq(bounds[0].clone()).and(lhs.lt_eq(bounds[1].clone())),
            })
        }
        Op::InLast => {
            if !ty.is_date() {
                return Err(wrong(leaf, field, ty, "needs a date field"));
            }
            let span = value.and_then(Value::as_str).and_then(|s| dates::parse_duration(s).ok()).ok_or_else(|| CompileError::new(&vpath, "not a duration"))?;
            let start = dates::window_start(span, as_of).ok_or_else(|| CompileError::new(&vpath, "duration out of range"))?;
            let d = date_view(e, ty);
            Ok(d.clone().gt_eq(date_lit(start)).and(d.lt_eq(date_lit(as_of))))
        }
        Op::Top | Op::Bottom => {
            if !(ty.is_number() || ty.is_date()) {
                return Err(wrong(leaf, field, ty, "ranks numbers or dates"));
            }
            let amount = rank_amount(value.expect("checked by parse")).map_err(|m| CompileError::new(&vpath, m))?;
            let v = if ty.is_date() { date_view(e, ty) } else { e.cast(DataType::Float64) };
            // The k-th highest value with ties all in: a value is in when
            // fewer than k values beat it, that is when its rank (ties
            // sharing the lowest rank) is at most k. Missing values have no
            // rank and are never in; N counts the values present. With
            // k = ⌈N × num / den⌉, rank ≤ k ⇔ (rank − 1) × den < N × num:
            // integers only, so no rounding decides who is in.
            let rank = v.clone().rank(RankOptions { method: RankMethod::Min, descending: op == Op::Top }, None).cast(DataType::Float64);
            Ok(match amount {
                RankAmount::Share { num, den } => ((rank - lit(1.0)) * lit(den as f64)).lt(v.count().cast(DataType::Float64) * lit(num as f64)),
                RankAmount::Count(c) => rank.lt_eq(lit(c as f64)),
            })
        }
        Op::Neq | Op::NotIn | Op::NotContains | Op::IsNotEmpty => unreachable!("negations are compiled from their positive"),
    }
}

/// The left side and the bound(s) of an ordering test, typed alike.
fn ordered_operands(e: Expr, ty: FieldType, field: &str, leaf: &Leaf, as_of: NaiveDate) -> CResult<(Expr, Vec<Expr>)> {
    let values: Vec<Value> = match (&leaf.value, leaf.op) {
        (Some(Value::Sequence(s)), Op::Between) => s.clone(),
        (Some(v), _) => vec![v.clone()],
        _ => vec![],
    };
    let date_op = matches!(leaf.op, Op::Before | Op::After | Op::On);
    if ty.is_date() {
        let mut days = Vec::new();
        for v in &values {
            match as_date(v, as_of) {
                Some(d) => days.push(d),
                None => return Err(wrong(leaf, field, ty, &format!("compares dates, not `{}`", scalar_text(v).unwrap_or_default()))),
            }
        }
        // Relative bounds (`[today, -3m]`) can only be ordered once as_of is known.
        if let [lo, hi] = days[..] {
            if leaf.op == Op::Between && lo > hi {
                return Err(CompileError::new(&format!("{}.value", leaf.path), format!("`between` needs lo ≤ hi; the bounds are reversed ({lo} > {hi})")));
            }
        }
        return Ok((date_view(e, ty), days.into_iter().map(date_lit).collect()));
    }
    if date_op {
        return Err(wrong(leaf, field, ty, "needs a date field"));
    }
    if ty.is_number() {
        let mut bounds = Vec::new();
        for v in &values {
            match as_number(v) {
                Some(n) => bounds.push(lit(n)),
                None => return Err(wrong(leaf, field, ty, &format!("compares numbers, not `{}`", scalar_text(v).unwrap_or_default()))),
            }
        }
        return Ok((e.cast(DataType::Float64), bounds));
    }
    Err(wrong(leaf, field, ty, "compares numbers or dates"))
}

/// is_true / is_false for a bool, int (1/0) or text (boolean words) field.
fn truth(e: Expr, mode: &TextMode, ty: FieldType, want: bool) -> Option<Expr> {
    match ty {
        FieldType::Bool => Some(e.eq(lit(want))),
        FieldType::Int => Some(e.eq(lit(if want { 1i64 } else { 0 }))),
        FieldType::Text => {
            let words: Vec<String> = (if want { text::TRUE_WORDS } else { text::FALSE_WORDS }).iter().map(|s| s.to_string()).collect();
            // Boolean words are read without regard to case or accents, even
            // under `case_sensitive`.
            let folded = match &mode.folded {
                Some(f) => f.clone(),
                None => fold_text(e),
            };
            Some(in_set(folded, words))
        }
        _ => None,
    }
}
