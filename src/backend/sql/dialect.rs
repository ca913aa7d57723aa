//! What differs between the engines the SQL runs on, as one table per
//! dialect: quoting, literals, type names, and the functions spelt apart.

use chrono::NaiveDate;

use super::ast::{Expr, Func, Printer, Type};

pub struct Dialect {
    pub name: &'static str,
    /// Opening and closing quote of a name.
    pub quote: (char, char),
    pub string: fn(&str) -> String,
    pub date: fn(NaiveDate) -> String,
    pub type_name: fn(Type) -> &'static str,
    pub func: fn(&mut Printer, Func, &[Expr]),
    /// The statements that make table `name` hold the rows of `query`.
    pub materialize: fn(name: &str, query: &str) -> String,
    /// What the engine needs once before the SQL runs (docs and `--help`).
    pub needs: &'static str,
}

fn standard_string(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

fn date_keyword(d: NaiveDate) -> String {
    format!("DATE '{}'", d.format("%Y-%m-%d"))
}

pub const DUCKDB: Dialect = Dialect {
    name: "duckdb",
    quote: ('"', '"'),
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
        Func::StripAccents => p.call("strip_accents", a),
        Func::StartsWith => p.call("starts_with", a),
        Func::EndsWith => p.call("suffix", a),
        Func::Contains => p.call("contains", a),
        Func::Matches => {
            // regexp_matches(text, pattern[, 'i']): RE2, a search anywhere.
            let mut args = a[..2].to_vec();
            if a.get(2) == Some(&Expr::Bool(true)) {
                args.push(Expr::Str("i".into()));
            }
            p.call("regexp_matches", &args);
        }
        Func::DaysBetween => {
            p.push("date_diff('day', ");
            p.expr(&a[0]);
            p.push(", ");
            p.expr(&a[1]);
            p.push(")");
        }
        Func::ToDate => p.expr(&Expr::Cast(Box::new(a[0].clone()), Type::Date)),
        Func::DatetimeText => {
            p.push("strftime(");
            p.expr(&a[0]);
            p.push(", '%Y-%m-%dT%H:%M:%S')");
        }
        Func::Tidy => {
            p.push("round(");
            p.expr(&a[0]);
            p.push(", 9)");
        }
        Func::Hex8 => {
            p.push("CAST('0x' || ");
            p.expr(&a[0]);
            p.push(" AS BIGINT)");
        }
    },
    materialize: |name, query| format!("CREATE OR REPLACE TABLE {name} AS\n{query}"),
    needs: "nothing: strip_accents and regexp_matches are built in",
};

/// The combining marks (accents) PostgreSQL's folding removes: the blocks
/// of combining diacritics of the Latin, Greek and Cyrillic scripts.
const PG_MARKS: &str = "[\\u0300-\\u036f\\u1ab0-\\u1aff\\u1dc0-\\u1dff\\u20d0-\\u20ff\\ufe20-\\ufe2f]";

pub const POSTGRES: Dialect = Dialect {
    name: "postgres",
    quote: ('"', '"'),
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
        Func::StripAccents => {
            p.push("regexp_replace(normalize(");
            p.expr(&a[0]);
            p.push(&format!(", NFD), '{PG_MARKS}', '', 'g')"));
        }
        Func::StartsWith => p.call("starts_with", a),
        Func::EndsWith => {
            // right(text, length(suffix)) = suffix
            p.push("(right(");
            p.expr(&a[0]);
            p.push(", length(");
            p.expr(&a[1]);
            p.push(")) = ");
            p.expr(&a[1]);
            p.push(")");
        }
        Func::Contains => {
            p.push("(strpos(");
            p.expr(&a[0]);
            p.push(", ");
            p.expr(&a[1]);
            p.push(") > 0)");
        }
        Func::Matches => {
            // POSIX advanced expressions; ~* ignores case.
            p.push("(");
            p.expr(&a[0]);
            p.push(if a.get(2) == Some(&Expr::Bool(true)) { " ~* " } else { " ~ " });
            p.expr(&a[1]);
            p.push(")");
        }
        Func::DaysBetween => {
            p.push("(");
            p.expr(&a[1]);
            p.push(" - ");
            p.expr(&a[0]);
            p.push(")");
        }
        Func::ToDate => p.expr(&Expr::Cast(Box::new(a[0].clone()), Type::Date)),
        Func::DatetimeText => {
            p.push("to_char(");
            p.expr(&a[0]);
            p.push(", 'YYYY-MM-DD\"T\"HH24:MI:SS')");
        }
        Func::Tidy => {
            p.push("CAST(round(CAST(");
            p.expr(&a[0]);
            p.push(" AS NUMERIC), 9) AS DOUBLE PRECISION)");
        }
        Func::Hex8 => {
            // bit(32) to bigint keeps the bits as an unsigned value.
            p.push("CAST(CAST('x' || ");
            p.expr(&a[0]);
            p.push(" AS BIT(32)) AS BIGINT)");
        }
    },
    materialize: |name, query| format!("DROP TABLE IF EXISTS {name};\nCREATE TABLE {name} AS\n{query}"),
    needs: "PostgreSQL 13 or later (normalize) with a UTF8 database; no extension",
};

pub fn by_name(name: &str) -> Option<&'static Dialect> {
    [&DUCKDB, &POSTGRES].into_iter().find(|d| d.name == name)
}
