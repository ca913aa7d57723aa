//! A small SQL syntax tree, printed for one dialect. The compiler builds
//! queries as values of these types; only the printer knows how a dialect
//! spells a quoted name, a date literal, a type or a function. Printing is
//! deterministic: the same plan gives the same bytes.

use std::fmt::Write;

use chrono::NaiveDate;

use super::dialect::Dialect;

#[derive(Clone, Debug, PartialEq)]
pub enum Expr {
    /// A column of the current relation, quoted.
    Col(String),
    Str(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    Null,
    Date(NaiveDate),
    /// `a OP b` for an operator every dialect spells alike (`=`, `<`, `+`…).
    Bin(Box<Expr>, &'static str, Box<Expr>),
    And(Vec<Expr>),
    Or(Vec<Expr>),
    Not(Box<Expr>),
    IsNull(Box<Expr>),
    In(Box<Expr>, Vec<Expr>),
    /// `e IN (SELECT …)`, the select giving one column.
    InSelect(Box<Expr>, Box<Select>),
    /// A function spelt the same in every dialect it is used in.
    Func(&'static str, Vec<Expr>),
    /// A function whose name the dialect gives.
    Fn(Func, Vec<Expr>),
    Case(Vec<(Expr, Expr)>, Option<Box<Expr>>),
    Cast(Box<Expr>, Type),
    /// `count(*)`.
    CountStar,
    /// `count(DISTINCT e)`.
    CountDistinct(Box<Expr>),
    /// A window function over the whole relation or partitions of it.
    Over {
        func: Box<Expr>,
        partition: Vec<Expr>,
        order: Vec<Order>,
    },
}

/// Functions whose spelling differs between dialects.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Func {
    /// Lower case with accents removed (the fold of section 8).
    Fold,
    /// Accents removed, case kept (the subject of a case-blind regex).
    StripAccents,
    StartsWith,
    EndsWith,
    Contains,
    /// `regex matches text`, the pattern as the second argument.
    Matches,
    /// Days from the first date to the second.
    DaysBetween,
    /// A date's calendar date (a timestamp's date).
    ToDate,
    /// A timestamp as `YYYY-MM-DDTHH:MM:SS`.
    DatetimeText,
    /// A number rounded to nine decimals.
    Tidy,
    /// Eight hexadecimal digits read as an unsigned integer.
    Hex8,
    /// Unicode lower case.
    Lower,
    /// MD5 of a text as 32 lower-case hex digits.
    Md5Hex,
    /// The remainder of a non-negative integer division.
    Mod,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Type {
    Text,
    Double,
    BigInt,
    Date,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Order {
    pub expr: Expr,
    pub desc: bool,
}

impl Order {
    pub fn asc(expr: Expr) -> Order {
        Order { expr, desc: false }
    }
    pub fn desc(expr: Expr) -> Order {
        Order { expr, desc: true }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum From {
    /// A relation of the warehouse: the project's name for it (`contacts`,
    /// a table's name) and its dotted name in the warehouse.
    Relation {
        logical: String,
        name: String,
    },
    /// The stage table of `--stage` (in dbt, the stage model).
    Stage(String),
    /// A name the query's `WITH` defines.
    Cte(String),
    /// `left LEFT JOIN right USING (column)`.
    LeftJoin(Box<From>, Box<From>, String),
    /// `left CROSS JOIN right` (a one-row right side).
    Cross(Box<From>, Box<From>),
    Sub(Box<Query>, String),
}

#[derive(Clone, Debug, PartialEq, Default)]
pub struct Select {
    /// `*` first (of the one relation), then these.
    pub star: bool,
    pub items: Vec<(Expr, String)>,
    pub from: Option<From>,
    pub filter: Option<Expr>,
    pub group_by: Vec<Expr>,
    pub order_by: Vec<Order>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Query {
    pub ctes: Vec<(String, Select)>,
    pub body: Vec<Select>,
}

impl Query {
    pub fn new(body: Select) -> Query {
        Query { ctes: Vec::new(), body: vec![body] }
    }
}

/// Words a bare name must not be (the reserved words of the dialects
/// that leave names bare, and of SQL).
const RESERVED: &[&str] = &[
    "all",
    "alter",
    "and",
    "any",
    "as",
    "between",
    "by",
    "case",
    "cast",
    "check",
    "column",
    "connect",
    "create",
    "cross",
    "current",
    "date",
    "delete",
    "distinct",
    "drop",
    "else",
    "end",
    "exists",
    "false",
    "following",
    "for",
    "from",
    "full",
    "grant",
    "group",
    "having",
    "ilike",
    "in",
    "increment",
    "inner",
    "insert",
    "intersect",
    "into",
    "is",
    "join",
    "lateral",
    "left",
    "like",
    "limit",
    "minus",
    "natural",
    "not",
    "null",
    "of",
    "on",
    "or",
    "order",
    "qualify",
    "regexp",
    "revoke",
    "right",
    "rlike",
    "row",
    "rows",
    "sample",
    "select",
    "set",
    "some",
    "start",
    "table",
    "tablesample",
    "then",
    "to",
    "trigger",
    "true",
    "try_cast",
    "union",
    "unique",
    "update",
    "using",
    "values",
    "when",
    "whenever",
    "where",
    "with",
    "window",
];

/// Prints SQL for one dialect.
pub struct Printer<'d> {
    pub d: &'d Dialect,
    /// Relations as dbt sources of this name (`{{ source('audience', 'orders') }}`).
    pub dbt_source: Option<&'static str>,
    out: String,
    indent: usize,
}

impl<'d> Printer<'d> {
    pub fn new(d: &'d Dialect) -> Self {
        Printer { d, dbt_source: None, out: String::new(), indent: 0 }
    }

    pub fn finish(self) -> String {
        self.out
    }

    pub fn ident(&self, name: &str) -> String {
        let plain = name.chars().next().is_some_and(|c| c.is_ascii_lowercase() || c == '_')
            && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
            && !RESERVED.contains(&name);
        if self.d.bare_names && plain {
            return name.to_string();
        }
        let (open, close) = self.d.quote;
        let escaped = name.replace(close, &format!("{close}{close}"));
        format!("{open}{escaped}{close}")
    }

    /// A dotted relation name, each part quoted.
    pub fn relation(&self, dotted: &str) -> String {
        dotted.split('.').map(|p| self.ident(p)).collect::<Vec<_>>().join(".")
    }

    fn newline(&mut self) {
        self.out.push('\n');
        for _ in 0..self.indent {
            self.out.push_str("  ");
        }
    }

    pub fn query(&mut self, q: &Query) {
        if !q.ctes.is_empty() {
            self.out.push_str("WITH ");
            for (i, (name, s)) in q.ctes.iter().enumerate() {
                if i > 0 {
                    self.out.push(',');
                    self.newline();
                }
                let _ = write!(self.out, "{} AS (", self.ident(name));
                self.indent += 1;
                self.newline();
                self.select(s);
                self.indent -= 1;
                self.newline();
                self.out.push(')');
            }
            self.newline();
        }
        for (i, s) in q.body.iter().enumerate() {
            if i > 0 {
                self.newline();
                self.out.push_str("UNION ALL");
                self.newline();
            }
            self.select(s);
        }
    }

    fn select(&mut self, s: &Select) {
        self.out.push_str("SELECT ");
        let mut first = true;
        if s.star {
            self.out.push('*');
            first = false;
        }
        for (e, alias) in &s.items {
            if !first {
                self.out.push_str(", ");
            }
            first = false;
            self.expr(e);
            let _ = write!(self.out, " AS {}", self.ident(alias));
        }
        if let Some(f) = &s.from {
            self.newline();
            self.out.push_str("FROM ");
            self.from(f);
        }
        if let Some(w) = &s.filter {
            self.newline();
            self.out.push_str("WHERE ");
            self.expr(w);
        }
        if !s.group_by.is_empty() {
            self.newline();
            self.out.push_str("GROUP BY ");
            for (i, e) in s.group_by.iter().enumerate() {
                if i > 0 {
                    self.out.push_str(", ");
                }
                self.expr(e);
            }
        }
        if !s.order_by.is_empty() {
            self.newline();
            self.out.push_str("ORDER BY ");
            self.orders(&s.order_by);
        }
    }

    fn orders(&mut self, orders: &[Order]) {
        for (i, o) in orders.iter().enumerate() {
            if i > 0 {
                self.out.push_str(", ");
            }
            self.expr(&o.expr);
            // Engines differ on where nulls sort by default: always said.
            self.out.push_str(if o.desc { " DESC NULLS LAST" } else { " ASC NULLS LAST" });
        }
    }

    fn from(&mut self, f: &From) {
        match f {
            From::Relation { logical, name } => {
                let r = match self.dbt_source {
                    Some(source) => format!("{{{{ source('{source}', '{logical}') }}}}"),
                    None => self.relation(name),
                };
                self.out.push_str(&r);
            }
            From::Stage(name) => {
                let r = match self.dbt_source {
                    Some(_) => format!("{{{{ ref('{name}') }}}}"),
                    None => self.relation(name),
                };
                self.out.push_str(&r);
            }
            From::Cte(n) => {
                let n = self.ident(n);
                self.out.push_str(&n);
            }
            From::LeftJoin(l, r, col) => {
                self.from(l);
                self.out.push_str(" LEFT JOIN ");
                self.from(r);
                let c = self.ident(col);
                let _ = write!(self.out, " USING ({c})");
            }
            From::Cross(l, r) => {
                self.from(l);
                self.out.push_str(" CROSS JOIN ");
                self.from(r);
            }
            From::Sub(q, alias) => {
                self.out.push('(');
                self.indent += 1;
                self.newline();
                self.query(q);
                self.indent -= 1;
                self.newline();
                let a = self.ident(alias);
                let _ = write!(self.out, ") AS {a}");
            }
        }
    }

    pub fn expr(&mut self, e: &Expr) {
        match e {
            Expr::Col(c) => {
                let c = self.ident(c);
                self.out.push_str(&c);
            }
            Expr::Str(s) => {
                let lit = (self.d.string)(s);
                self.out.push_str(&lit);
            }
            Expr::Int(i) => {
                let _ = write!(self.out, "{i}");
            }
            Expr::Float(x) => {
                let t = crate::text::number_text(*x);
                // A whole number stays a float literal, so that `/` divides.
                let t = if t.contains(['.', 'e', 'E']) { t } else { format!("{t}.0") };
                let _ = write!(self.out, "{t}");
            }
            Expr::Bool(b) => self.out.push_str(if *b { "TRUE" } else { "FALSE" }),
            Expr::Null => self.out.push_str("NULL"),
            Expr::Date(d) => {
                let lit = (self.d.date)(*d);
                self.out.push_str(&lit);
            }
            Expr::Bin(a, op, b) => {
                self.out.push('(');
                self.expr(a);
                let _ = write!(self.out, " {op} ");
                self.expr(b);
                self.out.push(')');
            }
            Expr::And(parts) | Expr::Or(parts) => {
                let (word, empty) = if matches!(e, Expr::And(_)) { ("AND", "TRUE") } else { ("OR", "FALSE") };
                if parts.is_empty() {
                    self.out.push_str(empty);
                    return;
                }
                self.out.push('(');
                for (i, p) in parts.iter().enumerate() {
                    if i > 0 {
                        let _ = write!(self.out, " {word} ");
                    }
                    self.expr(p);
                }
                self.out.push(')');
            }
            Expr::Not(x) => {
                self.out.push_str("(NOT ");
                self.expr(x);
                self.out.push(')');
            }
            Expr::IsNull(x) => {
                self.out.push('(');
                self.expr(x);
                self.out.push_str(" IS NULL)");
            }
            Expr::In(x, list) => {
                if list.is_empty() {
                    self.out.push_str("FALSE");
                    return;
                }
                self.out.push('(');
                self.expr(x);
                self.out.push_str(" IN (");
                for (i, v) in list.iter().enumerate() {
                    if i > 0 {
                        self.out.push_str(", ");
                    }
                    self.expr(v);
                }
                self.out.push_str("))");
            }
            Expr::InSelect(x, select) => {
                self.out.push('(');
                self.expr(x);
                self.out.push_str(" IN (");
                self.select(select);
                self.out.push_str("))");
            }
            Expr::Func(name, args) => self.call(name, args),
            Expr::Fn(f, args) => (self.d.func)(self, *f, args),
            Expr::Case(arms, otherwise) => {
                self.out.push_str("CASE");
                for (w, t) in arms {
                    self.out.push_str(" WHEN ");
                    self.expr(w);
                    self.out.push_str(" THEN ");
                    self.expr(t);
                }
                if let Some(o) = otherwise {
                    self.out.push_str(" ELSE ");
                    self.expr(o);
                }
                self.out.push_str(" END");
            }
            Expr::Cast(x, t) => {
                self.out.push_str("CAST(");
                self.expr(x);
                let _ = write!(self.out, " AS {})", (self.d.type_name)(*t));
            }
            Expr::CountStar => self.out.push_str("count(*)"),
            Expr::CountDistinct(x) => {
                self.out.push_str("count(DISTINCT ");
                self.expr(x);
                self.out.push(')');
            }
            Expr::Over { func, partition, order } => {
                self.expr(func);
                self.out.push_str(" OVER (");
                if !partition.is_empty() {
                    self.out.push_str("PARTITION BY ");
                    for (i, p) in partition.iter().enumerate() {
                        if i > 0 {
                            self.out.push_str(", ");
                        }
                        self.expr(p);
                    }
                    if !order.is_empty() {
                        self.out.push(' ');
                    }
                }
                if !order.is_empty() {
                    self.out.push_str("ORDER BY ");
                    self.orders(order);
                }
                self.out.push(')');
            }
        }
    }

    /// `name(arg, …)`.
    pub fn call(&mut self, name: &str, args: &[Expr]) {
        self.out.push_str(name);
        self.out.push('(');
        for (i, a) in args.iter().enumerate() {
            if i > 0 {
                self.out.push_str(", ");
            }
            self.expr(a);
        }
        self.out.push(')');
    }

    pub fn push(&mut self, s: &str) {
        self.out.push_str(s);
    }
}

/// Helpers that keep the compiler's code short.
pub fn col(name: &str) -> Expr {
    Expr::Col(name.to_string())
}

pub fn bin(a: Expr, op: &'static str, b: Expr) -> Expr {
    Expr::Bin(Box::new(a), op, Box::new(b))
}

pub fn not(e: Expr) -> Expr {
    Expr::Not(Box::new(e))
}

pub fn is_null(e: Expr) -> Expr {
    Expr::IsNull(Box::new(e))
}

pub fn cast(e: Expr, t: Type) -> Expr {
    Expr::Cast(Box::new(e), t)
}

pub fn func(f: Func, args: Vec<Expr>) -> Expr {
    Expr::Fn(f, args)
}

pub fn case(when: Expr, then: Expr, otherwise: Expr) -> Expr {
    Expr::Case(vec![(when, then)], Some(Box::new(otherwise)))
}

/// `e` where `keep` holds, else NULL: the argument of a masked aggregate.
pub fn masked(keep: Expr, e: Expr) -> Expr {
    if keep == Expr::Bool(true) {
        return e;
    }
    Expr::Case(vec![(keep, e)], None)
}

/// `coalesce(e, fallback)`: a missing test is false.
pub fn coalesce(e: Expr, fallback: Expr) -> Expr {
    Expr::Func("coalesce", vec![e, fallback])
}
