//! YAML text to a `serde_yaml::Value`, built from saphyr-parser's events.
//!
//! serde_yaml refuses nesting beyond 128 levels and words its errors for Rust
//! programmers ("as u128", "more than one document"). This builder keeps the
//! nodes on an explicit stack, so block-style nesting is bounded by memory
//! alone, and every error carries the line and column a user should look at.
//! Plain scalars resolve as in serde_yaml (YAML 1.2 core schema), with one
//! difference: an integer too large for 64 bits stays text, digits intact, so
//! it still compares as a number and still equals the same digits in a field.

use std::collections::HashMap;

use saphyr_parser::{Event, Parser, ScalarStyle, ScanError, Tag};
use serde_yaml::value::{Tag as ValueTag, TaggedValue};
use serde_yaml::{Mapping, Number, Value};

use crate::yamlpos::{pos_of, pos_of_byte, Pos};

/// Nodes that aliases may copy in one file: real files copy a handful; the
/// "billion laughs" file copies exponentially many.
const ALIAS_NODE_BUDGET: usize = 1_000_000;

#[derive(Debug)]
pub struct YamlError {
    pub pos: Pos,
    pub message: String,
    pub hint: String,
}

impl YamlError {
    fn new(pos: Pos, message: impl Into<String>, hint: impl Into<String>) -> Self {
        YamlError { pos, message: message.into(), hint: hint.into() }
    }
}

enum Frame {
    Seq { items: Vec<Value>, anchor: usize, tag: Option<String>, nodes: usize },
    Map { map: Mapping, key: Option<(Value, Pos)>, anchor: usize, tag: Option<String>, nodes: usize },
}

/// Parses the first and only document of `text` (a BOM already removed).
/// An empty text is `Null`.
pub fn parse(text: &str) -> Result<Value, YamlError> {
    if let Some(at) = text.find('\0') {
        return Err(YamlError::new(
            pos_of_byte(text, at),
            "the file holds a NUL byte, so it is not a text file",
            "save the segment as plain UTF-8 text; a NUL often means the file was saved as UTF-16 or is binary",
        ));
    }
    let mut parser = Parser::new_from_str(text);
    let mut stack: Vec<Frame> = Vec::new();
    let mut anchors: HashMap<usize, (Value, usize)> = HashMap::new();
    let mut root: Option<Value> = None;
    let mut documents = 0;
    let mut last_end = Pos::START;
    let mut copied = 0usize;
    loop {
        let (event, span) = match parser.next_event() {
            None => break,
            Some(Ok(x)) => x,
            Some(Err(e)) => return Err(scan_error(text, &e, last_end)),
        };
        let pos = pos_of(&span);
        last_end = Pos { line: span.end.line(), col: span.end.col() + 1 };
        let (node, nodes, anchor) = match event {
            Event::StreamStart | Event::StreamEnd | Event::Nothing | Event::DocumentEnd => continue,
            Event::DocumentStart(_) => {
                documents += 1;
                if documents > 1 {
                    return Err(YamlError::new(
                        pos,
                        "a second YAML document starts here; a file holds one segment (or one project)",
                        "remove this `---` and what follows, or move it to a file of its own",
                    ));
                }
                continue;
            }
            Event::SequenceStart(anchor, tag) => {
                stack.push(Frame::Seq { items: Vec::new(), anchor, tag: tag.map(|t| tag_text(&t)), nodes: 1 });
                continue;
            }
            Event::MappingStart(anchor, tag) => {
                stack.push(Frame::Map { map: Mapping::new(), key: None, anchor, tag: tag.map(|t| tag_text(&t)), nodes: 1 });
                continue;
            }
            Event::SequenceEnd | Event::MappingEnd => match stack.pop() {
                Some(Frame::Seq { items, anchor, tag, nodes }) => (tagged(Value::Sequence(items), tag), nodes, anchor),
                Some(Frame::Map { map, anchor, tag, nodes, .. }) => (tagged(Value::Mapping(map), tag), nodes, anchor),
                None => continue,
            },
            Event::Scalar(text, style, anchor, tag) => (scalar(&text, style, tag.as_deref(), pos)?, 1, anchor),
            Event::Alias(id) => {
                let Some((v, n)) = anchors.get(&id) else {
                    return Err(YamlError::new(
                        pos,
                        "this alias names no anchor defined before it",
                        "define the anchor (`&name`) before its first use (`*name`)",
                    ));
                };
                copied += n;
                if copied > ALIAS_NODE_BUDGET {
                    return Err(YamlError::new(
                        pos,
                        format!("aliases in this file copy more than {ALIAS_NODE_BUDGET} nodes"),
                        "write the repeated part once, or as a segment of its own referenced with `segment:`",
                    ));
                }
                (v.clone(), *n, 0)
            }
        };
        if anchor != 0 {
            anchors.insert(anchor, (node.clone(), nodes));
        }
        match stack.last_mut() {
            None => root = Some(node),
            Some(Frame::Seq { items, nodes: total, .. }) => {
                items.push(node);
                *total += nodes;
            }
            Some(Frame::Map { map, key, nodes: total, .. }) => {
                *total += nodes;
                match key.take() {
                    None => *key = Some((node, pos)),
                    Some((k, at)) => {
                        if map.contains_key(&k) {
                            let name = scalar_text(&k).unwrap_or_else(|| "(a complex key)".into());
                            return Err(YamlError::new(
                                at,
                                format!("the key `{name}` appears twice in this mapping"),
                                "keep one of them: YAML does not say which one wins",
                            ));
                        }
                        map.insert(k, node);
                    }
                }
            }
        }
    }
    Ok(root.unwrap_or(Value::Null))
}

/// The byte offset of a 1-based line and column, or the end of the text.
fn byte_of_pos(text: &str, p: Pos) -> usize {
    let mut offset = 0;
    for (i, line) in text.split_inclusive('\n').enumerate() {
        if i + 1 == p.line {
            return offset + line.char_indices().nth(p.col - 1).map_or(line.len(), |(b, _)| b);
        }
        offset += line.len();
    }
    text.len()
}

fn scan_error(text: &str, e: &ScanError, last_end: Pos) -> YamlError {
    let m = e.marker();
    let at = Pos { line: m.line().max(1), col: m.col() + 1 };
    let info = e.info();
    let here = text[byte_of_pos(text, at)..].chars().next();
    if info.contains("quoted scalar") && (info.contains("end of stream") || info.contains("document indicator") || info.contains("indentation")) {
        // The scanner stops at the end; the mistake is the quote that opened it.
        let from = byte_of_pos(text, last_end);
        let open = text[from..].find(['"', '\'']).map(|i| from + i);
        let p = open.map_or(at, |b| pos_of_byte(text, b));
        let q = open.and_then(|b| text[b..].chars().next()).unwrap_or('"');
        return YamlError::new(
            p,
            format!("this quote ({q}) is never closed"),
            format!(
                "add the closing {q} at the end of the value (a quoted value continues on the next line only when that line is indented more than its key)"
            ),
        );
    }
    if info.contains("tab") || here == Some('\t') {
        // Point at the first tab of the line, where the scanner may have moved past.
        let line_start = byte_of_pos(text, Pos { line: at.line, col: 1 });
        let line = text[line_start..].split('\n').next().unwrap_or("");
        let at = line.find('\t').map_or(at, |b| pos_of_byte(text, line_start + b));
        return YamlError::new(
            at,
            "a tab indents this line; YAML indents with spaces only",
            "replace the tabs at the start of the line with spaces (most editors can convert them)",
        );
    }
    if info.contains("unknown anchor") {
        return YamlError::new(at, "this alias names no anchor defined before it", "define the anchor (`&name`) before its first use (`*name`)");
    }
    if info.contains("cannot start any token") {
        if let Some(c) = here {
            return YamlError::new(at, format!("a value cannot start with `{c}`"), format!("put the value in quotes: \"{c}…\""));
        }
    }
    YamlError::new(at, format!("YAML syntax error: {info}"), "check the indentation and the quotes on this line")
}

fn tag_text(t: &Tag) -> String {
    if t.is_yaml_core_schema() {
        format!("!!{}", t.suffix)
    } else if t.handle == "!" {
        format!("!{}", t.suffix)
    } else {
        format!("{}{}", t.handle, t.suffix)
    }
}

fn tagged(v: Value, tag: Option<String>) -> Value {
    match tag {
        // `!!map` and `!!seq` say what the node already is.
        None => v,
        Some(t) if t == "!!map" || t == "!!seq" => v,
        Some(t) => Value::Tagged(Box::new(TaggedValue { tag: ValueTag::new(t), value: v })),
    }
}

fn scalar(text: &str, style: ScalarStyle, tag: Option<&Tag>, pos: Pos) -> Result<Value, YamlError> {
    let Some(tag) = tag else {
        return Ok(if style == ScalarStyle::Plain { plain(text) } else { Value::String(text.to_string()) });
    };
    if !tag.is_yaml_core_schema() {
        return Ok(tagged(Value::String(text.to_string()), Some(tag_text(tag))));
    }
    let resolved = plain(text);
    let ok = match tag.suffix.as_str() {
        "str" => return Ok(Value::String(text.to_string())),
        "null" => resolved.is_null(),
        "bool" => resolved.is_bool(),
        "int" => resolved.is_u64() || resolved.is_i64(),
        "float" => resolved.is_number(),
        _ => return Ok(tagged(Value::String(text.to_string()), Some(tag_text(tag)))),
    };
    if ok {
        Ok(resolved)
    } else {
        Err(YamlError::new(pos, format!("`{text}` is not a valid !!{}", tag.suffix), format!("remove the `!!{}` tag or fix the value", tag.suffix)))
    }
}

/// Resolves a plain scalar: null, booleans, integers, floats, else text.
fn plain(s: &str) -> Value {
    match s {
        "" | "~" | "null" | "Null" | "NULL" => return Value::Null,
        "true" | "True" | "TRUE" => return Value::Bool(true),
        "false" | "False" | "FALSE" => return Value::Bool(false),
        _ => {}
    }
    if let Some(v) = integer(s) {
        return v;
    }
    if !leading_zero_digits(s) {
        if let Some(f) = float(s) {
            return Value::Number(Number::from(f));
        }
    }
    Value::String(s.to_string())
}

/// `007` is text in YAML 1.2, not the number 7.
fn leading_zero_digits(s: &str) -> bool {
    let s = s.strip_prefix(['-', '+']).unwrap_or(s);
    s.len() > 1 && s.starts_with('0') && s[1..].bytes().all(|b| b.is_ascii_digit())
}

fn integer(s: &str) -> Option<Value> {
    let (negative, body) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    let (radix, digits) = if let Some(r) = body.strip_prefix("0x") {
        (16, r)
    } else if let Some(r) = body.strip_prefix("0o") {
        (8, r)
    } else if let Some(r) = body.strip_prefix("0b") {
        (2, r)
    } else {
        if leading_zero_digits(body) {
            return None;
        }
        (10, body)
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    let number = if negative {
        i64::from_str_radix(&format!("-{digits}"), radix).ok().map(Number::from)
    } else {
        u64::from_str_radix(digits, radix).ok().map(Number::from)
    };
    // Beyond 64 bits: kept as written (see the module comment).
    Some(number.map_or_else(|| Value::String(s.to_string()), Value::Number))
}

fn float(s: &str) -> Option<f64> {
    let unsigned = match s.strip_prefix('+') {
        Some(rest) if rest.starts_with(['+', '-']) => return None,
        Some(rest) => rest,
        None => s,
    };
    match unsigned {
        ".inf" | ".Inf" | ".INF" => return Some(f64::INFINITY),
        "-.inf" | "-.Inf" | "-.INF" => return Some(f64::NEG_INFINITY),
        ".nan" | ".NaN" | ".NAN" => return Some(f64::NAN),
        _ => {}
    }
    unsigned.parse::<f64>().ok().filter(|f| f.is_finite())
}

/// A scalar as text: strings as they are, numbers in their shortest form.
pub fn scalar_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(number_value_text(n)),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

pub fn number_value_text(n: &Number) -> String {
    if let Some(i) = n.as_i64() {
        i.to_string()
    } else if let Some(u) = n.as_u64() {
        u.to_string()
    } else {
        crate::text::number_text(n.as_f64().unwrap_or(f64::NAN))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(text: &str) -> Value {
        parse(text).unwrap()
    }

    #[test]
    fn scalars_resolve_like_the_core_schema() {
        let v = p("a: 1\nb: -2\nc: 1.5\nd: true\ne: ~\nf: '1'\ng: 007\nh: 0x1F\ni: 123456789012345678901234567890\nj: 1e309\nk: text\n");
        assert_eq!(v["a"], Value::Number(1u64.into()));
        assert_eq!(v["b"], Value::Number((-2i64).into()));
        assert_eq!(v["c"], Value::Number(1.5.into()));
        assert_eq!(v["d"], Value::Bool(true));
        assert_eq!(v["e"], Value::Null);
        assert_eq!(v["f"], Value::String("1".into()));
        assert_eq!(v["g"], Value::String("007".into()));
        assert_eq!(v["h"], Value::Number(31u64.into()));
        assert_eq!(v["i"], Value::String("123456789012345678901234567890".into()));
        assert_eq!(v["j"], Value::String("1e309".into()));
        assert_eq!(v["k"], Value::String("text".into()));
    }

    #[test]
    fn block_nesting_is_not_limited() {
        let depth = 3000;
        let mut text = String::new();
        for i in 0..depth {
            text.push_str(&" ".repeat(2 * i));
            text.push_str("not:\n");
        }
        text.push_str(&" ".repeat(2 * depth));
        text.push_str("x: 1\n");
        let mut v = &p(&text);
        for _ in 0..depth {
            v = &v["not"];
        }
        assert_eq!(v["x"], Value::Number(1u64.into()));
    }

    #[test]
    fn errors_point_at_the_cause() {
        let e = parse("name: \"Lyon\nwhere: x\n").unwrap_err();
        assert_eq!((e.pos, e.message.as_str()), (Pos { line: 1, col: 7 }, "this quote (\") is never closed"));
        let e = parse("a: 1\na: 2\n").unwrap_err();
        assert_eq!(e.pos, Pos { line: 2, col: 1 });
        assert!(e.message.contains("`a` appears twice"), "{}", e.message);
        let e = parse("a: 1\n---\nb: 2\n").unwrap_err();
        assert_eq!(e.pos.line, 2);
        let e = parse("a: [*x]\n").unwrap_err();
        assert!(e.message.contains("alias"), "{}", e.message);
        let e = parse("a: 1\nb: \0\n").unwrap_err();
        assert_eq!(e.pos, Pos { line: 2, col: 4 });
    }

    #[test]
    fn aliases_copy_within_a_budget() {
        let v = p("a: &x [1, 2]\nb: *x\n");
        assert_eq!(v["a"], v["b"]);
        let mut laughs = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..9 {
            let prev = format!("*a{}", i - 1);
            laughs.push_str(&format!("a{i}: &a{i} [{}]\n", [prev.as_str(); 10].join(", ")));
        }
        assert!(parse(&laughs).unwrap_err().message.contains("copy more than"));
    }
}
