//! A leaf of a segment (`{field, op, value}`) made a typed test of a value
//! whose type is known: its value read for that type, or an error that says
//! what the operator needs and where the column's type could be declared.

use chrono::NaiveDate;
use serde_yaml::Value as Yaml;

use super::{Bound, CmpOp, Leaf, Num, Pred, Test, TextOp, Value};
use crate::dates;
use crate::diag::{CResult, CompileError};
use crate::segment::ast::{self, Op};
use crate::segment::literal::{compile_regex, rank_amount};
use crate::text;
use crate::types::FieldType;
use crate::yamldoc::scalar_text;

/// The leaf `leaf` over `value` (named `field` in messages) as a predicate:
/// its test, negated for the negative operators.
pub fn pred(value: Value, field: &str, leaf: &ast::Leaf, as_of: NaiveDate) -> CResult<Pred> {
    let (op, negated) = match leaf.op.negates() {
        Some(pos) => (pos, true),
        None => (leaf.op, false),
    };
    let test = positive(value.ty, field, leaf, op, as_of)?;
    let p = match test {
        Test::Const(b) => Pred::Const(b),
        test => Pred::Leaf(Leaf { value, test }),
    };
    Ok(if negated { Pred::not(p) } else { p })
}

/// The value as a number, if it is one (numbers, or text that reads as one).
fn as_number(v: &Yaml) -> Option<f64> {
    match v {
        Yaml::Number(n) => n.as_f64(),
        Yaml::String(s) => s.trim().parse::<f64>().ok().filter(|f| f.is_finite()),
        _ => None,
    }
}

fn as_date(v: &Yaml, as_of: NaiveDate) -> Option<NaiveDate> {
    v.as_str().and_then(|s| dates::resolve_date(s, as_of).ok())
}

/// The column type a leaf asks for: `date` for a date operator or date
/// values, `float` for numbers, else `string` (text operators).
fn wanted_type(leaf: &ast::Leaf, ty: FieldType) -> &'static str {
    if matches!(leaf.op, Op::Before | Op::After | Op::On | Op::InLast) {
        return "date";
    }
    if matches!(leaf.op, Op::Top | Op::Bottom) {
        return "float";
    }
    let values: Vec<&Yaml> = match &leaf.value {
        Some(Yaml::Sequence(items)) => items.iter().collect(),
        Some(v) => vec![v],
        None => vec![],
    };
    let is_number = |v: &Yaml| matches!(v, Yaml::Number(_)) || v.as_str().is_some_and(|s| s.trim().parse::<f64>().is_ok());
    let is_date = |v: &Yaml| !is_number(v) && v.as_str().is_some_and(|s| dates::resolve_date(s, dates::epoch()).is_ok());
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

/// "a text", "an int": the type's name with its article.
fn a_type(ty: FieldType) -> String {
    let name = ty.name();
    let article = if name.starts_with(['a', 'e', 'i', 'o', 'u']) { "an" } else { "a" };
    format!("{article} {name}")
}

fn wrong(leaf: &ast::Leaf, field: &str, ty: FieldType, what: &str) -> CompileError {
    CompileError::new(&format!("{}.value", leaf.path), format!("`{field}` is {} field; operator `{}` {what}", a_type(ty), leaf.op.name()))
        .wants(wanted_type(leaf, ty))
        .declared_in(Some("contacts"), field)
}

/// Whether `ty` can be read as true/false.
fn has_truth(ty: FieldType) -> bool {
    matches!(ty, FieldType::Bool | FieldType::Int | FieldType::Text)
}

/// Text as compared: folded unless case matters.
fn text_value(s: &str, case_sensitive: bool) -> String {
    if case_sensitive {
        s.to_string()
    } else {
        text::fold(s)
    }
}

fn positive(ty: FieldType, field: &str, leaf: &ast::Leaf, op: Op, as_of: NaiveDate) -> CResult<Test> {
    let value = leaf.value.as_ref();
    let fold = !leaf.case_sensitive;
    let vpath = format!("{}.value", leaf.path);
    match op {
        Op::IsEmpty => Ok(Test::IsEmpty),
        Op::IsTrue | Op::IsFalse => {
            if has_truth(ty) {
                Ok(Test::Truth(vec![op == Op::IsTrue]))
            } else {
                Err(CompileError::new(&leaf.path, format!("`{field}` is {} field; `{}` needs a bool, text or int field", a_type(ty), op.name())))
            }
        }
        Op::Eq => {
            let v = value.expect("checked by parse");
            if let Yaml::Bool(b) = v {
                return if has_truth(ty) { Ok(Test::Truth(vec![*b])) } else { Err(wrong(leaf, field, ty, "with true/false needs a bool, text or int field")) };
            }
            match ty {
                FieldType::Int | FieldType::Float => match as_number(v) {
                    Some(n) => Ok(Test::NumEq(Num::new(n))),
                    None => Err(wrong(leaf, field, ty, &format!("needs a number, not `{}`", scalar_text(v).unwrap_or_default()))),
                },
                FieldType::Date | FieldType::Datetime => match as_date(v, as_of) {
                    Some(d) => Ok(Test::DateEq(d)),
                    None => Err(wrong(leaf, field, ty, "needs a date such as 2025-01-31 or -30d")),
                },
                FieldType::Bool => match scalar_text(v).as_deref().and_then(text::bool_word) {
                    Some(b) => Ok(Test::Truth(vec![b])),
                    None => Err(wrong(leaf, field, ty, "needs true or false")),
                },
                FieldType::Text => Ok(Test::Text { op: TextOp::Eq, value: text_value(&scalar_text(v).unwrap_or_default(), leaf.case_sensitive), fold }),
            }
        }
        Op::In => {
            let items = value.and_then(Yaml::as_sequence).cloned().unwrap_or_default();
            if items.is_empty() {
                return Ok(Test::Const(false));
            }
            if ty.is_date() {
                let mut ds = Vec::new();
                for it in &items {
                    ds.push(as_date(it, as_of).ok_or_else(|| wrong(leaf, field, ty, "needs a list of dates"))?);
                }
                return Ok(Test::InDates(ds));
            }
            // On a bool field, and for a list of true/false on any field read
            // as booleans, `in` is a test of truth: [true] is is_true, and
            // [true, false] holds for every value that is either.
            let all_bools = items.iter().all(|v| matches!(v, Yaml::Bool(_)));
            if ty == FieldType::Bool || (all_bools && matches!(ty, FieldType::Text | FieldType::Int)) {
                let mut wants = Vec::new();
                for it in &items {
                    let b = match it {
                        Yaml::Bool(b) => Some(*b),
                        _ => scalar_text(it).as_deref().and_then(text::bool_word),
                    };
                    match b {
                        Some(b) if !wants.contains(&b) => wants.push(b),
                        Some(_) => {}
                        None => return Err(wrong(leaf, field, ty, &format!("takes true and false here, not `{}`", scalar_text(it).unwrap_or_default()))),
                    }
                }
                return Ok(Test::Truth(wants));
            }
            let values = items.iter().map(|v| text_value(&scalar_text(v).unwrap_or_default(), leaf.case_sensitive)).collect();
            Ok(Test::InText { values, fold })
        }
        Op::Contains | Op::StartsWith | Op::EndsWith | Op::Matches => {
            if ty.is_date() || ty == FieldType::Bool {
                return Err(wrong(leaf, field, ty, "tests text; it does not apply here"));
            }
            let v = scalar_text(value.expect("checked by parse")).unwrap_or_default();
            let text_op = match op {
                Op::Matches => {
                    compile_regex(&v, leaf.case_sensitive).map_err(|m| CompileError::new(&vpath, m))?;
                    return Ok(Test::Matches { pattern: v, case_sensitive: leaf.case_sensitive });
                }
                Op::Contains => TextOp::Contains,
                Op::StartsWith => TextOp::StartsWith,
                _ => TextOp::EndsWith,
            };
            Ok(Test::Text { op: text_op, value: text_value(&v, leaf.case_sensitive), fold })
        }
        Op::Lt | Op::Lte | Op::Gt | Op::Gte | Op::Between | Op::Before | Op::After | Op::On => {
            let bounds = ordered_bounds(ty, field, leaf, as_of)?;
            let cmp = |op: CmpOp| Ok(Test::Compare { op, bound: bounds[0] });
            match op {
                Op::Lt | Op::Before => cmp(CmpOp::Lt),
                Op::Lte => cmp(CmpOp::Lte),
                Op::Gt | Op::After => cmp(CmpOp::Gt),
                Op::Gte => cmp(CmpOp::Gte),
                Op::On => cmp(CmpOp::Eq),
                _ => Ok(Test::Between { lo: bounds[0], hi: bounds[1] }),
            }
        }
        Op::InLast => {
            if !ty.is_date() {
                return Err(wrong(leaf, field, ty, "needs a date field"));
            }
            let span = value.and_then(Yaml::as_str).and_then(|s| dates::parse_duration(s).ok()).ok_or_else(|| CompileError::new(&vpath, "not a duration"))?;
            let start = dates::window_start(span, as_of).ok_or_else(|| CompileError::new(&vpath, "duration out of range"))?;
            Ok(Test::Between { lo: Bound::Date(start), hi: Bound::Date(as_of) })
        }
        Op::Top | Op::Bottom => {
            if !(ty.is_number() || ty.is_date()) {
                return Err(wrong(leaf, field, ty, "ranks numbers or dates"));
            }
            let amount = rank_amount(value.expect("checked by parse")).map_err(|m| CompileError::new(&vpath, m))?;
            Ok(Test::Rank { top: op == Op::Top, amount })
        }
        Op::Neq | Op::NotIn | Op::NotContains | Op::IsNotEmpty => unreachable!("negations are typed as their positive"),
    }
}

/// The bound(s) of an ordering test, typed as the field is compared.
fn ordered_bounds(ty: FieldType, field: &str, leaf: &ast::Leaf, as_of: NaiveDate) -> CResult<Vec<Bound>> {
    let values: Vec<Yaml> = match (&leaf.value, leaf.op) {
        (Some(Yaml::Sequence(s)), Op::Between) => s.clone(),
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
        return Ok(days.into_iter().map(Bound::Date).collect());
    }
    if date_op {
        return Err(wrong(leaf, field, ty, "needs a date field"));
    }
    if ty.is_number() {
        let mut bounds = Vec::new();
        for v in &values {
            match as_number(v) {
                Some(n) => bounds.push(Bound::Num(Num::new(n))),
                None => return Err(wrong(leaf, field, ty, &format!("compares numbers, not `{}`", scalar_text(v).unwrap_or_default()))),
            }
        }
        return Ok(bounds);
    }
    Err(wrong(leaf, field, ty, "compares numbers or dates"))
}
