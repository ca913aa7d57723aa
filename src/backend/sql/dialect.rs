//! What differs between the engines the SQL runs on, as one table per
//! dialect: quoting, literals, type names, and the functions spelt apart.
//! Functions a dialect spells as every other does go through [`common`].

use std::sync::OnceLock;

use chrono::NaiveDate;

use super::ast::{Expr, Func, Printer, Type};

pub struct Dialect {
    pub name: &'static str,
    /// Opening and closing quote of a name.
    pub quote: (char, char),
    /// Leave a plain lower-case name unquoted, so that the engine resolves
    /// it without regard to case (Snowflake stores unquoted names in upper case).
    pub bare_names: bool,
    pub string: fn(&str) -> String,
    pub date: fn(NaiveDate) -> String,
    pub type_name: fn(Type) -> &'static str,
    pub func: fn(&mut Printer, Func, &[Expr]),
    /// The statements that make table `name` hold the rows of `query`.
    pub materialize: fn(name: &str, query: &str) -> String,
    /// Printed after every query (ClickHouse's settings).
    pub suffix: &'static str,
}

/// `'…'` with the quote doubled; backslashes are plain characters.
fn standard_string(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// `'…'` where the backslash escapes (Spark, BigQuery, ClickHouse, Snowflake).
fn escaped_string(s: &str) -> String {
    format!("'{}'", s.replace('\\', "\\\\").replace('\'', "\\'"))
}

/// Spark: backslashes escaped; a text with a `'` in double quotes, which
/// Spark also reads as a string (parsers that do not know Spark's `\'`
/// read it too).
fn spark_string(s: &str) -> String {
    let body = s.replace('\\', "\\\\");
    match (s.contains('\''), s.contains('"')) {
        (false, _) => format!("'{body}'"),
        (true, false) => format!("\"{body}\""),
        (true, true) => format!("'{}'", body.replace('\'', "\\'")),
    }
}

fn date_keyword(d: NaiveDate) -> String {
    format!("DATE '{}'", d.format("%Y-%m-%d"))
}

fn call(p: &mut Printer, name: &str, a: &[Expr]) {
    p.call(name, a);
}

/// `name(a[0], text, a[1])` and the like, written out.
fn wrap(p: &mut Printer, before: &str, e: &Expr, after: &str) {
    p.push(before);
    p.expr(e);
    p.push(after);
}

fn binary(p: &mut Printer, before: &str, a: &Expr, middle: &str, b: &Expr, after: &str) {
    p.push(before);
    p.expr(a);
    p.push(middle);
    p.expr(b);
    p.push(after);
}

/// The regex pattern with `(?i)` (or Java's `(?iu)`) in front when the
/// match ignores case.
fn pattern(a: &[Expr], flag: &str) -> Expr {
    match (&a[1], a.get(2)) {
        (Expr::Str(p), Some(Expr::Bool(true))) => Expr::Str(format!("{flag}{p}")),
        (other, _) => other.clone(),
    }
}

/// The spellings most dialects share.
fn common(p: &mut Printer, f: Func, a: &[Expr]) {
    match f {
        Func::Lower => call(p, "lower", a),
        Func::Md5Hex => call(p, "md5", a),
        Func::Mod => call(p, "mod", a),
        Func::Tidy => wrap(p, "round(", &a[0], ", 9)"),
        Func::ToDate => p.expr(&Expr::Cast(Box::new(a[0].clone()), Type::Date)),
        _ => unreachable!("{f:?} has no common spelling"),
    }
}

/// Lower-case letters with accents, and the letter each folds to: the fold
/// of section 8 (NFD, marks removed) as a `translate` table, for engines
/// without a Unicode normalisation function.
fn fold_table() -> &'static (String, String) {
    static TABLE: OnceLock<(String, String)> = OnceLock::new();
    TABLE.get_or_init(|| {
        let (mut from, mut to) = (String::new(), String::new());
        for c in ('\u{00c0}'..='\u{024f}').chain('\u{0370}'..='\u{03ff}').chain('\u{0400}'..='\u{04ff}').chain('\u{1e00}'..='\u{1eff}') {
            let lower: String = c.to_lowercase().collect();
            if lower != c.to_string() || !c.is_alphabetic() {
                continue;
            }
            let folded = crate::text::fold(&lower);
            let mut chars = folded.chars();
            if let (Some(base), None) = (chars.next(), chars.next()) {
                if base != c && base.is_alphabetic() {
                    from.push(c);
                    to.push(base);
                }
            }
        }
        (from, to)
    })
}

fn translate_fold(p: &mut Printer, subject: Expr) {
    let (from, to) = fold_table();
    p.call("translate", &[subject, Expr::Str(from.clone()), Expr::Str(to.clone())]);
}

pub const DUCKDB: Dialect = Dialect {
    name: "duckdb",
    quote: ('"', '"'),
    bare_names: false,
    string: standard_string,
    date: date_keyword,
    type_name: |t| match t {
        Type::Text => "VARCHAR",
        Type::Double => "DOUBLE",
        Type::BigInt => "BIGINT",
        Type::Date => "DATE",
    },
    func: |p, f, a| match f {
        Func::Fold => {
            p.push("strip_accents(");
            p.call("lower", a);
            p.push(")");
        }
        Func::StripAccents => call(p, "strip_accents", a),
        Func::StartsWith => call(p, "starts_with", a),
        Func::EndsWith => call(p, "suffix", a),
        Func::Contains => call(p, "contains", a),
        Func::Matches => {
            // regexp_matches(text, pattern[, 'i']): RE2, a search anywhere.
            let mut args = a[..2].to_vec();
            if a.get(2) == Some(&Expr::Bool(true)) {
                args.push(Expr::Str("i".into()));
            }
            p.call("regexp_matches", &args);
        }
        Func::DaysBetween => binary(p, "date_diff('day', ", &a[0], ", ", &a[1], ")"),
        Func::DatetimeText => wrap(p, "strftime(", &a[0], ", '%Y-%m-%dT%H:%M:%S')"),
        Func::Hex8 => wrap(p, "CAST('0x' || ", &a[0], " AS BIGINT)"),
        _ => common(p, f, a),
    },
    materialize: |name, query| format!("CREATE OR REPLACE TABLE {name} AS\n{query}"),
    suffix: "",
};

/// The combining marks (accents) PostgreSQL's folding removes: the blocks
/// of combining diacritics of the Latin, Greek and Cyrillic scripts.
const PG_MARKS: &str = "[\\u0300-\\u036f\\u1ab0-\\u1aff\\u1dc0-\\u1dff\\u20d0-\\u20ff\\ufe20-\\ufe2f]";

pub const POSTGRES: Dialect = Dialect {
    name: "postgres",
    quote: ('"', '"'),
    bare_names: false,
    string: standard_string,
    date: date_keyword,
    type_name: |t| match t {
        Type::Text => "TEXT",
        Type::Double => "DOUBLE PRECISION",
        Type::BigInt => "BIGINT",
        Type::Date => "DATE",
    },
    func: |p, f, a| match f {
        // Decomposed (NFD), then the combining marks removed: the fold of
        // section 8 exactly, where contrib's `unaccent` also rewrites
        // dashes, quotes and ligatures.
        Func::Fold => {
            p.push("regexp_replace(normalize(");
            p.call("lower", a);
            p.push(&format!(", NFD), '{PG_MARKS}', '', 'g')"));
        }
        Func::StripAccents => wrap(p, "regexp_replace(normalize(", &a[0], &format!(", NFD), '{PG_MARKS}', '', 'g')")),
        Func::StartsWith => call(p, "starts_with", a),
        Func::EndsWith => {
            // right(text, length(suffix)) = suffix
            binary(p, "(right(", &a[0], ", length(", &a[1], ")) = ");
            p.expr(&a[1]);
            p.push(")");
        }
        Func::Contains => binary(p, "(strpos(", &a[0], ", ", &a[1], ") > 0)"),
        Func::Matches => {
            // POSIX advanced expressions; ~* ignores case.
            let op = if a.get(2) == Some(&Expr::Bool(true)) { " ~* " } else { " ~ " };
            binary(p, "(", &a[0], op, &a[1], ")");
        }
        Func::DaysBetween => binary(p, "(", &a[1], " - ", &a[0], ")"),
        Func::DatetimeText => wrap(p, "to_char(", &a[0], ", 'YYYY-MM-DD\"T\"HH24:MI:SS')"),
        Func::Tidy => wrap(p, "CAST(round(CAST(", &a[0], " AS NUMERIC), 9) AS DOUBLE PRECISION)"),
        // bit(32) to bigint keeps the bits as an unsigned value.
        Func::Hex8 => wrap(p, "CAST(CAST('x' || ", &a[0], " AS BIT(32)) AS BIGINT)"),
        _ => common(p, f, a),
    },
    materialize: |name, query| format!("DROP TABLE IF EXISTS {name};\nCREATE TABLE {name} AS\n{query}"),
    suffix: "",
};

pub const SPARK: Dialect = Dialect {
    name: "spark",
    quote: ('`', '`'),
    bare_names: false,
    string: spark_string,
    date: date_keyword,
    type_name: |t| match t {
        Type::Text => "STRING",
        Type::Double => "DOUBLE",
        Type::BigInt => "BIGINT",
        Type::Date => "DATE",
    },
    func: |p, f, a| match f {
        Func::Fold => translate_fold(p, Expr::Fn(Func::Lower, a.to_vec())),
        Func::StripAccents => {
            // Upper-case letters keep their accents here; the match ignores
            // case, so fold both: the regex sees the folded text.
            translate_fold(p, Expr::Fn(Func::Lower, a.to_vec()))
        }
        Func::StartsWith => call(p, "startswith", a),
        Func::EndsWith => call(p, "endswith", a),
        Func::Contains => call(p, "contains", a),
        // Java's regex: (?iu) ignores case beyond ASCII.
        Func::Matches => binary(p, "(", &a[0], " RLIKE ", &pattern(a, "(?iu)"), ")"),
        Func::DaysBetween => binary(p, "datediff(", &a[1], ", ", &a[0], ")"),
        Func::DatetimeText => wrap(p, "date_format(", &a[0], ", 'yyyy-MM-dd\\'T\\'HH:mm:ss')"),
        Func::Hex8 => wrap(p, "CAST(conv(", &a[0], ", 16, 10) AS BIGINT)"),
        Func::Mod => call(p, "pmod", a),
        _ => common(p, f, a),
    },
    materialize: |name, query| format!("DROP TABLE IF EXISTS {name};\nCREATE TABLE {name} AS\n{query}"),
    suffix: "",
};

pub const CLICKHOUSE: Dialect = Dialect {
    name: "clickhouse",
    quote: ('"', '"'),
    bare_names: false,
    string: escaped_string,
    date: |d| format!("toDate('{}')", d.format("%Y-%m-%d")),
    type_name: |t| match t {
        Type::Text => "Nullable(String)",
        Type::Double => "Nullable(Float64)",
        Type::BigInt => "Nullable(Int64)",
        Type::Date => "Nullable(Date)",
    },
    func: |p, f, a| match f {
        Func::Fold => wrap(p, "replaceRegexpAll(normalizeUTF8NFD(lowerUTF8(", &a[0], ")), '\\\\p{M}', '')"),
        Func::StripAccents => wrap(p, "replaceRegexpAll(normalizeUTF8NFD(", &a[0], "), '\\\\p{M}', '')"),
        Func::StartsWith => call(p, "startsWith", a),
        Func::EndsWith => call(p, "endsWith", a),
        Func::Contains => binary(p, "(position(", &a[0], ", ", &a[1], ") > 0)"),
        Func::Matches => binary(p, "match(", &a[0], ", ", &pattern(a, "(?i)"), ")"),
        Func::DaysBetween => binary(p, "dateDiff('day', ", &a[0], ", ", &a[1], ")"),
        Func::ToDate => wrap(p, "toDate(", &a[0], ")"),
        Func::DatetimeText => wrap(p, "formatDateTime(", &a[0], ", '%Y-%m-%dT%H:%i:%S')"),
        Func::Hex8 => wrap(p, "toInt64(reinterpretAsUInt32(reverse(unhex(", &a[0], "))))"),
        Func::Lower => call(p, "lowerUTF8", a),
        Func::Md5Hex => wrap(p, "lower(hex(MD5(", &a[0], ")))"),
        Func::Mod => call(p, "modulo", a),
        _ => common(p, f, a),
    },
    materialize: |name, query| format!("CREATE OR REPLACE TABLE {name} ENGINE = MergeTree ORDER BY tuple() AS\n{query}"),
    // A LEFT JOIN's missing side is NULL, as in standard SQL, not 0 or ''.
    suffix: "\nSETTINGS join_use_nulls = 1, max_ast_elements = 10000000, max_expanded_ast_elements = 10000000",
};

pub const BIGQUERY: Dialect = Dialect {
    name: "bigquery",
    quote: ('`', '`'),
    bare_names: false,
    string: escaped_string,
    date: date_keyword,
    type_name: |t| match t {
        Type::Text => "STRING",
        Type::Double => "FLOAT64",
        Type::BigInt => "INT64",
        Type::Date => "DATE",
    },
    func: |p, f, a| match f {
        Func::Fold => wrap(p, "REGEXP_REPLACE(NORMALIZE(LOWER(", &a[0], "), NFD), r'\\pM', '')"),
        Func::StripAccents => wrap(p, "REGEXP_REPLACE(NORMALIZE(", &a[0], ", NFD), r'\\pM', '')"),
        Func::StartsWith => call(p, "STARTS_WITH", a),
        Func::EndsWith => call(p, "ENDS_WITH", a),
        Func::Contains => binary(p, "(STRPOS(", &a[0], ", ", &a[1], ") > 0)"),
        Func::Matches => binary(p, "REGEXP_CONTAINS(", &a[0], ", ", &pattern(a, "(?i)"), ")"),
        Func::DaysBetween => binary(p, "DATE_DIFF(", &a[1], ", ", &a[0], ", DAY)"),
        Func::DatetimeText => wrap(p, "FORMAT_TIMESTAMP('%Y-%m-%dT%H:%M:%S', ", &a[0], ")"),
        Func::Hex8 => wrap(p, "CAST(CONCAT('0x', ", &a[0], ") AS INT64)"),
        Func::Md5Hex => wrap(p, "TO_HEX(MD5(", &a[0], "))"),
        _ => common(p, f, a),
    },
    materialize: |name, query| format!("CREATE OR REPLACE TABLE {name} AS\n{query}"),
    suffix: "",
};

pub const SNOWFLAKE: Dialect = Dialect {
    name: "snowflake",
    quote: ('"', '"'),
    bare_names: true,
    string: escaped_string,
    date: date_keyword,
    type_name: |t| match t {
        Type::Text => "VARCHAR",
        Type::Double => "DOUBLE",
        Type::BigInt => "BIGINT",
        Type::Date => "DATE",
    },
    func: |p, f, a| match f {
        Func::Fold => translate_fold(p, Expr::Fn(Func::Lower, a.to_vec())),
        Func::StripAccents => translate_fold(p, Expr::Fn(Func::Lower, a.to_vec())),
        Func::StartsWith => call(p, "STARTSWITH", a),
        Func::EndsWith => call(p, "ENDSWITH", a),
        Func::Contains => call(p, "CONTAINS", a),
        Func::Matches => {
            // REGEXP_LIKE matches the whole text; REGEXP_INSTR searches.
            let flags = if a.get(2) == Some(&Expr::Bool(true)) { "'i'" } else { "'c'" };
            binary(p, "(REGEXP_INSTR(", &a[0], ", ", &a[1], &format!(", 1, 1, 0, {flags}) > 0)"));
        }
        Func::DaysBetween => binary(p, "DATEDIFF(day, ", &a[0], ", ", &a[1], ")"),
        Func::DatetimeText => wrap(p, "TO_CHAR(", &a[0], ", 'YYYY-MM-DD\"T\"HH24:MI:SS')"),
        Func::Hex8 => wrap(p, "TO_NUMBER(", &a[0], ", 'XXXXXXXX')"),
        _ => common(p, f, a),
    },
    materialize: |name, query| format!("CREATE OR REPLACE TABLE {name} AS\n{query}"),
    suffix: "",
};

pub const ALL: [&Dialect; 6] = [&DUCKDB, &POSTGRES, &SPARK, &CLICKHOUSE, &BIGQUERY, &SNOWFLAKE];

pub fn by_name(name: &str) -> Option<&'static Dialect> {
    ALL.into_iter().find(|d| d.name == name)
}
