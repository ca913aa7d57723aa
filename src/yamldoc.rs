//! A YAML file read for validation: the parsed value, where each node sits,
//! and the diagnostics found so far. Raw YAML is turned into typed structs by
//! `project` and `segment::parse`, which report through here so every problem
//! carries its file, line and column.

use std::path::Path;

use serde_yaml::{Mapping, Value};

use crate::diag::{did_you_mean, Diagnostic};
use crate::yamlpos::{Pos, PosMap};
pub use crate::yamlvalue::scalar_text;

pub struct Doc {
    pub file: String,
    pub text: String,
    pub pos: PosMap,
    pub root: Value,
    pub diags: Vec<Diagnostic>,
    /// Keep what parses around a mistake (a list of conditions without its
    /// broken item), so `check` can go on to find the type errors of the rest.
    /// A partial result is never evaluated: its file has errors.
    pub partial: bool,
}

/// Reads a YAML file (segment or project file) as text. Only a regular file
/// is read: a FIFO would block forever and a device such as /dev/zero never
/// ends, so both are refused by their kind before anything is opened.
///
/// The error carries the position it concerns (1:1 when it is the whole file).
pub fn read_text(path: &Path) -> Result<String, (Pos, String)> {
    let whole = |m: String| (Pos::START, m);
    let meta = std::fs::metadata(path).map_err(|e| whole(format!("cannot read the file: {e}")))?;
    if !meta.is_file() {
        return Err(whole(format!("cannot read the file: it is {}, not a regular file", file_kind(&meta))));
    }
    let bytes = std::fs::read(path).map_err(|e| whole(format!("cannot read the file: {e}")))?;
    if bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF]) {
        return Err(whole("the file is UTF-16 text; save it as UTF-8".into()));
    }
    String::from_utf8(bytes).map_err(|e| {
        let valid = e.utf8_error().valid_up_to();
        let good = std::str::from_utf8(&e.as_bytes()[..valid]).unwrap_or_default();
        let byte = e.as_bytes()[valid];
        (
            crate::yamlpos::pos_of_byte(good, valid),
            format!("the file is not valid UTF-8: byte 0x{byte:02X} here is not part of any character; save the file as UTF-8 (often it was saved as Windows-1252 or Latin-1)"),
        )
    })
}

fn file_kind(meta: &std::fs::Metadata) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        let t = meta.file_type();
        if t.is_fifo() {
            return "a FIFO (named pipe)";
        }
        if t.is_char_device() || t.is_block_device() {
            return "a device";
        }
        if t.is_socket() {
            return "a socket";
        }
    }
    if meta.is_dir() {
        "a folder"
    } else {
        "a special file"
    }
}

impl Doc {
    pub fn parse(file: &Path, text: String) -> Doc {
        let file = file.display().to_string();
        let pos = PosMap::build(&text);
        let mut diags = Vec::new();
        // A BOM (editors on Windows write one) is no part of the YAML.
        let body = text.strip_prefix('\u{feff}').unwrap_or(&text);
        let root = match crate::yamlvalue::parse(body) {
            Ok(v) => v,
            Err(e) => {
                diags.push(Diagnostic::new(&file, e.pos, e.message).with_hint(e.hint));
                Value::Null
            }
        };
        Doc { file, text, pos, root, diags, partial: false }
    }

    pub fn ok(&self) -> bool {
        self.diags.is_empty()
    }

    pub fn error(&mut self, path: &str, message: impl Into<String>) {
        let p = self.pos.locate(path);
        self.diags.push(Diagnostic::new(&self.file, p, message));
    }

    pub fn error_hint(&mut self, path: &str, message: impl Into<String>, hint: Option<String>) {
        let p = self.pos.locate(path);
        let mut d = Diagnostic::new(&self.file, p, message);
        if let Some(h) = hint {
            d = d.with_hint(h);
        }
        self.diags.push(d);
    }

    /// Error about a mapping key itself (unknown key, reserved name).
    pub fn key_error(&mut self, path: &str, message: impl Into<String>, hint: Option<String>) {
        let p = self.pos.key(path).unwrap_or_else(|| self.pos.locate(path));
        let mut d = Diagnostic::new(&self.file, p, message);
        if let Some(h) = hint {
            d = d.with_hint(h);
        }
        self.diags.push(d);
    }

    /// The mapping at `path`, with every key outside `allowed` reported.
    pub fn mapping<'v>(&mut self, v: &'v Value, path: &str, what: &str, allowed: &[&str]) -> Option<&'v Mapping> {
        let Some(map) = v.as_mapping() else {
            self.error(path, format!("{what} must be a mapping of keys to values, found {}", kind(v)));
            return None;
        };
        for k in map.keys() {
            let name = scalar_text(k).unwrap_or_default();
            if !allowed.contains(&name.as_str()) {
                let hint = did_you_mean(&name, allowed.iter().copied()).or_else(|| Some(format!("valid keys here: {}", allowed.join(", "))));
                self.key_error(&join(path, &name), format!("unknown key `{name}` in {what}"), hint);
            }
        }
        Some(map)
    }

    /// Like [`Doc::mapping`] for a file's top level, where a key of the
    /// other kind of file (`metrics:` in a segment file, `where:` in
    /// audience.yaml) is reported as misplaced, with where it goes.
    pub fn root_mapping<'v>(&mut self, v: &'v Value, what: &str, allowed: &[&str], elsewhere: &[&str], hint: &dyn Fn(&str) -> String) -> Option<&'v Mapping> {
        let mut known: Vec<&str> = allowed.to_vec();
        if let Some(map) = v.as_mapping() {
            for k in map.keys() {
                let name = scalar_text(k).unwrap_or_default();
                if !allowed.contains(&name.as_str()) {
                    if let Some(e) = elsewhere.iter().find(|e| **e == name) {
                        self.key_error(&name, format!("`{name}` does not belong in {what}"), Some(hint(&name)));
                        known.push(e);
                    }
                }
            }
        }
        self.mapping(v, "", what, &known)
    }

    /// A required or optional text scalar.
    pub fn string(&mut self, map: &Mapping, path: &str, key: &str, required: bool) -> Option<String> {
        let p = join(path, key);
        match map.get(key) {
            None | Some(Value::Null) => {
                if required {
                    self.error(path, format!("missing required key `{key}`"));
                }
                None
            }
            Some(v) => match scalar_text(v) {
                Some(s) if !matches!(v, Value::Bool(_)) => Some(s),
                _ => {
                    self.error(&p, format!("`{key}` must be text, found {}", kind(v)));
                    None
                }
            },
        }
    }
}

pub fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

pub fn index(path: &str, i: usize) -> String {
    format!("{path}[{i}]")
}

pub fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "nothing",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "text",
        Value::Sequence(_) => "a list",
        Value::Mapping(_) => "a mapping",
        Value::Tagged(_) => "a tagged value",
    }
}
