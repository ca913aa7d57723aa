//! YAML → segment AST. Checks everything that the YAML alone can tell:
//! keys, operators, the shape of values, aliases. Checks that need the data
//! (fields, types) live in `validate`.

use std::path::Path;

use serde_yaml::{Mapping, Value};
use sha2::{Digest, Sha256};

use super::ast::*;
use crate::dates;
use crate::diag::did_you_mean;
use crate::yamldoc::{index, join, kind, scalar_text, Doc};

// `table` before `field`: a table condition may name the `field` it aggregates.
use crate::catalog::{self, CONDITION_FORMS as FORMS};

pub fn valid_alias(s: &str) -> bool {
    !s.is_empty() && s.len() <= 64 && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
}

/// A file name turned into the alias it could have.
pub fn suggest_alias(s: &str) -> String {
    let mut out: String = crate::text::fold(s).chars().map(|c| if c.is_ascii_alphanumeric() || c == '_' || c == '-' { c } else { '-' }).collect();
    out.truncate(64);
    if out.is_empty() {
        "segment".into()
    } else {
        out
    }
}

/// Where a condition may stand: among a contact's fields, or inside a
/// table's `where` (rows of one table: no table or segment leaves).
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Contact,
    Row,
}

pub fn parse_condition(doc: &mut Doc, v: &Value, path: &str, level: Level) -> Option<Cond> {
    let Some(map) = v.as_mapping() else {
        doc.error(path, format!("a condition must be a mapping such as {{field: city, op: eq, value: Lyon}}, found {}", kind(v)));
        return None;
    };
    let form = FORMS.iter().find(|f| map.contains_key(**f)).copied();
    match form {
        Some(f @ ("all" | "any")) => {
            doc.mapping(v, path, &format!("an `{f}` condition"), &[f]);
            let p = join(path, f);
            let Some(items) = map.get(f).and_then(Value::as_sequence) else {
                doc.error(&p, format!("`{f}` takes a list of conditions"));
                return None;
            };
            let mut out = Vec::new();
            let mut ok = true;
            for (i, item) in items.iter().enumerate() {
                match parse_condition(doc, item, &index(&p, i), level) {
                    Some(c) => out.push(c),
                    None => ok = false,
                }
            }
            (ok || doc.partial).then(|| if f == "all" { Cond::All(out, p) } else { Cond::Any(out, p) })
        }
        Some("not") => {
            doc.mapping(v, path, "a `not` condition", &["not"]);
            let p = join(path, "not");
            let inner = parse_condition(doc, map.get("not").unwrap_or(&Value::Null), &p, level)?;
            Some(Cond::Not(Box::new(inner), p))
        }
        Some("segment") => {
            doc.mapping(v, path, "a `segment` condition", &["segment"]);
            let p = join(path, "segment");
            if level == Level::Row {
                doc.error(&p, "a table's `where` tests that table's rows; it cannot refer to a segment");
                return None;
            }
            let alias = doc.string(map, path, "segment", true)?;
            Some(Cond::Segment(alias, p))
        }
        Some("table") => {
            if level == Level::Row {
                doc.error(&join(path, "table"), "a table's `where` tests that table's rows; it cannot hold another table condition");
                return None;
            }
            doc.mapping(v, path, "a table condition", &catalog::names(catalog::TABLE_CONDITION));
            parse_table(doc, map, path)
        }
        Some(_) => {
            doc.mapping(v, path, "a field condition", &catalog::names(catalog::FIELD_CONDITION));
            parse_leaf(doc, map, path, None).map(Cond::Field)
        }
        None => {
            let keys: Vec<String> = map.keys().filter_map(scalar_text).collect();
            let hint = keys.iter().find_map(|k| did_you_mean(k, FORMS.iter().copied()));
            doc.error_hint(
                path,
                format!("a condition needs one of the keys {}; found {}", FORMS.join(", "), if keys.is_empty() { "none".into() } else { keys.join(", ") }),
                hint,
            );
            None
        }
    }
}

fn parse_op(doc: &mut Doc, map: &Mapping, path: &str, default: Option<Op>) -> Option<Op> {
    let p = join(path, "op");
    let Some(v) = map.get("op") else {
        if default.is_none() {
            doc.error_hint(path, "missing required key `op`", Some(format!("operators: {}", op_names())));
        }
        return default;
    };
    let name = scalar_text(v).unwrap_or_default();
    match OPS.iter().find(|(n, _)| *n == name) {
        Some((_, op)) => Some(*op),
        None => {
            let hint = did_you_mean(&name, OPS.iter().map(|(n, _)| *n)).unwrap_or_else(|| format!("operators: {}", op_names()));
            doc.error_hint(&p, format!("unknown operator `{name}`"), Some(hint));
            None
        }
    }
}

fn op_names() -> String {
    OPS.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", ")
}

fn case_sensitive(doc: &mut Doc, map: &Mapping, path: &str) -> bool {
    match map.get("case_sensitive") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(v) => {
            doc.error(&join(path, "case_sensitive"), format!("`case_sensitive` is true or false, found {}", kind(v)));
            false
        }
    }
}

fn parse_leaf(doc: &mut Doc, map: &Mapping, path: &str, default_op: Option<Op>) -> Option<Leaf> {
    let field = doc.string(map, path, "field", default_op.is_none());
    let op = parse_op(doc, map, path, default_op)?;
    let value = match map.get("value") {
        Some(Value::Null) | None => None,
        Some(v) => Some(v.clone()),
    };
    let cs = case_sensitive(doc, map, path);
    let leaf = Leaf { field: field.unwrap_or_default(), op, value, case_sensitive: cs, path: path.to_string() };
    check_value_shape(doc, &leaf).then_some(leaf)
}

fn parse_table(doc: &mut Doc, map: &Mapping, path: &str) -> Option<Cond> {
    let table = doc.string(map, path, "table", true)?;
    let filter = match map.get("where") {
        None | Some(Value::Null) => None,
        Some(w) => Some(Box::new(parse_condition(doc, w, &join(path, "where"), Level::Row)?)),
    };
    let agg = parse_agg(doc, map, path)?;
    let field = doc.string(map, path, "field", false);
    if agg != Agg::Count && field.is_none() {
        doc.error_hint(path, format!("agg `{}` needs `field`, the column of `{table}` to aggregate", agg.name()), None);
        return None;
    }
    let op = parse_op(doc, map, path, Some(Op::Gte))?;
    let value = match map.get("value") {
        Some(Value::Null) | None if op.takes_value() => Some(Value::Number(1.into())),
        Some(Value::Null) | None => None,
        Some(v) => Some(v.clone()),
    };
    let leaf = Leaf { field: String::new(), op, value, case_sensitive: case_sensitive(doc, map, path), path: path.to_string() };
    if !check_value_shape(doc, &leaf) {
        return None;
    }
    Some(Cond::Table(AggDef { table, filter, agg, field, path: path.to_string() }, leaf))
}

pub fn parse_agg(doc: &mut Doc, map: &Mapping, path: &str) -> Option<Agg> {
    match map.get("agg") {
        None | Some(Value::Null) => Some(Agg::Count),
        Some(v) => {
            let name = scalar_text(v).unwrap_or_default();
            match AGGS.iter().find(|(n, _)| *n == name) {
                Some((_, a)) => Some(*a),
                None => {
                    let names: Vec<&str> = AGGS.iter().map(|(n, _)| *n).collect();
                    let hint = did_you_mean(&name, names.iter().copied()).unwrap_or_else(|| format!("aggregates: {}", names.join(", ")));
                    doc.error_hint(&join(path, "agg"), format!("unknown agg `{name}`"), Some(hint));
                    None
                }
            }
        }
    }
}

/// The value's shape for its operator, as far as the YAML alone tells.
fn check_value_shape(doc: &mut Doc, leaf: &Leaf) -> bool {
    let op = leaf.op;
    let vpath = join(&leaf.path, "value");
    let name = op.name();
    let Some(v) = &leaf.value else {
        if op.takes_value() {
            doc.error(&leaf.path, format!("operator `{name}` needs a `value`"));
            return false;
        }
        return true;
    };
    let bad = |doc: &mut Doc, msg: String| {
        doc.error(&vpath, msg);
        false
    };
    match op {
        Op::IsEmpty | Op::IsNotEmpty | Op::IsTrue | Op::IsFalse => bad(doc, format!("operator `{name}` takes no `value`; remove it")),
        Op::In | Op::NotIn => match v {
            Value::Sequence(items) if items.iter().all(is_scalar) => true,
            _ => bad(doc, format!("operator `{name}` takes a list of values such as [Lyon, Paris], found {}", kind(v))),
        },
        Op::Between => {
            let Some(items) = v.as_sequence().filter(|s| s.len() == 2 && s.iter().all(is_scalar)) else {
                return bad(doc, format!("`between` takes two values [lo, hi], found {}", kind(v)));
            };
            let (lo, hi) = (&items[0], &items[1]);
            let order = match (lo.as_f64(), hi.as_f64()) {
                (Some(a), Some(b)) => a.partial_cmp(&b),
                _ => match (lo.as_str().and_then(dates::parse_date), hi.as_str().and_then(dates::parse_date)) {
                    (Some(a), Some(b)) => Some(a.cmp(&b)),
                    _ => None,
                },
            };
            if order == Some(std::cmp::Ordering::Greater) {
                return bad(doc, "`between` needs lo ≤ hi; the bounds are reversed".into());
            }
            true
        }
        Op::Matches => match v.as_str() {
            Some(p) => match super::literal::compile_regex(p, leaf.case_sensitive) {
                Ok(_) => true,
                Err(e) => bad(doc, e),
            },
            None => bad(doc, format!("`matches` takes a regular expression as text, found {}", kind(v))),
        },
        Op::Before | Op::After | Op::On => match v.as_str().map(|s| dates::resolve_date(s, dates::epoch())) {
            Some(Ok(_)) => true,
            Some(Err(e)) => bad(doc, e.to_string()),
            None => bad(doc, format!("operator `{name}` takes a date such as 2025-01-31 or -30d, found {}", kind(v))),
        },
        Op::InLast => match v.as_str().map(dates::parse_duration) {
            Some(Ok(_)) => true,
            Some(Err(e)) => bad(doc, e.to_string()),
            None => bad(doc, format!("`in_last` takes a duration such as 30d, 2w, 6m, 1y, found {}", kind(v))),
        },
        Op::Top | Op::Bottom => match super::literal::rank_amount(v) {
            Ok(_) => true,
            Err(e) => bad(doc, e),
        },
        Op::Lt | Op::Lte | Op::Gt | Op::Gte => match v {
            Value::Number(_) => true,
            Value::String(s) if dates::resolve_date(s, dates::epoch()).is_ok() || s.trim().parse::<f64>().is_ok() => true,
            _ => bad(doc, format!("operator `{name}` takes a number or a date, found {}", describe(v))),
        },
        Op::Eq | Op::Neq | Op::Contains | Op::NotContains | Op::StartsWith | Op::EndsWith => {
            if is_scalar(v) {
                true
            } else {
                bad(doc, format!("operator `{name}` takes one value, found {}", kind(v)))
            }
        }
    }
}

fn is_scalar(v: &Value) -> bool {
    matches!(v, Value::String(_) | Value::Number(_) | Value::Bool(_))
}

fn describe(v: &Value) -> String {
    match scalar_text(v) {
        Some(s) => format!("{} `{s}`", kind(v)),
        None => kind(v).to_string(),
    }
}

fn key_list(doc: &mut Doc, map: &Mapping, key: &str, base: &Path) -> KeyList {
    let path = key.to_string();
    match map.get(key) {
        None | Some(Value::Null) => KeyList::None,
        Some(Value::Sequence(items)) => {
            let mut keys = Vec::new();
            for (i, it) in items.iter().enumerate() {
                match scalar_text(it) {
                    Some(s) => keys.push(s),
                    None => doc.error(&index(&path, i), format!("`{key}` lists keys, found {}", kind(it))),
                }
            }
            KeyList::Inline(keys)
        }
        Some(v @ Value::Mapping(m)) => {
            doc.mapping(v, &path, &format!("`{key}`"), &catalog::names(catalog::KEY_FILE));
            match doc.string(m, &path, "file", true) {
                Some(f) => KeyList::File(base.join(f)),
                None => KeyList::None,
            }
        }
        Some(v) => {
            doc.error(&path, format!("`{key}` is a list of keys or {{file: path.csv}}, found {}", kind(v)));
            KeyList::None
        }
    }
}

fn string_list(doc: &mut Doc, map: &Mapping, path: &str, key: &str) -> Vec<(String, String)> {
    let p = join(path, key);
    match map.get(key) {
        None | Some(Value::Null) => vec![],
        Some(Value::Sequence(items)) => items
            .iter()
            .enumerate()
            .filter_map(|(i, it)| match scalar_text(it) {
                Some(s) => Some((s, index(&p, i))),
                None => {
                    doc.error(&index(&p, i), format!("`{key}` lists names, found {}", kind(it)));
                    None
                }
            })
            .collect(),
        Some(v) => {
            doc.error(&p, format!("`{key}` must be a list, found {}", kind(v)));
            vec![]
        }
    }
}

fn parse_export(doc: &mut Doc, v: Option<&Value>) -> Export {
    let mut ex = Export { separator: b',', ..Export::default() };
    let Some(v) = v.filter(|v| !v.is_null()) else { return ex };
    let Some(m) = doc.mapping(v, "export", "`export`", &catalog::names(catalog::EXPORT)) else {
        return ex;
    };
    parse_sending(doc, m, &mut ex);
    if m.contains_key("columns") {
        ex.columns = Some(string_list(doc, m, "export", "columns"));
    }
    if let Some(r) = m.get("rename").filter(|r| !r.is_null()) {
        match r.as_mapping() {
            Some(rm) => {
                for (k, val) in rm {
                    match (scalar_text(k), scalar_text(val)) {
                        (Some(a), Some(b)) => ex.rename.push((a, b)),
                        _ => doc.error("export.rename", "`rename` maps a column to its new name, both as text"),
                    }
                }
            }
            None => doc.error("export.rename", format!("`rename` must be a mapping such as {{email: Email Address}}, found {}", kind(r))),
        }
    }
    check_export_names(doc, &ex);
    if let Some(f) = doc.string(m, "export", "format", false) {
        ex.format = match f.as_str() {
            "csv" => Format::Csv,
            "parquet" => Format::Parquet,
            "jsonl" => Format::Jsonl,
            other => {
                let hint = did_you_mean(other, ["csv", "parquet", "jsonl"]).or(Some("formats: csv, parquet, jsonl".into()));
                doc.error_hint("export.format", format!("unknown export format `{other}`"), hint);
                Format::Csv
            }
        };
    }
    if let Some(c) = m.get("csv").filter(|c| !c.is_null()) {
        if let Some(cm) = doc.mapping(c, "export.csv", "`export.csv`", &catalog::names(catalog::EXPORT_CSV)) {
            if let Some(s) = doc.string(cm, "export.csv", "separator", false) {
                match s.as_str() {
                    "," | ";" | "\t" | "|" => ex.separator = s.as_bytes()[0],
                    _ => doc.error("export.csv.separator", format!("separator `{s}` is not one of \",\" \";\" \"\\t\" \"|\"")),
                }
            }
            match cm.get("bom") {
                None | Some(Value::Null) => {}
                Some(Value::Bool(b)) => ex.bom = *b,
                Some(v) => doc.error("export.csv.bom", format!("`bom` is true or false, found {}", kind(v))),
            }
            if let Some(f) = doc.string(cm, "export.csv", "formulas", false) {
                match f.as_str() {
                    "keep" => ex.formulas = Formulas::Keep,
                    "escape" => ex.formulas = Formulas::Escape,
                    other => {
                        let hint = did_you_mean(other, ["keep", "escape"])
                            .or(Some("`keep` writes cells as they are, `escape` prefixes a `'` to cells a spreadsheet would run as formulas".into()));
                        doc.error_hint("export.csv.formulas", format!("`formulas` is `keep` or `escape`, found `{other}`"), hint);
                    }
                }
            }
        }
    }
    ex
}

/// The parts of `export` that serve sending: preset, split and groups.
fn parse_sending(doc: &mut Doc, m: &Mapping, ex: &mut Export) {
    if let Some(p) = doc.string(m, "export", "preset", false) {
        match PRESETS.iter().find(|(n, _)| *n == p) {
            Some((_, preset)) => ex.preset = Some(*preset),
            None => {
                let names = PRESETS.iter().map(|(n, _)| *n);
                let hint = did_you_mean(&p, names.clone()).unwrap_or_else(|| format!("presets: {}", names.collect::<Vec<_>>().join(", ")));
                doc.error_hint("export.preset", format!("unknown preset `{p}`"), Some(hint));
            }
        }
    }
    if let Some(pc) = m.get("preset_columns").filter(|v| !v.is_null()) {
        match pc.as_mapping() {
            Some(pm) => {
                for (k, v) in pm {
                    let (Some(k), Some(v)) = (scalar_text(k), scalar_text(v)) else {
                        doc.error("export.preset_columns", "`preset_columns` maps a preset's name to a contact column, both as text");
                        continue;
                    };
                    let path = join("export.preset_columns", &k);
                    if !PRESET_SOURCES.contains(&k.as_str()) {
                        let hint = did_you_mean(&k, PRESET_SOURCES.iter().copied()).unwrap_or_else(|| format!("names: {}", PRESET_SOURCES.join(", ")));
                        doc.error_hint(&path, format!("`{k}` is no column a preset draws on"), Some(hint));
                        continue;
                    }
                    ex.preset_columns.push((k, v, path));
                }
            }
            None => doc.error("export.preset_columns", format!("`preset_columns` must be a mapping such as {{first_name: prenom}}, found {}", kind(pc))),
        }
        if ex.preset.is_none() {
            doc.error("export.preset_columns", "`preset_columns` needs `preset`, the mailer whose columns it fills");
        }
    }
    if let Some(f) = doc.string(m, "export", "split_by", false) {
        ex.split_by = Some((f, "export.split_by".into()));
    }
    ex.groups_salt = doc.string(m, "export", "groups_salt", false);
    let Some(g) = m.get("groups").filter(|v| !v.is_null()) else {
        if ex.groups_salt.is_some() {
            doc.error("export.groups_salt", "`groups_salt` needs `groups`, the test groups it salts");
        }
        return;
    };
    let Some(items) = g.as_sequence() else {
        doc.error("export.groups", format!("`groups` is a list such as [{{name: a, share: 50}}, {{name: b, share: 50}}], found {}", kind(g)));
        return;
    };
    let mut total: u64 = 0;
    let mut ok = true;
    for (i, item) in items.iter().enumerate() {
        let path = index("export.groups", i);
        let Some(gm) = doc.mapping(item, &path, "a group", &catalog::names(catalog::GROUP)) else {
            ok = false;
            continue;
        };
        let gm = gm.clone();
        let name = doc.string(&gm, &path, "name", true);
        let share = match gm.get("share").filter(|v| !v.is_null()) {
            None => {
                doc.error(&path, "a group needs `share`, its percentage of the recipients");
                None
            }
            Some(v) => match v.as_f64().or_else(|| v.as_str().and_then(|s| s.trim().trim_end_matches('%').trim().parse().ok())) {
                Some(p) if p > 0.0 && p <= 100.0 && (p * 100.0 - (p * 100.0).round()).abs() < 1e-9 => Some((p * 100.0).round() as u32),
                _ => {
                    doc.error(
                        &join(&path, "share"),
                        format!("`share` is a percentage above 0 and at most 100, with at most two decimals, found {}", describe(v)),
                    );
                    None
                }
            },
        };
        match name {
            Some(n) if !valid_alias(&n) => {
                doc.error(&join(&path, "name"), format!("group name `{n}` names a file: use 1 to 64 of a-z 0-9 _ -"));
                ok = false;
            }
            Some(n) if ex.groups.iter().any(|g| g.name == n) => {
                doc.error(&join(&path, "name"), format!("group `{n}` is listed twice; give each group its own name"));
                ok = false;
            }
            Some(n) => match share {
                Some(bp) => {
                    total += u64::from(bp);
                    ex.groups.push(Group { name: n, basis_points: bp });
                }
                None => ok = false,
            },
            None => ok = false,
        }
    }
    if ok && total != 10_000 {
        doc.error("export.groups", format!("the groups' shares add up to {}%, not 100%", crate::text::number_text(total as f64 / 100.0)));
    }
    if ex.split_by.is_some() && !ex.groups.is_empty() {
        doc.error("export.groups", "`split_by` and `groups` both write one file per part under OUTPUT/ALIAS/; use one of them");
    }
}

/// A list needs at least one column, and its headers must be distinct:
/// a column listed twice, or two renames onto one name, would write a file
/// no mailer can import.
fn check_export_names(doc: &mut Doc, ex: &Export) {
    let Some(columns) = &ex.columns else { return };
    if columns.is_empty() {
        doc.error("export.columns", "`export.columns` is empty: a list needs at least one column (leave `columns` out to export every contact column)");
        return;
    }
    let header = |c: &str| ex.rename.iter().find(|(from, _)| from == c).map(|(_, to)| to.clone()).unwrap_or_else(|| c.to_string());
    let mut seen: Vec<(String, String)> = Vec::new(); // (header, column)
    for (c, path) in columns {
        if seen.iter().any(|(_, col)| col == c) {
            doc.error(path, format!("column `{c}` is listed twice in `export.columns`; list it once"));
            continue;
        }
        let h = header(c);
        if let Some((_, other)) = seen.iter().find(|(hh, _)| *hh == h) {
            let at = if ex.rename.iter().any(|(from, _)| from == c) { join("export.rename", c) } else { path.clone() };
            doc.error(&at, format!("columns `{other}` and `{c}` would both be exported as `{h}`; give them different names in `rename`"));
            continue;
        }
        seen.push((h, c.clone()));
    }
}

fn parse_count(doc: &mut Doc, m: &Mapping, key: &str) -> Option<u64> {
    let v = m.get(key).filter(|v| !v.is_null())?;
    match v.as_u64() {
        Some(n) => Some(n),
        None => {
            doc.error(&join("expect", key), format!("`{key}` is a count of recipients (a whole number ≥ 0), found {}", describe(v)));
            None
        }
    }
}

/// `max_change: 20%` (of the previous export's recipients) or `max_change: 500`.
fn parse_max_change(doc: &mut Doc, m: &Mapping) -> Option<MaxChange> {
    let v = m.get("max_change").filter(|v| !v.is_null())?;
    let pct = v.as_str().and_then(|s| s.trim().strip_suffix('%')).map(|p| p.trim().parse::<f64>());
    match (v.as_u64(), pct) {
        (Some(n), _) => Some(MaxChange::Count(n)),
        (None, Some(Ok(p))) if p.is_finite() && p >= 0.0 => Some(MaxChange::Share(p)),
        _ => {
            doc.error(
                "expect.max_change",
                format!("`max_change` is a share of the previous export such as 20%, or a number of recipients such as 500, found {}", describe(v)),
            );
            None
        }
    }
}

fn parse_expect(doc: &mut Doc, v: Option<&Value>) -> Expect {
    let mut ex = Expect::default();
    let Some(v) = v.filter(|v| !v.is_null()) else { return ex };
    let Some(m) = doc.mapping(v, "expect", "`expect`", &catalog::names(catalog::EXPECT)) else { return ex };
    ex.min = parse_count(doc, m, "min");
    ex.max = parse_count(doc, m, "max");
    ex.max_change = parse_max_change(doc, m);
    if let (Some(lo), Some(hi)) = (ex.min, ex.max) {
        if lo > hi {
            doc.error("expect.max", format!("`max` ({hi}) is below `min` ({lo})"));
        }
    }
    ex.includes = string_list(doc, m, "expect", "includes").into_iter().map(|(s, _)| s).collect();
    ex.excludes = string_list(doc, m, "expect", "excludes").into_iter().map(|(s, _)| s).collect();
    ex
}

/// Parses one segment file; problems go to `doc.diags`.
pub fn parse_segment(doc: &mut Doc, file: &Path) -> Option<Segment> {
    if !doc.ok() {
        return None;
    }
    let root = doc.root.clone();
    if root.is_null() {
        doc.error("", "the segment file is empty; it needs at least `name` and `where`");
        return None;
    }
    let hint = |k: &str| match k {
        "metrics" => {
            "metrics are named in audience.yaml under `metrics:`; a segment then uses one as a field, e.g. {field: vip_tickets, op: gte, value: 1}".to_string()
        }
        "tables" | "contacts" => format!("`{k}` describes the exports, in audience.yaml (see docs/project.md)"),
        _ => format!("`{k}` is a setting of the project file: move it to audience.yaml (see docs/project.md)"),
    };
    let m = doc.root_mapping(&root, "a segment file", &catalog::names(catalog::SEGMENT), &catalog::names(catalog::PROJECT), &hint)?.clone();
    let name = doc.string(&m, "", "name", true);
    let stem = file.file_stem().map(|s| s.to_string_lossy().to_string()).unwrap_or_default();
    let alias = match doc.string(&m, "", "alias", false) {
        Some(a) if valid_alias(&a) => Some(a),
        Some(a) => {
            doc.error_hint("alias", format!("alias `{a}` is not valid: use 1 to 64 of a-z 0-9 _ -"), Some(format!("try `alias: {}`", suggest_alias(&a))));
            None
        }
        None if valid_alias(&stem) => Some(stem.clone()),
        None => {
            let fname = file.file_name().map(|s| s.to_string_lossy().to_string()).unwrap_or_default();
            doc.error_hint(
                "",
                format!("the file name `{fname}` is not a valid alias (1 to 64 of a-z 0-9 _ -)"),
                Some(format!("add `alias: {}` or rename the file", suggest_alias(&stem))),
            );
            None
        }
    };
    if alias.as_deref() == Some("all") {
        doc.error_hint(
            if m.contains_key("alias") { "alias" } else { "" },
            "`all` is reserved for the built-in segment of every contact",
            Some("choose another alias".into()),
        );
    }
    let purpose = match doc.string(&m, "", "purpose", false).as_deref() {
        None | Some("marketing") => Purpose::Marketing,
        Some("informational") => Purpose::Informational,
        Some(other) => {
            let hint = did_you_mean(other, ["marketing", "informational"]).or(Some("purpose is marketing or informational".into()));
            doc.error_hint("purpose", format!("unknown purpose `{other}`"), hint);
            Purpose::Marketing
        }
    };
    let channel = match doc.string(&m, "", "channel", false).as_deref() {
        None | Some("email") => Channel::Email,
        Some("sms") => Channel::Sms,
        Some(other) => {
            let hint = did_you_mean(other, ["email", "sms"]).or(Some("channels: email, sms".into()));
            doc.error_hint("channel", format!("unknown channel `{other}`"), hint);
            Channel::Email
        }
    };
    let scope = match m.get("scope").filter(|v| !v.is_null()) {
        None => None,
        Some(v) => {
            let sm = doc.mapping(v, "scope", "`scope`", &catalog::names(catalog::SCOPE)).cloned();
            sm.and_then(|sm| {
                let table = doc.string(&sm, "scope", "table", true)?;
                let filter = match sm.get("where").filter(|w| !w.is_null()) {
                    Some(w) => Some(parse_condition(doc, w, "scope.where", Level::Row)?),
                    None => None,
                };
                Some(Scope { table, filter, path: "scope".into() })
            })
        }
    };
    let filter = m.get("where").filter(|v| !v.is_null()).and_then(|w| parse_condition(doc, w, "where", Level::Contact));
    let base = file.parent().unwrap_or(Path::new("."));
    let include = key_list(doc, &m, "include", base);
    let exclude = key_list(doc, &m, "exclude", base);
    let unknown_keys = m.keys().filter_map(scalar_text).any(|k| !catalog::names(catalog::SEGMENT).contains(&k.as_str()));
    if !unknown_keys && !m.contains_key("where") && !m.contains_key("scope") && !m.contains_key("include") {
        doc.error_hint("", "a segment needs `where` (or `scope`, or `include`)", Some("add for example `where: {field: newsletter, op: is_true}`".into()));
    }
    let export = parse_export(doc, m.get("export"));
    let expect = parse_expect(doc, m.get("expect"));
    let description = doc.string(&m, "", "description", false);
    let category = doc.string(&m, "", "category", false);
    if !doc.ok() && !doc.partial {
        return None;
    }
    Some(Segment {
        alias: alias?,
        name: name?,
        description,
        category,
        purpose,
        channel,
        scope,
        filter,
        include,
        exclude,
        export,
        expect,
        file: Some(file.to_path_buf()),
        hash: hex_sha256(doc.text.as_bytes()),
    })
}

pub fn hex_sha256(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}
