//! Where each node of a YAML file sits, by path (`where.all[1].value`).
//!
//! serde gives positions only for syntax and type errors; semantic checks
//! (unknown keys, bad operators) need the node's line and column too. The map
//! is built once per file from saphyr-parser's event stream.
//!
//! Paths: mapping keys joined with `.`, sequence items as `[i]`, the root is
//! `""`. Keys are used verbatim (a key holding `.` is not escaped); build
//! paths with [`child`] and [`item`] so they match the ones stored here.

use std::collections::HashMap;

use saphyr_parser::{Event, Parser, Span};

/// A 1-based line and a 1-based column counted in characters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pos {
    pub line: usize,
    pub col: usize,
}

impl Pos {
    pub const START: Pos = Pos { line: 1, col: 1 };
}

/// Path of the entry `key` of the mapping at `parent`.
pub fn child(parent: &str, key: &str) -> String {
    if parent.is_empty() {
        key.to_string()
    } else {
        format!("{parent}.{key}")
    }
}

/// Path of item `i` of the sequence at `parent`.
pub fn item(parent: &str, i: usize) -> String {
    format!("{parent}[{i}]")
}

/// The path one level up, or None for the root.
fn parent(path: &str) -> Option<&str> {
    if path.is_empty() {
        return None;
    }
    if path.ends_with(']') {
        if let Some(i) = path.rfind('[') {
            return Some(&path[..i]);
        }
    }
    Some(path.rfind('.').map_or("", |i| &path[..i]))
}

#[derive(Debug, Default)]
struct Entry {
    /// None when the value is empty (`key:` with nothing after it).
    value: Option<Pos>,
    key: Option<Pos>,
    /// Keys in file order, when the node is a mapping.
    keys: Option<Vec<String>>,
}

/// Positions of every node of the first document of a YAML text.
#[derive(Debug, Default)]
pub struct PosMap {
    entries: HashMap<String, Entry>,
}

enum Slot {
    /// Waiting for a key.
    Key,
    /// Waiting for the value of this entry; None: the key was not a scalar,
    /// so the value has no path and is skipped.
    Value(Option<String>),
}

enum Frame {
    Map {
        path: String,
        slot: Slot,
    },
    Seq {
        path: String,
        next: usize,
    },
    /// Inside a node that has no path (a complex key, or its value).
    Skip {
        depth: usize,
    },
}

/// Where a saphyr-parser event starts.
pub fn pos_of(span: &Span) -> Pos {
    // saphyr-parser's lines are 1-based, its columns 0-based (in characters).
    Pos { line: span.start.line(), col: span.start.col() + 1 }
}

/// The line and column of byte `at` of `text`.
pub fn pos_of_byte(text: &str, at: usize) -> Pos {
    let before = &text[..at];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().unwrap_or("").chars().count() + 1;
    Pos { line, col }
}

impl PosMap {
    /// Builds the map. Never panics: on a syntax error it keeps what was read
    /// before the error.
    pub fn build(text: &str) -> PosMap {
        // The scanner would read a BOM as part of the first key.
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let mut map = PosMap::default();
        let mut stack: Vec<Frame> = Vec::new();
        let mut root_seen = false;
        let mut parser = Parser::new_from_str(text);
        while let Some(Ok((event, span))) = parser.next_event() {
            let pos = pos_of(&span);
            let starts = matches!(event, Event::MappingStart(..) | Event::SequenceStart(..));
            match event {
                Event::Scalar(..) | Event::Alias(..) | Event::MappingStart(..) | Event::SequenceStart(..) => {}
                Event::MappingEnd | Event::SequenceEnd => {
                    match stack.last_mut() {
                        Some(Frame::Skip { depth }) if *depth > 1 => *depth -= 1,
                        _ => {
                            stack.pop();
                        }
                    }
                    continue;
                }
                Event::DocumentEnd | Event::StreamEnd => break,
                _ => continue,
            }

            // Which path does this node have? None: it is skipped.
            let path = match stack.last_mut() {
                None if root_seen => break, // a second document
                None => {
                    root_seen = true;
                    Some(String::new())
                }
                Some(Frame::Skip { depth }) => {
                    if starts {
                        *depth += 1;
                    }
                    continue;
                }
                Some(Frame::Seq { path, next }) => {
                    *next += 1;
                    Some(item(path, *next - 1))
                }
                Some(Frame::Map { path, slot }) => match std::mem::replace(slot, Slot::Key) {
                    Slot::Key => {
                        if let Event::Scalar(name, ..) = &event {
                            let name = name.to_string();
                            let key_path = child(path, &name);
                            if let Some(keys) = map.entries.get_mut(path.as_str()).and_then(|e| e.keys.as_mut()) {
                                if !keys.contains(&name) {
                                    keys.push(name);
                                }
                            }
                            let entry = map.entries.entry(key_path.clone()).or_default();
                            entry.key.get_or_insert(pos);
                            *slot = Slot::Value(Some(key_path));
                        } else {
                            *slot = Slot::Value(None);
                            if starts {
                                stack.push(Frame::Skip { depth: 1 });
                            }
                        }
                        continue;
                    }
                    Slot::Value(p) => p,
                },
            };
            let Some(path) = path else {
                if starts {
                    stack.push(Frame::Skip { depth: 1 });
                }
                continue;
            };

            let entry = map.entries.entry(path.clone()).or_default();
            // An empty value (`key:` and nothing) has no text to point at.
            if span.start.index() != span.end.index() || starts {
                entry.value.get_or_insert(pos);
            }
            match event {
                Event::MappingStart(..) => {
                    entry.keys.get_or_insert_with(Vec::new);
                    stack.push(Frame::Map { path, slot: Slot::Key });
                }
                Event::SequenceStart(..) => stack.push(Frame::Seq { path, next: 0 }),
                _ => {}
            }
        }
        map
    }

    #[cfg(test)]
    /// Whether the file has a node at `path` (even an empty one).
    pub fn contains(&self, path: &str) -> bool {
        self.entries.contains_key(path)
    }

    /// Position of the node's value; None when absent or empty (`key:`).
    #[cfg(test)]
    pub fn value(&self, path: &str) -> Option<Pos> {
        self.entries.get(path).and_then(|e| e.value)
    }

    /// Position of the mapping key naming the node; None for sequence items
    /// and the root.
    pub fn key(&self, path: &str) -> Option<Pos> {
        self.entries.get(path).and_then(|e| e.key)
    }

    /// Best position for an error about `path`: the value, else the key, else
    /// the nearest existing ancestor's, else 1:1.
    pub fn locate(&self, path: &str) -> Pos {
        let mut p = Some(path);
        while let Some(cur) = p {
            if let Some(e) = self.entries.get(cur) {
                if let Some(pos) = e.value.or(e.key) {
                    return pos;
                }
            }
            p = parent(cur);
        }
        Pos::START
    }

    #[cfg(test)]
    /// The keys of the mapping at `path`, in file order (duplicates once);
    /// empty when there is no mapping there.
    pub fn keys_at(&self, path: &str) -> Vec<String> {
        self.entries.get(path).and_then(|e| e.keys.clone()).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(line: usize, col: usize) -> Option<Pos> {
        Some(Pos { line, col })
    }

    // Flow mappings inside a block list, inside a flow `where`.
    const FLOW: &str = "\
name: Clients fidèles > 100 €
alias: loyal-100
where: {all: [{field: newsletter, op: is_true}, {field: total_spent, op: gt, value: 100}]}
export:
  columns: [email, first_name, total_spent]
  rename: {email: \"Email Address\"}
expect:
  min: 10
  includes: [alice@example.com]
";

    // Block style all the way down, a nested `any`, quoted keys, an empty value.
    const BLOCK: &str = "\
name: \"Fidèles\"
where:
  all:
    - field: newsletter
      op: is_true
    - any:
        - {field: city, op: in, value: [Lyon, Paris]}
        - field: total_spent
          op: gt
          value: 100
    - 'not':
        segment: staff
description:
export:
  columns:
    - email
    - \"first_name\"
";

    #[test]
    fn flow_style_positions() {
        let m = PosMap::build(FLOW);
        assert_eq!(m.value(""), p(1, 1));
        assert_eq!(m.key("name"), p(1, 1));
        assert_eq!(m.value("name"), p(1, 7));
        assert_eq!(m.key("where"), p(3, 1));
        assert_eq!(m.value("where"), p(3, 8));
        assert_eq!(m.key("where.all"), p(3, 9));
        assert_eq!(m.value("where.all"), p(3, 14));
        assert_eq!(m.value("where.all[0]"), p(3, 15));
        assert_eq!(m.key("where.all[0]"), None);
        assert_eq!(m.key("where.all[0].op"), p(3, 35));
        assert_eq!(m.value("where.all[0].op"), p(3, 39));
        assert_eq!(m.value("where.all[1]"), p(3, 49));
        assert_eq!(m.key("where.all[1].value"), p(3, 78));
        assert_eq!(m.value("where.all[1].value"), p(3, 85));
        assert_eq!(m.value("export.columns"), p(5, 12));
        assert_eq!(m.value("export.columns[0]"), p(5, 13));
        assert_eq!(m.value("export.columns[2]"), p(5, 32));
        assert_eq!(m.value("export.rename.email"), p(6, 19));
        assert_eq!(m.key("expect.min"), p(8, 3));
        assert_eq!(m.value("expect.min"), p(8, 8));
        assert_eq!(m.value("expect.includes[0]"), p(9, 14));
    }

    #[test]
    fn block_style_positions() {
        let m = PosMap::build(BLOCK);
        assert_eq!(m.value("name"), p(1, 7));
        assert_eq!(m.value("where"), p(3, 3));
        assert_eq!(m.value("where.all"), p(4, 5));
        assert_eq!(m.value("where.all[0]"), p(4, 7));
        assert_eq!(m.key("where.all[0].field"), p(4, 7));
        assert_eq!(m.value("where.all[0].field"), p(4, 14));
        assert_eq!(m.key("where.all[0].op"), p(5, 7));
        assert_eq!(m.value("where.all[0].op"), p(5, 11));
        assert_eq!(m.value("where.all[1].any"), p(7, 9));
        assert_eq!(m.value("where.all[1].any[0]"), p(7, 11));
        assert_eq!(m.value("where.all[1].any[0].value"), p(7, 40));
        assert_eq!(m.value("where.all[1].any[0].value[1]"), p(7, 47));
        assert_eq!(m.key("where.all[1].any[1].value"), p(10, 11));
        assert_eq!(m.value("where.all[1].any[1].value"), p(10, 18));
        assert_eq!(m.key("where.all[2].not"), p(11, 7));
        assert_eq!(m.value("where.all[2].not.segment"), p(12, 18));
        assert_eq!(m.value("export.columns[1]"), p(17, 7));
    }

    #[test]
    fn keys_in_file_order() {
        let m = PosMap::build(BLOCK);
        assert_eq!(m.keys_at(""), ["name", "where", "description", "export"]);
        assert_eq!(m.keys_at("where.all[1].any[1]"), ["field", "op", "value"]);
        assert_eq!(m.keys_at("where.all[2]"), ["not"]);
        let f = PosMap::build(FLOW);
        assert_eq!(f.keys_at("where.all[0]"), ["field", "op"]);
        assert_eq!(f.keys_at("export.rename"), ["email"]);
        assert!(f.keys_at("export.columns").is_empty());
        assert!(f.keys_at("nowhere").is_empty());
    }

    #[test]
    fn locate_falls_back() {
        let m = PosMap::build(BLOCK);
        // An empty value has no position of its own: its key stands in.
        assert!(m.contains("description"));
        assert_eq!(m.value("description"), None);
        assert_eq!(m.locate("description"), Pos { line: 13, col: 1 });
        // A missing entry: the nearest ancestor that exists.
        assert_eq!(m.locate("where.all[0].value"), Pos { line: 4, col: 7 });
        assert_eq!(m.locate("where.all[9].field"), Pos { line: 4, col: 5 });
        assert_eq!(m.locate("expect.min"), Pos { line: 1, col: 1 });
        assert_eq!(PosMap::build("").locate("where"), Pos::START);
    }

    #[test]
    fn syntax_error_keeps_what_was_read() {
        let m = PosMap::build("name: x\nwhere: {field: a, op: [eq\nalias: y\n");
        assert_eq!(m.value("name"), p(1, 7));
        assert_eq!(m.value("where.field"), p(2, 16));
        assert_eq!(m.value("alias"), None);
        assert_eq!(m.locate("where.op"), Pos { line: 2, col: 23 });
    }

    #[test]
    fn odd_inputs() {
        // A BOM is not part of the first key.
        let m = PosMap::build("\u{feff}a: 1\r\nb: \"x\"\r\n");
        assert_eq!(m.keys_at(""), ["a", "b"]);
        assert_eq!(m.value("b"), p(2, 4));
        // Complex keys have no path; what follows them still does.
        let m = PosMap::build("? [a, b]\n: {x: 1}\nc: 2\n");
        assert_eq!(m.keys_at(""), ["c"]);
        assert_eq!(m.value("c"), p(3, 4));
        // Only the first document counts.
        let m = PosMap::build("a: 1\n---\nb: 2\n");
        assert_eq!(m.keys_at(""), ["a"]);
        // A scalar root, aliases, and deep nesting.
        assert_eq!(PosMap::build("just text").value(""), p(1, 1));
        let m = PosMap::build("a: &x 1\nb: *x\n");
        assert_eq!(m.value("b"), p(2, 4));
        let deep = "[".repeat(5000);
        let _ = PosMap::build(&deep);
    }

    #[test]
    fn path_helpers() {
        assert_eq!(child("", "where"), "where");
        assert_eq!(item(&child("where", "all"), 1), "where.all[1]");
        assert_eq!(parent("where.all[1]"), Some("where.all"));
        assert_eq!(parent("where.all"), Some("where"));
        assert_eq!(parent("where"), Some(""));
        assert_eq!(parent(""), None);
    }
}
