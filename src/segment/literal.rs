//! Values written in segment files that need more than a type check:
//! `top`/`bottom` amounts and `matches` patterns. Parsing checks them, the
//! plan carries them, the backends use them: one reading for all three.

use serde_yaml::Value;

use crate::yamldoc::scalar_text;

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

/// How many contacts `top` and `bottom` keep: a share of those with a value
/// (`10%`, `12.5%`), or a number of contacts (`100`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
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
