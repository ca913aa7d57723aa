//! Dates as segments write them: absolute dates, `today`, signed offsets from
//! as_of, and `in_last` durations. Months and years are calendar months and
//! years, clamped to the month's last day.

use anyhow::{anyhow, bail, Result};
use chrono::{DateTime, FixedOffset, Months, NaiveDate, NaiveDateTime, TimeZone};

/// The project's zone: where "today" is, and what timestamps with an offset
/// are converted to.
#[derive(Clone, Copy, Debug)]
pub enum Zone {
    Named(chrono_tz::Tz),
    Local,
}

impl Zone {
    pub fn parse(name: &str) -> Result<Zone> {
        name.parse::<chrono_tz::Tz>().map(Zone::Named).map_err(|_| anyhow!("unknown time zone `{name}` (use an IANA name such as Europe/Paris)"))
    }

    pub fn today(&self) -> NaiveDate {
        let now = chrono::Utc::now();
        match self {
            Zone::Named(tz) => now.with_timezone(tz).date_naive(),
            Zone::Local => now.with_timezone(&chrono::Local).date_naive(),
        }
    }

    pub fn to_local(self, t: DateTime<FixedOffset>) -> NaiveDateTime {
        match self {
            Zone::Named(tz) => tz.from_utc_datetime(&t.naive_utc()).naive_local(),
            Zone::Local => chrono::Local.from_utc_datetime(&t.naive_utc()).naive_local(),
        }
    }
}

pub fn epoch() -> NaiveDate {
    NaiveDate::from_ymd_opt(1970, 1, 1).expect("valid date")
}

pub fn to_days(d: NaiveDate) -> i32 {
    (d - epoch()).num_days() as i32
}

pub fn from_days(days: i32) -> NaiveDate {
    epoch() + chrono::Duration::days(days as i64)
}

/// `YYYY-MM-DD` or `DD/MM/YYYY`.
pub fn parse_date(s: &str) -> Option<NaiveDate> {
    let s = s.trim();
    NaiveDate::parse_from_str(s, "%Y-%m-%d").ok().filter(|_| s.len() == 10).or_else(|| NaiveDate::parse_from_str(s, "%d/%m/%Y").ok().filter(|_| s.len() == 10))
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unit {
    Day,
    Week,
    Month,
    Year,
}

/// A count of calendar units, as in `30d`, `-2w`, `6m`, `1y`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Span {
    pub n: i64,
    pub unit: Unit,
}

impl Span {
    pub fn parse(s: &str) -> Option<Span> {
        let s = s.trim();
        let (num, unit) = s.split_at(s.len().checked_sub(1)?);
        let unit = match unit {
            "d" => Unit::Day,
            "w" => Unit::Week,
            "m" => Unit::Month,
            "y" => Unit::Year,
            _ => return None,
        };
        let digits = num.strip_prefix(['+', '-']).unwrap_or(num);
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        Some(Span { n: num.parse().ok()?, unit })
    }

    /// `date` moved by this span; months clamp to the last day of the month.
    pub fn add_to(&self, date: NaiveDate) -> Option<NaiveDate> {
        match self.unit {
            Unit::Day => date.checked_add_signed(chrono::Duration::days(self.n)),
            Unit::Week => date.checked_add_signed(chrono::Duration::days(7 * self.n)),
            Unit::Month => add_months(date, self.n),
            Unit::Year => add_months(date, 12 * self.n),
        }
    }
}

fn add_months(date: NaiveDate, n: i64) -> Option<NaiveDate> {
    let m = Months::new(n.unsigned_abs().try_into().ok()?);
    if n >= 0 {
        date.checked_add_months(m)
    } else {
        date.checked_sub_months(m)
    }
}

/// A date value of a segment: absolute, `today`/`yesterday`/`tomorrow`, or a
/// signed offset from as_of (`-30d`, `+2w`, `-3m`, `-1y`).
pub fn resolve_date(s: &str, as_of: NaiveDate) -> Result<NaiveDate> {
    let t = s.trim();
    match t {
        "today" => return Ok(as_of),
        "yesterday" => return Ok(as_of.pred_opt().unwrap_or(as_of)),
        "tomorrow" => return Ok(as_of.succ_opt().unwrap_or(as_of)),
        _ => {}
    }
    if let Some(d) = parse_date(t) {
        return Ok(d);
    }
    if t.starts_with(['+', '-']) {
        if let Some(span) = Span::parse(t) {
            return span.add_to(as_of).ok_or_else(|| anyhow!("date `{t}` is out of range"));
        }
    }
    bail!("`{t}` is not a date (write YYYY-MM-DD, DD/MM/YYYY, today, yesterday, tomorrow, or an offset such as -30d, +2w, -3m, -1y)")
}

/// An `in_last` duration: `30d`, `2w`, `6m`, `1y` (no sign).
pub fn parse_duration(s: &str) -> Result<Span> {
    let t = s.trim();
    match Span::parse(t) {
        Some(span) if !t.starts_with(['+', '-']) && span.n >= 0 => Ok(span),
        _ => bail!("`{t}` is not a duration (write a count and a unit: 30d, 2w, 6m, 1y)"),
    }
}

/// The start of an `in_last` window ending at as_of.
pub fn window_start(span: Span, as_of: NaiveDate) -> Option<NaiveDate> {
    Span { n: -span.n, unit: span.unit }.add_to(as_of)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        parse_date(s).unwrap()
    }

    #[test]
    fn offsets_clamp_to_month_end() {
        let as_of = d("2025-11-30");
        assert_eq!(resolve_date("-9m", as_of).unwrap(), d("2025-02-28"));
        assert_eq!(resolve_date("-1y", as_of).unwrap(), d("2024-11-30"));
        assert_eq!(resolve_date("+2w", as_of).unwrap(), d("2025-12-14"));
        assert_eq!(resolve_date("today", as_of).unwrap(), as_of);
        assert_eq!(resolve_date("yesterday", as_of).unwrap(), d("2025-11-29"));
        assert_eq!(resolve_date("05/03/1990", as_of).unwrap(), d("1990-03-05"));
        assert!(resolve_date("30d", as_of).is_err());
        assert!(resolve_date("2025-13-01", as_of).is_err());
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("30d").unwrap(), Span { n: 30, unit: Unit::Day });
        assert!(parse_duration("-30d").is_err());
        assert!(parse_duration("3x").is_err());
        let start = window_start(parse_duration("6m").unwrap(), d("2025-08-31")).unwrap();
        assert_eq!(start, d("2025-02-28"));
    }
}
