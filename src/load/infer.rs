//! Typing a column of CSV text cells: inference in the contract's order (int,
//! float, decimal comma, date, datetime, bool, text) or a declared type.
//! Parsing is by hand, not regex, because it runs on every cell of every
//! column.

use super::csvread::Cells;
use crate::text::bool_word;
pub use crate::types::FieldType;
use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, TimeZone};

#[derive(Clone, Debug, PartialEq)]
pub enum ColumnData {
    Text(Cells),
    Int(Vec<Option<i64>>),
    Float(Vec<Option<f64>>),
    Bool(Vec<Option<bool>>),
    /// Days since 1970-01-01.
    Date(Vec<Option<i32>>),
    /// Milliseconds since 1970-01-01T00:00 of the naive local time in the
    /// project's timezone.
    Datetime(Vec<Option<i64>>),
}

#[derive(Clone, Debug, PartialEq)]
pub struct TypedColumn {
    pub name: String,
    pub data: ColumnData,
    /// Non-empty cells that became missing because they did not fit the
    /// declared type. Zero dates are missing, not failures.
    pub failed: usize,
    /// The first such cell: its row index and its text.
    pub failed_example: Option<(usize, String)>,
}

pub struct InferOptions<'a> {
    /// `None` is auto.
    pub decimal_comma: Option<bool>,
    pub declared: Option<FieldType>,
    /// Converts a timestamp that carried an offset (`Z` or `±HH:MM`) to the
    /// naive local time of the project's zone.
    pub to_local: &'a dyn Fn(DateTime<FixedOffset>) -> NaiveDateTime,
}

/// Types one column: as declared, else text for names like codes, else by
/// inference over its non-missing values.
pub fn infer_column(name: &str, values: Cells, opts: &InferOptions) -> TypedColumn {
    let (data, failed, failed_example) = match opts.declared {
        Some(declared) => cast(values, declared, opts),
        None if is_code_name(name) => (ColumnData::Text(values), 0, None),
        None => (infer(values, opts), 0, None),
    };
    TypedColumn { name: name.to_owned(), data, failed, failed_example }
}

/// Share of a `date` column's values that must be dates for the rest to be
/// read as missing: below it, the column is more likely in a format that is
/// not read (American dates, say) than dates with a few typos.
const DATE_ROLE_SHARE: f64 = 0.9;

/// A table's `date` column that inference left as text, typed again.
pub enum DateRole {
    /// Dates (or datetimes) but for a few values, which are failed casts.
    Dates(TypedColumn, FieldType),
    /// Too few dates: the first value that is not one (row, text) and the
    /// share of values that are not dates.
    NotDates((usize, String), f64),
}

/// Retypes a `date` column that inference made text because some values
/// are not dates: with at least 90% of its non-empty values dates, it is a
/// date column (datetime when any has a time) whose other values are
/// failed casts, counted as for a declared type.
pub fn date_role(col: TypedColumn, opts: &InferOptions) -> DateRole {
    let ColumnData::Text(values) = col.data else {
        return DateRole::Dates(col, FieldType::Date);
    };
    let (mut total, mut dates, mut with_time) = (0usize, 0usize, false);
    let mut first_bad = None;
    for (i, v) in values.iter().enumerate() {
        let Some(v) = v else { continue };
        total += 1;
        match parse_temporal(v) {
            Some(Temporal::DateTime(..)) | Some(Temporal::Zero { with_time: true }) => {
                dates += 1;
                with_time = true;
            }
            Some(_) => dates += 1,
            None => {
                first_bad.get_or_insert_with(|| (i, v.to_owned()));
            }
        }
    }
    let share = if total == 0 { 1.0 } else { dates as f64 / total as f64 };
    match first_bad {
        Some(bad) if share < DATE_ROLE_SHARE => DateRole::NotDates(bad, 1.0 - share),
        _ => {
            let ty = if with_time { FieldType::Datetime } else { FieldType::Date };
            let (data, failed, failed_example) = cast(values, ty, opts);
            DateRole::Dates(TypedColumn { name: col.name, data, failed, failed_example }, ty)
        }
    }
}

/// Parses one number as inference does: one currency sign or code before or
/// after, an optional sign, digits with a dot and an exponent, or (when
/// `decimal_comma`) a decimal comma with groups of three digits separated by
/// spaces. Leading zeros are accepted here; inference rejects them itself.
pub fn parse_number(s: &str, decimal_comma: bool) -> Option<f64> {
    let (negative, core) = split_number(s)?;
    let value = if is_dot_number(core) {
        core.parse::<f64>().ok()?
    } else if decimal_comma && is_comma_number(core) {
        let plain: String = core.chars().filter(|c| !c.is_whitespace()).map(|c| if c == ',' { '.' } else { c }).collect();
        plain.parse::<f64>().ok()?
    } else {
        return None;
    };
    // `1e309` overflows to infinity: no export means that by it.
    if !value.is_finite() {
        return None;
    }
    Some(if negative { -value } else { value })
}

/// Whether a number of this form could overflow f64 (an exponent, or more
/// digits than f64's range has): only those are parsed to find out.
fn may_overflow(core: &str) -> bool {
    core.len() > 300 || core.bytes().any(|b| b == b'e' || b == b'E')
}

/// Names whose values are codes (postal codes, phone numbers), kept as text
/// even when every value looks like a number.
fn is_code_name(name: &str) -> bool {
    let lower = name.trim().to_lowercase();
    lower == "cp" || ["postal", "zip", "phone", "mobile", "tel", "siret"].iter().any(|w| lower.contains(w))
}

// What one cell could be, as bits; a column is the intersection.
const INT: u16 = 1;
/// Int or dot-decimal float.
const FLOAT: u16 = 1 << 1;
/// Matches `-?\d+(\s?\d{3})*(,\d+)?`.
const COMMA: u16 = 1 << 2;
/// Int, dot float or comma form (for `decimal_comma: true`).
const ANY_NUMBER: u16 = 1 << 3;
const DATE: u16 = 1 << 4;
const DATETIME: u16 = 1 << 5;
const BOOL: u16 = 1 << 6;
const NUMBERS: u16 = INT | FLOAT | COMMA | ANY_NUMBER;

/// The kinds `s` could be, checking only those still `possible` for its
/// column: a column of dates stops trying numbers after its first cell.
fn kinds(s: &str, possible: u16) -> (u16, bool) {
    let mut bits = 0;
    let mut has_comma = false;
    // Digits only but too long for i64: an identifier, not a rounded float.
    let too_long = |core: &str, negative| core.bytes().all(|b| b.is_ascii_digit()) && is_int(core, negative).is_none();
    let number = if possible & NUMBERS != 0 { split_number(s) } else { None };
    if let Some((negative, core)) = number.filter(|&(negative, core)| !too_long(core, negative)) {
        if is_int(core, negative).is_some() {
            bits |= INT | FLOAT | COMMA | ANY_NUMBER;
        } else if is_dot_number(core) && !(may_overflow(core) && parse_number(s, false).is_none()) {
            bits |= FLOAT | ANY_NUMBER;
        }
        if is_comma_number(core) && !(may_overflow(core) && parse_number(s, true).is_none()) {
            bits |= COMMA | ANY_NUMBER;
            has_comma = core.contains(',');
        }
        if has_leading_zero(core) {
            bits &= !NUMBERS;
        }
    }
    let temporal = if possible & (DATE | DATETIME) != 0 { parse_temporal(s) } else { None };
    match temporal {
        Some(Temporal::Date(_)) | Some(Temporal::Zero { with_time: false }) => bits |= DATE | DATETIME,
        Some(Temporal::DateTime(..)) | Some(Temporal::Zero { with_time: true }) => bits |= DATETIME,
        None => {}
    }
    if possible & BOOL != 0 && (s.eq_ignore_ascii_case("true") || s.eq_ignore_ascii_case("false")) {
        bits |= BOOL;
    }
    (bits, has_comma)
}

fn infer(values: Cells, opts: &InferOptions) -> ColumnData {
    let mut bits = u16::MAX;
    let mut any_value = false;
    let mut any_comma = false;
    for s in values.iter().flatten() {
        let (b, comma) = kinds(s, bits);
        bits &= b;
        any_value = true;
        any_comma |= comma;
        if bits == 0 {
            break;
        }
    }
    if !any_value {
        return ColumnData::Text(values);
    }
    let number = |dc: bool| ColumnData::Float(values.iter().map(|v| v.and_then(|s| parse_number(s, dc))).collect());
    if bits & INT != 0 {
        ColumnData::Int(values.iter().map(|v| v.and_then(parse_int)).collect())
    } else if bits & FLOAT != 0 {
        number(false)
    } else if match opts.decimal_comma {
        None => bits & COMMA != 0 && any_comma,
        Some(true) => bits & ANY_NUMBER != 0,
        Some(false) => false,
    } {
        number(true)
    } else if bits & DATE != 0 {
        ColumnData::Date(values.iter().map(|v| v.and_then(|s| to_date(s, opts))).collect())
    } else if bits & DATETIME != 0 {
        ColumnData::Datetime(values.iter().map(|v| v.and_then(|s| to_datetime(s, opts))).collect())
    } else if bits & BOOL != 0 {
        ColumnData::Bool(values.iter().map(|v| v.map(|s| s.eq_ignore_ascii_case("true"))).collect())
    } else {
        ColumnData::Text(values)
    }
}

/// A declared type: each non-empty cell that does not fit becomes missing and
/// is counted.
fn cast(values: Cells, declared: FieldType, opts: &InferOptions) -> (ColumnData, usize, Option<(usize, String)>) {
    let decimal_comma = opts.decimal_comma != Some(false);
    let mut failed = 0;
    let mut example = None;
    let data = match declared {
        FieldType::Text => ColumnData::Text(values),
        FieldType::Int => ColumnData::Int(cast_each(&values, |s| cast_int(s, decimal_comma).into(), &mut failed, &mut example)),
        FieldType::Float => ColumnData::Float(cast_each(&values, |s| parse_number(s, decimal_comma).into(), &mut failed, &mut example)),
        FieldType::Bool => ColumnData::Bool(cast_each(&values, |s| bool_word(s).into(), &mut failed, &mut example)),
        FieldType::Date => ColumnData::Date(cast_each(&values, |s| temporal_cast(s, |s| to_date(s, opts)), &mut failed, &mut example)),
        FieldType::Datetime => ColumnData::Datetime(cast_each(&values, |s| temporal_cast(s, |s| to_datetime(s, opts)), &mut failed, &mut example)),
    };
    (data, failed, example)
}

fn cast_each<T>(values: &Cells, f: impl Fn(&str) -> Cast<T>, failed: &mut usize, example: &mut Option<(usize, String)>) -> Vec<Option<T>> {
    let mut out = Vec::with_capacity(values.len());
    for (i, value) in values.iter().enumerate() {
        out.push(match value {
            None => None,
            Some(s) => match f(s) {
                Cast::Value(x) => Some(x),
                Cast::Missing => None,
                Cast::Fail => {
                    *failed += 1;
                    example.get_or_insert_with(|| (i, s.to_owned()));
                    None
                }
            },
        });
    }
    out
}

enum Cast<T> {
    Value(T),
    /// Missing on purpose (a zero date), not a failure.
    Missing,
    Fail,
}

impl<T> From<Option<T>> for Cast<T> {
    fn from(v: Option<T>) -> Self {
        v.map_or(Cast::Fail, Cast::Value)
    }
}

fn temporal_cast<T>(s: &str, convert: impl Fn(&str) -> Option<T>) -> Cast<T> {
    match parse_temporal(s) {
        Some(Temporal::Zero { .. }) => Cast::Missing,
        Some(_) => convert(s).into(),
        None => Cast::Fail,
    }
}

/// A declared int: any number form whose fractional part is zero.
fn cast_int(s: &str, decimal_comma: bool) -> Option<i64> {
    if let Some(v) = parse_int(s) {
        return Some(v);
    }
    let v = parse_number(s, decimal_comma)?;
    // 2^63 is exactly representable; anything from it up does not fit.
    const TWO_63: f64 = 9_223_372_036_854_775_808.0;
    (v.fract() == 0.0 && (-TWO_63..TWO_63).contains(&v)).then_some(v as i64)
}

const CURRENCY_SIGNS: [&str; 3] = ["€", "$", "£"];
const CURRENCY_CODES: [&str; 5] = ["EUR", "USD", "GBP", "CHF", "CAD"];

fn strip_currency_prefix(s: &str) -> Option<&str> {
    for sign in CURRENCY_SIGNS {
        if let Some(rest) = s.strip_prefix(sign) {
            return Some(rest.trim_start());
        }
    }
    for code in CURRENCY_CODES {
        if s.len() >= 3 && s.is_char_boundary(3) && s[..3].eq_ignore_ascii_case(code) {
            return Some(s[3..].trim_start());
        }
    }
    None
}

fn strip_currency_suffix(s: &str) -> Option<&str> {
    for sign in CURRENCY_SIGNS {
        if let Some(rest) = s.strip_suffix(sign) {
            return Some(rest.trim_end());
        }
    }
    for code in CURRENCY_CODES {
        let at = s.len().wrapping_sub(3);
        if s.len() >= 3 && s.is_char_boundary(at) && s[at..].eq_ignore_ascii_case(code) {
            return Some(s[..at].trim_end());
        }
    }
    None
}

/// Splits a number-like cell into its sign and its unsigned digits, with at
/// most one currency sign or code removed (`-€12`, `€ -12`, `12,50 €`).
fn split_number(s: &str) -> Option<(bool, &str)> {
    let s = crate::text::trim(s);
    let (mut negative, mut rest) = match s.as_bytes().first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    let signed = rest.len() != s.len();
    if let Some(after) = strip_currency_prefix(rest) {
        rest = after;
        if !signed {
            match rest.as_bytes().first() {
                Some(b'-') => (negative, rest) = (true, &rest[1..]),
                Some(b'+') => rest = &rest[1..],
                _ => {}
            }
        }
    } else if let Some(before) = strip_currency_suffix(rest) {
        rest = before;
    }
    let first = *rest.as_bytes().first()?;
    (first.is_ascii_digit() || first == b'.').then_some((negative, rest))
}

fn parse_int(s: &str) -> Option<i64> {
    let (negative, core) = split_number(s)?;
    is_int(core, negative)
}

/// Digits only, within i64.
fn is_int(core: &str, negative: bool) -> Option<i64> {
    if core.is_empty() || !core.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let magnitude: u64 = core.parse().ok()?;
    if negative {
        0i64.checked_sub_unsigned(magnitude).or((magnitude == 1 << 63).then_some(i64::MIN))
    } else {
        i64::try_from(magnitude).ok()
    }
}

/// `\d+(\.\d*)?|\.\d+` then an optional exponent; no `inf` or `nan`.
fn is_dot_number(core: &str) -> bool {
    let b = core.as_bytes();
    let digits = |mut i: usize| {
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        (i, i - start)
    };
    let (mut i, int_digits) = digits(0);
    let mut frac_digits = 0;
    if b.get(i) == Some(&b'.') {
        (i, frac_digits) = digits(i + 1);
    }
    if int_digits + frac_digits == 0 {
        return false;
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        let (end, exp_digits) = digits(i);
        if exp_digits == 0 {
            return false;
        }
        i = end;
    }
    i == b.len()
}

/// `\d+(\s?\d{3})*(,\d+)?` without the sign, `\s` being any white space
/// (the no-break spaces included).
fn is_comma_number(core: &str) -> bool {
    let (int_part, frac) = match core.split_once(',') {
        Some((int_part, frac)) => (int_part, Some(frac)),
        None => (core, None),
    };
    if let Some(frac) = frac {
        if frac.is_empty() || !frac.bytes().all(|b| b.is_ascii_digit()) {
            return false;
        }
    }
    let mut groups = int_part.split(char::is_whitespace);
    let first = groups.next().unwrap_or("");
    if first.is_empty() || !first.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    // After a space, the digits up to the next space are whole groups of three.
    groups.all(|g| !g.is_empty() && g.len() % 3 == 0 && g.bytes().all(|b| b.is_ascii_digit()))
}

/// `0` followed by a digit (`01000`, `0612345678`, `0 123`): a code, not a number.
fn has_leading_zero(core: &str) -> bool {
    let mut chars = core.chars();
    if chars.next() != Some('0') {
        return false;
    }
    match chars.next() {
        Some(c) if c.is_ascii_digit() => true,
        Some(c) if c.is_whitespace() => chars.next().is_some_and(|c| c.is_ascii_digit()),
        _ => false,
    }
}

enum Temporal {
    /// `0000-00-00` or `00/00/0000`, maybe with a time: missing.
    Zero {
        with_time: bool,
    },
    Date(NaiveDate),
    DateTime(NaiveDateTime, Option<FixedOffset>),
}

/// Reads `YYYY-MM-DD` or `DD/MM/YYYY` (day and month may have one digit),
/// optionally followed by ` ` or `T`, `HH:MM[:SS[.fff]]`, and `Z` or
/// `±HH[:MM]`.
fn parse_temporal(s: &str) -> Option<Temporal> {
    let b = s.as_bytes();
    let mut p = Cursor { b, i: 0 };
    let (y, m, d) = if b.get(4) == Some(&b'-') {
        let y = p.number(4, 4)?;
        p.expect(b'-')?;
        let m = p.number(2, 2)?;
        p.expect(b'-')?;
        (y, m, p.number(2, 2)?)
    } else {
        let d = p.number(1, 2)?;
        p.expect(b'/')?;
        let m = p.number(1, 2)?;
        p.expect(b'/')?;
        (p.number(4, 4)?, m, d)
    };
    let zero = y == 0 && m == 0 && d == 0;
    let date = if zero { None } else { Some(NaiveDate::from_ymd_opt(y as i32, m, d)?) };
    if p.done() {
        return Some(date.map_or(Temporal::Zero { with_time: false }, Temporal::Date));
    }
    if !matches!(p.next(), Some(b' ' | b'T')) {
        return None;
    }
    let h = p.number(1, 2)?;
    p.expect(b':')?;
    let min = p.number(2, 2)?;
    let mut sec = 0;
    let mut milli = 0;
    if p.peek() == Some(b':') {
        p.next();
        sec = p.number(2, 2)?;
        if p.peek() == Some(b'.') {
            p.next();
            let start = p.i;
            let fraction = p.number(1, 9)?;
            let width = p.i - start;
            milli = if width >= 3 { fraction / 10u32.pow(width as u32 - 3) } else { fraction * 10u32.pow(3 - width as u32) };
        }
    }
    let time = NaiveTime::from_hms_milli_opt(h, min, sec, milli)?;
    let offset = match p.next() {
        None => None,
        Some(b'Z') => Some(FixedOffset::east_opt(0)?),
        Some(sign @ (b'+' | b'-')) => {
            let oh = p.number(2, 2)?;
            let om = if p.done() {
                0
            } else {
                if p.peek() == Some(b':') {
                    p.next();
                }
                p.number(2, 2)?
            };
            let seconds = (oh * 3600 + om * 60) as i32;
            Some(FixedOffset::east_opt(if sign == b'-' { -seconds } else { seconds })?)
        }
        Some(_) => return None,
    };
    if !p.done() {
        return None;
    }
    Some(match date {
        None => Temporal::Zero { with_time: true },
        Some(date) => Temporal::DateTime(date.and_time(time), offset),
    })
}

struct Cursor<'a> {
    b: &'a [u8],
    i: usize,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    fn next(&mut self) -> Option<u8> {
        let c = self.peek()?;
        self.i += 1;
        Some(c)
    }

    fn done(&self) -> bool {
        self.i == self.b.len()
    }

    fn expect(&mut self, c: u8) -> Option<()> {
        (self.next()? == c).then_some(())
    }

    /// Between `min` and `max` ASCII digits.
    fn number(&mut self, min: usize, max: usize) -> Option<u32> {
        let start = self.i;
        while self.i - start < max && self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.i += 1;
        }
        if self.i - start < min {
            return None;
        }
        std::str::from_utf8(&self.b[start..self.i]).ok()?.parse().ok()
    }
}

/// Naive local time: as written when there is no offset, else converted.
fn local_datetime(s: &str, opts: &InferOptions) -> Option<NaiveDateTime> {
    match parse_temporal(s)? {
        Temporal::Zero { .. } => None,
        Temporal::Date(d) => Some(d.and_time(NaiveTime::MIN)),
        Temporal::DateTime(t, None) => Some(t),
        Temporal::DateTime(t, Some(offset)) => Some((opts.to_local)(offset.from_local_datetime(&t).single()?)),
    }
}

fn to_date(s: &str, opts: &InferOptions) -> Option<i32> {
    let date = local_datetime(s, opts)?.date();
    Some((date - NaiveDate::from_ymd_opt(1970, 1, 1).expect("valid date")).num_days() as i32)
}

fn to_datetime(s: &str, opts: &InferOptions) -> Option<i64> {
    Some(local_datetime(s, opts)?.and_utc().timestamp_millis())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc_plus_one(t: DateTime<FixedOffset>) -> NaiveDateTime {
        t.with_timezone(&FixedOffset::east_opt(3600).unwrap()).naive_local()
    }

    fn opts(decimal_comma: Option<bool>, declared: Option<FieldType>) -> InferOptions<'static> {
        InferOptions { decimal_comma, declared, to_local: &utc_plus_one }
    }

    fn cells(values: &[&str]) -> Cells {
        values.iter().map(|v| Some(*v)).collect()
    }

    fn infer_auto(name: &str, values: &[&str]) -> ColumnData {
        infer_column(name, cells(values), &opts(None, None)).data
    }

    fn text(values: &[&str]) -> ColumnData {
        ColumnData::Text(cells(values))
    }

    fn days(y: i32, m: u32, d: u32) -> i32 {
        (NaiveDate::from_ymd_opt(y, m, d).unwrap() - NaiveDate::from_ymd_opt(1970, 1, 1).unwrap()).num_days() as i32
    }

    fn millis(y: i32, m: u32, d: u32, h: u32, min: u32, s: u32, ms: u32) -> i64 {
        NaiveDate::from_ymd_opt(y, m, d).unwrap().and_hms_milli_opt(h, min, s, ms).unwrap().and_utc().timestamp_millis()
    }

    #[test]
    fn code_names_stay_text() {
        for name in ["postal_code", "Zip", "phone", "MobileNumber", "tel", "SIRET", "cp", " CP "] {
            assert_eq!(infer_auto(name, &["75001", "13002"]), text(&["75001", "13002"]), "{name}");
        }
        assert_eq!(infer_auto("cpu", &["1"]), ColumnData::Int(vec![Some(1)]));
        // Declared wins over the name.
        let c = infer_column("postal_code", cells(&["75001"]), &opts(None, Some(FieldType::Int)));
        assert_eq!(c.data, ColumnData::Int(vec![Some(75001)]));
    }

    #[test]
    fn all_missing_is_text() {
        assert_eq!(infer_auto("x", &["", "", ""]), text(&["", "", ""]));
        assert_eq!(infer_auto("x", &[]), text(&[]));
        let c = infer_column("x", [Some("  "), Some("\u{a0}")].into_iter().collect(), &opts(None, None));
        assert_eq!(c.data, ColumnData::Text([None, None].into_iter().collect()));
    }

    #[test]
    fn ints() {
        assert_eq!(infer_auto("n", &["1", "", "-2", "+3", "0"]), ColumnData::Int(vec![Some(1), None, Some(-2), Some(3), Some(0)]));
        assert_eq!(infer_auto("n", &["-9223372036854775808", "9223372036854775807"]), ColumnData::Int(vec![Some(i64::MIN), Some(i64::MAX)]));
        // Too long for i64: an identifier, kept as text rather than rounded.
        assert_eq!(infer_auto("n", &["12345678901234567890123"]), text(&["12345678901234567890123"]));
    }

    #[test]
    fn floats_with_a_dot() {
        assert_eq!(
            infer_auto("n", &["1", "2.5", "-0.5", ".5", "1e3", "2.5E-1"]),
            ColumnData::Float(vec![Some(1.0), Some(2.5), Some(-0.5), Some(0.5), Some(1000.0), Some(0.25)])
        );
        assert_eq!(infer_auto("n", &["1.5", "inf"]), text(&["1.5", "inf"]));
        assert_eq!(infer_auto("n", &["NaN"]), text(&["NaN"]));
        assert_eq!(infer_auto("n", &["1e"]), text(&["1e"]));
    }

    #[test]
    fn a_number_that_overflows_is_not_a_number() {
        assert_eq!(parse_number("1e309", false), None);
        assert_eq!(parse_number("-1e309", true), None);
        assert_eq!(parse_number("1e308", false), Some(1e308));
        assert_eq!(parse_number(&"9".repeat(400), false), None);
        // It does not make a column float...
        assert_eq!(infer_auto("n", &["1.5", "1e309"]), text(&["1.5", "1e309"]));
        assert_eq!(infer_auto("n", &["1.5", "-1E400"]), text(&["1.5", "-1E400"]));
        assert_eq!(infer_auto("n", &["1.5", "1e308", "1e-400"]), ColumnData::Float(vec![Some(1.5), Some(1e308), Some(0.0)]));
        // ...and under a declared float or int it is a failed cast.
        let c = infer_column("n", cells(&["2", "1e309"]), &opts(None, Some(FieldType::Float)));
        assert_eq!(c.data, ColumnData::Float(vec![Some(2.0), None]));
        assert_eq!((c.failed, c.failed_example), (1, Some((1, "1e309".to_owned()))));
        let c = infer_column("n", cells(&["1e309"]), &opts(None, Some(FieldType::Int)));
        assert_eq!((c.data, c.failed), (ColumnData::Int(vec![None]), 1));
    }

    #[test]
    fn leading_zeros_keep_a_column_text() {
        for v in ["01000", "0612345678", "-01", "01,5", "00.5", "0 612"] {
            assert_eq!(infer_auto("code", &["12", v]), text(&["12", v]), "{v}");
        }
        assert_eq!(infer_auto("n", &["0", "0.5"]), ColumnData::Float(vec![Some(0.0), Some(0.5)]));
        assert_eq!(infer_auto("n", &["0,5", "3"]), ColumnData::Float(vec![Some(0.5), Some(3.0)]));
        // Declared int accepts them.
        let c = infer_column("code", cells(&["01000"]), &opts(None, Some(FieldType::Int)));
        assert_eq!((c.data, c.failed), (ColumnData::Int(vec![Some(1000)]), 0));
    }

    #[test]
    fn currency_is_ignored() {
        assert_eq!(
            infer_auto("amount", &["$9.99", "9.99$", "EUR 15", "15 USD", "£3", "CHF12", "-€2", "€ -2", "cad 1"]),
            ColumnData::Float(vec![Some(9.99), Some(9.99), Some(15.0), Some(15.0), Some(3.0), Some(12.0), Some(-2.0), Some(-2.0), Some(1.0)])
        );
        assert_eq!(infer_auto("amount", &["12,50 €", "3 €"]), ColumnData::Float(vec![Some(12.5), Some(3.0)]));
        assert_eq!(infer_auto("amount", &["EUR 15", "€3"]), ColumnData::Int(vec![Some(15), Some(3)]));
        // One currency only.
        assert_eq!(infer_auto("amount", &["€12€"]), text(&["€12€"]));
        assert_eq!(infer_auto("amount", &["€"]), text(&["€"]));
    }

    #[test]
    fn decimal_comma_auto() {
        assert_eq!(
            infer_auto("n", &["1 234,50", "1\u{a0}234", "1\u{202f}000\u{202f}000,5", "-3", "12,5"]),
            ColumnData::Float(vec![Some(1234.5), Some(1234.0), Some(1_000_000.5), Some(-3.0), Some(12.5)])
        );
        // Without any comma, spaced thousands are not numbers.
        assert_eq!(infer_auto("n", &["1 234"]), text(&["1 234"]));
        // Mixing a dot and a comma is text; groups must be of three digits.
        assert_eq!(infer_auto("n", &["1.5", "2,5"]), text(&["1.5", "2,5"]));
        assert_eq!(infer_auto("n", &["12 34,5"]), text(&["12 34,5"]));
        assert_eq!(infer_auto("n", &["1,"]), text(&["1,"]));
        // An int column stays int.
        assert_eq!(infer_auto("n", &["1", "2"]), ColumnData::Int(vec![Some(1), Some(2)]));
    }

    #[test]
    fn decimal_comma_settings() {
        let off = infer_column("n", cells(&["12,5"]), &opts(Some(false), None));
        assert_eq!(off.data, text(&["12,5"]));
        let on = infer_column("n", cells(&["12,5", "3.25"]), &opts(Some(true), None));
        assert_eq!(on.data, ColumnData::Float(vec![Some(12.5), Some(3.25)]));
        assert_eq!(parse_number("12,5", true), Some(12.5));
        assert_eq!(parse_number("12,5", false), None);
        assert_eq!(parse_number("1 234,5 €", true), Some(1234.5));
        assert_eq!(parse_number("-$1.5", false), Some(-1.5));
        assert_eq!(parse_number("abc", true), None);
        assert_eq!(parse_number("infinity", false), None);
    }

    #[test]
    fn dates_and_zero_dates() {
        assert_eq!(
            infer_auto("d", &["2024-02-29", "05/03/1990", "5/3/1990", "0000-00-00", "00/00/0000", ""]),
            ColumnData::Date(vec![Some(days(2024, 2, 29)), Some(days(1990, 3, 5)), Some(days(1990, 3, 5)), None, None, None])
        );
        // Invalid calendar dates do not fit.
        assert_eq!(infer_auto("d", &["2024-01-01", "31/02/2024"]), text(&["2024-01-01", "31/02/2024"]));
        assert_eq!(infer_auto("d", &["2024-1-01"]), text(&["2024-1-01"]));
        // An int-looking date is an int (int comes first).
        assert_eq!(infer_auto("d", &["20240101"]), ColumnData::Int(vec![Some(20240101)]));
    }

    #[test]
    fn datetimes() {
        assert_eq!(
            infer_auto(
                "t",
                &["2024-03-01 10:30", "01/03/2024 10:30:15", "2024-03-01T10:30:15", "2024-03-01T10:30:15.123", "2024-03-01", "0000-00-00 00:00:00"]
            ),
            ColumnData::Datetime(vec![
                Some(millis(2024, 3, 1, 10, 30, 0, 0)),
                Some(millis(2024, 3, 1, 10, 30, 15, 0)),
                Some(millis(2024, 3, 1, 10, 30, 15, 0)),
                Some(millis(2024, 3, 1, 10, 30, 15, 123)),
                Some(millis(2024, 3, 1, 0, 0, 0, 0)),
                None,
            ])
        );
        assert_eq!(infer_auto("t", &["2024-03-01 25:00"]), text(&["2024-03-01 25:00"]));
        assert_eq!(infer_auto("t", &["2024-03-01 10:00 x"]), text(&["2024-03-01 10:00 x"]));
    }

    #[test]
    fn offsets_are_converted_to_local() {
        // The test zone is UTC+1.
        assert_eq!(
            infer_auto("t", &["2024-03-01T10:00:00Z", "2024-03-01T10:00:00+02:00", "2024-03-01T23:30:00-01:00"]),
            ColumnData::Datetime(vec![Some(millis(2024, 3, 1, 11, 0, 0, 0)), Some(millis(2024, 3, 1, 9, 0, 0, 0)), Some(millis(2024, 3, 2, 1, 30, 0, 0)),])
        );
        let paris = |t: DateTime<FixedOffset>| t.with_timezone(&chrono_tz::Europe::Paris).naive_local();
        let o = InferOptions { decimal_comma: None, declared: None, to_local: &paris };
        let c = infer_column("t", cells(&["2024-07-01T10:00:00Z"]), &o);
        assert_eq!(c.data, ColumnData::Datetime(vec![Some(millis(2024, 7, 1, 12, 0, 0, 0))]));
    }

    #[test]
    fn a_date_role_column_with_a_few_bad_dates_is_dates() {
        let mut values = vec!["2025-01-01"; 20];
        values[7] = "2025-02-30";
        let col = infer_column("d", cells(&values), &opts(None, None));
        assert!(matches!(col.data, ColumnData::Text(_)));
        let DateRole::Dates(col, ty) = date_role(col, &opts(None, None)) else { panic!("not dates") };
        assert_eq!(ty, FieldType::Date);
        assert_eq!((col.failed, col.failed_example), (1, Some((7, "2025-02-30".to_owned()))));
        let ColumnData::Date(days_read) = col.data else { panic!("not a date column") };
        assert_eq!((days_read[0], days_read[7]), (Some(days(2025, 1, 1)), None));
        // With a time somewhere, datetimes.
        values[3] = "2025-01-01 10:30";
        let col = infer_column("d", cells(&values), &opts(None, None));
        let DateRole::Dates(col, ty) = date_role(col, &opts(None, None)) else { panic!("not dates") };
        assert_eq!((ty, col.failed), (FieldType::Datetime, 1));
    }

    #[test]
    fn a_date_role_column_of_mostly_other_things_is_not_dates() {
        let values = ["2025-01-01", "03/25/2024", "12/31/2024", "2025-01-02"];
        let col = infer_column("d", cells(&values), &opts(None, None));
        let DateRole::NotDates(bad, share) = date_role(col, &opts(None, None)) else { panic!("dates") };
        assert_eq!(bad, (1, "03/25/2024".to_owned()));
        assert_eq!(share, 0.5);
    }

    #[test]
    fn bools_are_true_false_only() {
        assert_eq!(infer_auto("b", &["TRUE", "false", "", "True"]), ColumnData::Bool(vec![Some(true), Some(false), None, Some(true)]));
        assert_eq!(infer_auto("b", &["yes", "no"]), text(&["yes", "no"]));
        // 1/0 infer as int.
        assert_eq!(infer_auto("b", &["1", "0"]), ColumnData::Int(vec![Some(1), Some(0)]));
    }

    #[test]
    fn text_when_nothing_fits() {
        assert_eq!(infer_auto("n", &["1", "two"]), text(&["1", "two"]));
        assert_eq!(infer_auto("d", &["2024-01-01", "true"]), text(&["2024-01-01", "true"]));
    }

    #[test]
    fn declared_string_keeps_text() {
        let c = infer_column("n", cells(&["1", " 2 "]), &opts(None, Some(FieldType::Text)));
        assert_eq!((c.data, c.failed), (text(&["1", "2"]), 0));
    }

    #[test]
    fn declared_int() {
        let c = infer_column("n", cells(&["12", "12,00", "12.0", "€ 7", "12,50", "", "abc", "1 000"]), &opts(None, Some(FieldType::Int)));
        assert_eq!(c.data, ColumnData::Int(vec![Some(12), Some(12), Some(12), Some(7), None, None, None, Some(1000)]));
        assert_eq!(c.failed, 2);
        assert_eq!(c.failed_example, Some((4, "12,50".to_owned())));
        let c = infer_column("n", cells(&["12,00"]), &opts(Some(false), Some(FieldType::Int)));
        assert_eq!((c.data, c.failed), (ColumnData::Int(vec![None]), 1));
    }

    #[test]
    fn declared_float() {
        let c = infer_column("n", cells(&["1.5", "2,5", "3", "x", "$4"]), &opts(None, Some(FieldType::Float)));
        assert_eq!(c.data, ColumnData::Float(vec![Some(1.5), Some(2.5), Some(3.0), None, Some(4.0)]));
        assert_eq!((c.failed, c.failed_example), (1, Some((3, "x".to_owned()))));
        let c = infer_column("n", cells(&["2,5"]), &opts(Some(false), Some(FieldType::Float)));
        assert_eq!(c.failed, 1);
    }

    #[test]
    fn declared_bool() {
        let c = infer_column(
            "b",
            cells(&["true", "1", "YES", "y", "Oui", "o", "vrai", "X", "false", "0", "no", "N", "non", "Faux", "maybe"]),
            &opts(None, Some(FieldType::Bool)),
        );
        let t = Some(true);
        let f = Some(false);
        assert_eq!(c.data, ColumnData::Bool(vec![t, t, t, t, t, t, t, t, f, f, f, f, f, f, None]));
        assert_eq!((c.failed, c.failed_example), (1, Some((14, "maybe".to_owned()))));
    }

    #[test]
    fn declared_date_and_datetime() {
        let values = cells(&["2024-03-01", "01/03/2024 23:30", "2024-03-01T23:30:00Z", "0000-00-00", "soon"]);
        let c = infer_column("d", values.clone(), &opts(None, Some(FieldType::Date)));
        // 23:30Z is 00:30 the next day in UTC+1.
        assert_eq!(c.data, ColumnData::Date(vec![Some(days(2024, 3, 1)), Some(days(2024, 3, 1)), Some(days(2024, 3, 2)), None, None]));
        assert_eq!((c.failed, c.failed_example), (1, Some((4, "soon".to_owned()))));
        let c = infer_column("d", values, &opts(None, Some(FieldType::Datetime)));
        assert_eq!(
            c.data,
            ColumnData::Datetime(vec![
                Some(millis(2024, 3, 1, 0, 0, 0, 0)),
                Some(millis(2024, 3, 1, 23, 30, 0, 0)),
                Some(millis(2024, 3, 2, 0, 30, 0, 0)),
                None,
                None
            ])
        );
        assert_eq!(c.failed, 1);
    }

    #[test]
    fn declared_type_names() {
        for name in FieldType::DECLARED_NAMES {
            assert_eq!(FieldType::from_declared(name).unwrap().declared_name(), name);
        }
        assert_eq!(FieldType::from_declared("text"), Some(FieldType::Text));
    }
}
