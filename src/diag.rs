//! Diagnostics in the manner of rustc and cargo-deny: `file:line:col:
//! message`, the source line with a caret, and a hint on how to fix it.

use crate::yamlpos::Pos;

/// One problem in one file. Serialises to JSON as-is for `--format json`.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Diagnostic {
    pub file: String,
    pub line: usize,
    pub col: usize,
    pub message: String,
    pub hint: Option<String>,
}

impl Diagnostic {
    pub fn new(file: impl Into<String>, pos: Pos, message: impl Into<String>) -> Self {
        Diagnostic { file: file.into(), line: pos.line, col: pos.col, message: message.into(), hint: None }
    }

    pub fn with_hint(self, hint: impl Into<String>) -> Self {
        Diagnostic { hint: Some(hint.into()), ..self }
    }
}

/// Human rendering:
///
/// ```text
/// segments/vip.yaml:4:8: unknown key `fiel`
///   |
/// 4 |     - {fiel: status, op: eq}
///   |        ^
///   hint: did you mean `field`?
/// ```
///
/// Without `source`, or when the line is not in it, only the first line and
/// the hint. Every line ends with `\n`.
pub fn render(d: &Diagnostic, source: Option<&str>) -> String {
    let mut out = format!("{}:{}:{}: {}\n", d.file, d.line, d.col, d.message);
    let text = source.and_then(|s| d.line.checked_sub(1).and_then(|i| s.lines().nth(i)));
    if let Some(text) = text {
        let text = text.strip_suffix('\r').unwrap_or(text);
        let text = if d.line == 1 { text.strip_prefix('\u{feff}').unwrap_or(text) } else { text };
        let number = d.line.to_string();
        let pad = " ".repeat(number.len());
        // Keep tabs so the caret lines up however the terminal shows them.
        let indent: String = text.chars().chain(std::iter::repeat(' ')).take(d.col.saturating_sub(1)).map(|c| if c == '\t' { '\t' } else { ' ' }).collect();
        out.push_str(&format!("{pad} |\n{number} | {text}\n{pad} | {indent}^\n"));
    }
    if let Some(hint) = &d.hint {
        out.push_str(&format!("  hint: {hint}\n"));
    }
    out
}

/// The candidate closest to `word` when it is a plausible typo of it:
/// case-insensitive Damerau-Levenshtein distance at most 1 for words of up to
/// 3 characters and at most max(2, len/3) beyond, or `word` a prefix of the
/// candidate (`desc` for `description`). Ties go to the earlier candidate;
/// a candidate equal to `word` is never suggested.
pub fn nearest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let lower = word.to_lowercase();
    let len = lower.chars().count();
    let mut best: Option<(usize, &'a str)> = None;
    for candidate in candidates {
        if candidate == word {
            continue;
        }
        let cand = candidate.to_lowercase();
        let longest = len.max(cand.chars().count());
        let limit = if longest <= 3 { 1 } else { (longest / 3).max(2) };
        let distance = strsim::damerau_levenshtein(&lower, &cand);
        // A prefix ranks after every edit-distance match.
        let score = if distance <= limit && distance < longest {
            distance
        } else if len >= 3 && cand.starts_with(&lower) {
            usize::MAX - 1
        } else {
            continue;
        };
        if best.is_none_or(|(s, _)| score < s) {
            best = Some((score, candidate));
        }
    }
    best.map(|(_, c)| c)
}

/// "did you mean `x`?", when some candidate is a plausible typo of `word`.
pub fn did_you_mean<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<String> {
    nearest(word, candidates).map(|c| format!("did you mean `{c}`?"))
}

/// An error already shown to the user; exit with status 1.
#[derive(Debug)]
pub struct Reported;

impl std::fmt::Display for Reported {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("errors reported above")
    }
}

impl std::error::Error for Reported {}

/// A usage mistake (unknown alias, bad option); exit with status 2.
#[derive(Debug)]
pub struct UsageError(pub String);

impl std::fmt::Display for UsageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}

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

    /// Marks a value of the wrong kind: `ty` is the column type the test
    /// asks for, so `declared_in` can say where to declare it.
    pub fn wants(mut self, ty: &'static str) -> Self {
        self.wants = Some((ty, "check the operator".into()));
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yamlpos::PosMap;

    const SEGMENT: &str = "\
name: VIP
where:
  all:
    - {fiel: status, op: eq, value: VIP}
    - field: total_spent
      op: greater
      value: 100
";

    const CONDITION_KEYS: [&str; 8] = ["all", "any", "not", "field", "op", "value", "table", "segment"];

    #[test]
    fn renders_like_rustc() {
        let map = PosMap::build(SEGMENT);
        let key = map.keys_at("where.all[0]").into_iter().find(|k| k == "fiel").unwrap();
        let d = Diagnostic::new("segments/vip.yaml", map.key("where.all[0].fiel").unwrap(), format!("unknown key `{key}`"))
            .with_hint(did_you_mean(&key, CONDITION_KEYS).unwrap());
        assert_eq!(
            render(&d, Some(SEGMENT)),
            "\
segments/vip.yaml:4:8: unknown key `fiel`
  |
4 |     - {fiel: status, op: eq, value: VIP}
  |        ^
  hint: did you mean `field`?
"
        );
        assert_eq!(render(&d, None), "segments/vip.yaml:4:8: unknown key `fiel`\n  hint: did you mean `field`?\n");
    }

    #[test]
    fn renders_value_errors_and_wide_gutters() {
        let map = PosMap::build(SEGMENT);
        let d = Diagnostic::new("vip.yaml", map.locate("where.all[1].op"), "unknown operator `greater`").with_hint("did you mean `gt`?");
        assert_eq!(
            render(&d, Some(SEGMENT)),
            "vip.yaml:6:11: unknown operator `greater`\n  |\n6 |       op: greater\n  |           ^\n  hint: did you mean `gt`?\n"
        );
        let source = format!("{}\tbad: x\r\n", "a: 1\n".repeat(11));
        let d = Diagnostic::new("f.yaml", Pos { line: 12, col: 7 }, "oops");
        assert_eq!(render(&d, Some(&source)), "f.yaml:12:7: oops\n   |\n12 | \tbad: x\n   | \t     ^\n");
        // A position past the end of the text: no snippet, no panic.
        let d = Diagnostic::new("f.yaml", Pos { line: 99, col: 1 }, "oops");
        assert_eq!(render(&d, Some("a: 1\n")), "f.yaml:99:1: oops\n");
        let d = Diagnostic::new("f.yaml", Pos { line: 0, col: 0 }, "oops");
        assert_eq!(render(&d, Some("a: 1\n")), "f.yaml:0:0: oops\n");
    }

    #[test]
    fn serialises_to_json() {
        let d = Diagnostic::new("a.yaml", Pos { line: 2, col: 3 }, "bad").with_hint("fix it");
        assert_eq!(serde_json::to_string(&d).unwrap(), r#"{"file":"a.yaml","line":2,"col":3,"message":"bad","hint":"fix it"}"#);
        let d = Diagnostic::new("a.yaml", Pos { line: 2, col: 3 }, "bad");
        assert!(serde_json::to_string(&d).unwrap().ends_with(r#""hint":null}"#));
    }

    #[test]
    fn nearest_finds_plausible_typos() {
        assert_eq!(nearest("fiel", CONDITION_KEYS), Some("field"));
        assert_eq!(nearest("feild", CONDITION_KEYS), Some("field"));
        assert_eq!(nearest("Field", CONDITION_KEYS), Some("field"));
        assert_eq!(nearest("segmnet", CONDITION_KEYS), Some("segment"));
        assert_eq!(nearest("nay", CONDITION_KEYS), Some("any"));
        assert_eq!(nearest("desc", ["name", "description", "category"]), Some("description"));
        assert_eq!(nearest("is_ture", ["is_true", "is_false", "is_empty"]), Some("is_true"));
        assert_eq!(did_you_mean("valeu", CONDITION_KEYS).as_deref(), Some("did you mean `value`?"));
    }

    #[test]
    fn nearest_refuses_far_words() {
        assert_eq!(nearest("xyz", CONDITION_KEYS), None);
        assert_eq!(nearest("ab", ["op", "all"]), None);
        assert_eq!(nearest("where", ["name", "alias", "purpose"]), None);
        assert_eq!(nearest("field", CONDITION_KEYS), None);
        assert_eq!(nearest("x", Vec::<&str>::new()), None);
        assert_eq!(did_you_mean("xyz", CONDITION_KEYS), None);
    }
}
