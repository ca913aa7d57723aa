//! Text rules shared by loading and matching: case and accent folding,
//! boolean words, e-mail keys.

use std::sync::OnceLock;

use unicode_normalization::char::is_combining_mark;
use unicode_normalization::UnicodeNormalization;

/// Lowercases and strips accents, so `Étudiant` and `etudiant` compare equal.
pub fn fold(s: &str) -> String {
    if s.is_ascii() {
        return s.to_ascii_lowercase();
    }
    s.to_lowercase().nfd().filter(|c| !is_combining_mark(*c)).collect()
}

/// `s.trim()`, answering at once for the usual cell that starts and ends
/// with a visible ASCII character.
pub fn trim(s: &str) -> &str {
    match (s.as_bytes().first(), s.as_bytes().last()) {
        (Some(a), Some(b)) if a.is_ascii_graphic() && b.is_ascii_graphic() => s,
        _ => s.trim(),
    }
}

/// Whether `fold` leaves `s` as it is (checked without folding).
pub fn is_folded(s: &str) -> bool {
    s.bytes().all(|b| b.is_ascii() && !b.is_ascii_uppercase())
}

/// Strips accents but keeps case: what `matches` runs its `(?i)` regex over.
pub fn strip_accents(s: &str) -> String {
    if s.is_ascii() {
        return s.to_string();
    }
    s.nfd().filter(|c| !is_combining_mark(*c)).collect()
}

pub const TRUE_WORDS: &[&str] = &["true", "1", "yes", "y", "oui", "o", "vrai", "x"];
pub const FALSE_WORDS: &[&str] = &["false", "0", "no", "n", "non", "faux"];

/// Reads a cell as a boolean word; anything else is neither.
pub fn bool_word(s: &str) -> Option<bool> {
    // The words are ASCII, so comparing without case needs no lower-cased copy
    // (this runs once per cell when a column is typed).
    let w = s.trim();
    if TRUE_WORDS.iter().any(|t| w.eq_ignore_ascii_case(t)) {
        Some(true)
    } else if FALSE_WORDS.iter().any(|f| w.eq_ignore_ascii_case(f)) {
        Some(false)
    } else {
        None
    }
}

/// A key as it is compared everywhere once the key is known to hold e-mails.
pub fn normalize_email(s: &str) -> String {
    s.trim().to_lowercase()
}

pub const EMAIL_PATTERN: &str = r"^[^@\s]+@[^@\s.]+(\.[^@\s.]+)+$";

pub fn is_valid_email(s: &str) -> bool {
    static RE: OnceLock<regex::Regex> = OnceLock::new();
    RE.get_or_init(|| regex::Regex::new(EMAIL_PATTERN).expect("valid pattern")).is_match(s)
}

/// Whether a key column holds e-mail addresses: at least half of its first
/// 1,000 non-empty values contain `@`.
pub fn looks_like_email_column<'a>(values: impl Iterator<Item = &'a str>) -> bool {
    let (mut seen, mut with_at) = (0usize, 0usize);
    for v in values.filter(|v| !v.trim().is_empty()).take(1000) {
        seen += 1;
        if v.contains('@') {
            with_at += 1;
        }
    }
    seen > 0 && with_at * 2 >= seen
}

/// Shortest decimal text of a float: `12.0` is "12", `12.5` is "12.5".
/// Exponent notation only for magnitudes outside 1e-7..1e21, as JavaScript.
pub fn number_text(v: f64) -> String {
    if v == 0.0 {
        return "0".to_owned();
    }
    let magnitude = v.abs();
    if v.is_finite() && !(1e-7..1e21).contains(&magnitude) {
        format!("{v:e}")
    } else {
        format!("{v}")
    }
}

/// A value as part of a file name, as `export.split_by` names its files:
/// case and accents dropped, each run of characters outside `[a-z0-9_-]`
/// as one `-`, no `-` at either end. Empty when nothing is left.
pub fn file_part(value: &str) -> String {
    let folded = fold(value);
    let mut out = String::with_capacity(folded.len());
    for c in folded.chars() {
        if c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-' {
            out.push(c);
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    out.trim_matches('-').to_string()
}

#[cfg(test)]
mod tests {
    #[test]
    fn number_texts() {
        assert_eq!(number_text(12.0), "12");
        assert_eq!(number_text(12.5), "12.5");
        assert_eq!(number_text(-0.0), "0");
        assert_eq!(number_text(0.1 + 0.2), "0.30000000000000004");
        assert_eq!(number_text(1234567.0), "1234567");
        assert_eq!(number_text(1e15), "1000000000000000");
        assert_eq!(number_text(0.000001), "0.000001");
        assert_eq!(number_text(1e21), "1e21");
    }

    use super::*;

    #[test]
    fn trim_is_str_trim() {
        for s in ["", " ", "a", " a", "a ", "\u{a0}12,50\u{a0}", "x\u{202f}", "\u{b}v\u{b}", "a b", "é", " é "] {
            assert_eq!(trim(s), s.trim(), "{s:?}");
        }
    }

    #[test]
    fn is_folded_only_when_folding_changes_nothing() {
        for s in ["", "vip", "festival lumières 2025", "VIP", "Vip", "a.b@x.fr", "ÉTÉ", "été", "ß", "x y"] {
            assert_eq!(is_folded(s), fold(s) == s && s.is_ascii(), "{s:?}");
        }
    }

    #[test]
    fn folding_ignores_case_and_accents() {
        assert_eq!(fold("Étudiant"), "etudiant");
        assert_eq!(fold("ÇA VA"), "ca va");
        assert_eq!(strip_accents("Théâtre"), "Theatre");
    }

    #[test]
    fn boolean_words() {
        assert_eq!(bool_word(" Oui "), Some(true));
        assert_eq!(bool_word("FAUX"), Some(false));
        assert_eq!(bool_word("maybe"), None);
    }

    #[test]
    fn email_validity() {
        assert!(is_valid_email("a.b@example.co.uk"));
        assert!(!is_valid_email("jean@gmail"));
        assert!(!is_valid_email("a b@example.com"));
        assert!(!is_valid_email("a@@example.com"));
    }

    #[test]
    fn file_parts_drop_case_and_accents_and_join_other_runs_with_one_dash() {
        assert_eq!(file_part("Français"), "francais");
        assert_eq!(file_part("Pt-BR"), "pt-br");
        assert_eq!(file_part("  Île de France / Nord "), "ile-de-france-nord");
        assert_eq!(file_part("a_b"), "a_b");
        assert_eq!(file_part("***"), "");
    }
}
