//! The segment language once parsed: typed, but not yet checked against data.
//! Each node keeps its YAML path so later checks can point at it.

use std::path::PathBuf;

use serde_yaml::Value;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Op {
    Eq,
    Neq,
    In,
    NotIn,
    Lt,
    Lte,
    Gt,
    Gte,
    Between,
    Contains,
    NotContains,
    StartsWith,
    EndsWith,
    Matches,
    IsEmpty,
    IsNotEmpty,
    IsTrue,
    IsFalse,
    Before,
    After,
    On,
    InLast,
    Top,
    Bottom,
}

pub const OPS: &[(&str, Op)] = &[
    ("eq", Op::Eq),
    ("neq", Op::Neq),
    ("in", Op::In),
    ("not_in", Op::NotIn),
    ("lt", Op::Lt),
    ("lte", Op::Lte),
    ("gt", Op::Gt),
    ("gte", Op::Gte),
    ("between", Op::Between),
    ("contains", Op::Contains),
    ("not_contains", Op::NotContains),
    ("starts_with", Op::StartsWith),
    ("ends_with", Op::EndsWith),
    ("matches", Op::Matches),
    ("is_empty", Op::IsEmpty),
    ("is_not_empty", Op::IsNotEmpty),
    ("is_true", Op::IsTrue),
    ("is_false", Op::IsFalse),
    ("before", Op::Before),
    ("after", Op::After),
    ("on", Op::On),
    ("in_last", Op::InLast),
    ("top", Op::Top),
    ("bottom", Op::Bottom),
];

impl Op {
    pub fn name(self) -> &'static str {
        OPS.iter().find(|(_, o)| *o == self).map(|(n, _)| *n).unwrap_or("?")
    }

    pub fn takes_value(self) -> bool {
        !matches!(self, Op::IsEmpty | Op::IsNotEmpty | Op::IsTrue | Op::IsFalse)
    }

    /// The positive operator this one negates, if it is a negation.
    pub fn negates(self) -> Option<Op> {
        match self {
            Op::Neq => Some(Op::Eq),
            Op::NotIn => Some(Op::In),
            Op::NotContains => Some(Op::Contains),
            Op::IsNotEmpty => Some(Op::IsEmpty),
            _ => None,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Agg {
    Count,
    CountDistinct,
    Sum,
    Avg,
    Min,
    Max,
    First,
    Last,
}

pub const AGGS: &[(&str, Agg)] = &[
    ("count", Agg::Count),
    ("count_distinct", Agg::CountDistinct),
    ("sum", Agg::Sum),
    ("avg", Agg::Avg),
    ("min", Agg::Min),
    ("max", Agg::Max),
    ("first", Agg::First),
    ("last", Agg::Last),
];

impl Agg {
    pub fn name(self) -> &'static str {
        AGGS.iter().find(|(_, a)| *a == self).map(|(n, _)| *n).unwrap_or("?")
    }
}

/// `{field, op, value}`: a test of one contact field (or, inside a table's
/// `where`, of one column of that table).
#[derive(Clone, Debug)]
pub struct Leaf {
    pub field: String,
    pub op: Op,
    pub value: Option<Value>,
    pub case_sensitive: bool,
    pub path: String,
}

impl Leaf {
    pub fn canonical(&self) -> String {
        format!("leaf[{:?}|{:?}|{:?}|{}]", self.field, self.op, self.value, self.case_sensitive)
    }
}

impl AggDef {
    pub fn canonical(&self) -> String {
        format!("{}|{}|{:?}|{:?}", self.table, self.filter.as_ref().map(|c| c.canonical()).unwrap_or_default(), self.agg, self.field)
    }
}

/// An aggregate over a contact's rows of one table: a table condition without
/// its test, or a named metric.
#[derive(Clone, Debug)]
pub struct AggDef {
    pub table: String,
    pub filter: Option<Box<Cond>>,
    pub agg: Agg,
    pub field: Option<String>,
    pub path: String,
}

/// The `String` beside a node is its YAML path, kept for diagnostics.
#[derive(Clone, Debug)]
#[allow(dead_code)] // not every node's path is reported yet
pub enum Cond {
    All(Vec<Cond>, String),
    Any(Vec<Cond>, String),
    Not(Box<Cond>, String),
    Field(Leaf),
    /// A table condition: the aggregate, then a leaf test on its value
    /// (the leaf's `field` is unused).
    Table(AggDef, Leaf),
    Segment(String, String),
}

impl Cond {
    /// The condition's meaning as text, without YAML positions: equal for
    /// two conditions that select the same rows, so their aggregates can be
    /// computed once.
    pub fn canonical(&self) -> String {
        let list = |cs: &[Cond]| cs.iter().map(Cond::canonical).collect::<Vec<_>>().join(",");
        match self {
            Cond::All(cs, _) => format!("all[{}]", list(cs)),
            Cond::Any(cs, _) => format!("any[{}]", list(cs)),
            Cond::Not(c, _) => format!("not[{}]", c.canonical()),
            Cond::Field(l) => l.canonical(),
            Cond::Table(a, l) => format!("table[{}|{}]", a.canonical(), l.canonical()),
            Cond::Segment(alias, _) => format!("segment[{alias}]"),
        }
    }

    /// Calls `f` on this node and every node below it.
    pub fn walk<'a>(&'a self, f: &mut dyn FnMut(&'a Cond)) {
        f(self);
        match self {
            Cond::All(cs, _) | Cond::Any(cs, _) => cs.iter().for_each(|c| c.walk(f)),
            Cond::Not(c, _) => c.walk(f),
            Cond::Table(a, _) => {
                if let Some(w) = &a.filter {
                    w.walk(f)
                }
            }
            _ => {}
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Purpose {
    Marketing,
    Informational,
}

#[derive(Clone, Debug)]
pub struct Scope {
    pub table: String,
    pub filter: Option<Cond>,
    pub path: String,
}

#[derive(Clone, Debug, Default)]
pub enum KeyList {
    #[default]
    None,
    Inline(Vec<String>),
    File(PathBuf),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Format {
    #[default]
    Csv,
    Parquet,
    Jsonl,
}

impl Format {
    pub fn extension(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Parquet => "parquet",
            Format::Jsonl => "jsonl",
        }
    }
}

#[derive(Clone, Debug, Default)]
pub struct Export {
    pub columns: Option<Vec<(String, String)>>, // (field, yaml path)
    pub rename: Vec<(String, String)>,
    pub format: Format,
    pub separator: u8,
    pub bom: bool,
    pub formulas: Formulas,
    /// One file per value of this field (field, yaml path).
    pub split_by: Option<(String, String)>,
    /// Test groups, their shares in basis points adding up to 10,000.
    pub groups: Vec<Group>,
    /// The salt of the group hash; the alias when None.
    pub groups_salt: Option<String>,
    pub preset: Option<Preset>,
    /// The contact columns behind a preset's names (`first_name: prenom`),
    /// with the YAML path of each.
    pub preset_columns: Vec<(String, String, String)>,
}

impl Export {
    /// Whether the list is written as several files under OUTPUT/ALIAS/.
    pub fn splits(&self) -> bool {
        self.split_by.is_some() || !self.groups.is_empty()
    }
}

/// One test group of `export.groups`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Group {
    pub name: String,
    /// Its share in basis points (45 % is 4,500).
    pub basis_points: u32,
}

/// A mailer whose import format `export.preset` follows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Preset {
    Mailchimp,
    Brevo,
    Listmonk,
}

pub const PRESETS: &[(&str, Preset)] = &[("mailchimp", Preset::Mailchimp), ("brevo", Preset::Brevo), ("listmonk", Preset::Listmonk)];

/// The contact columns a preset may draw on, named as `preset_columns` names them.
pub const PRESET_SOURCES: &[&str] = &["first_name", "last_name", "name"];

/// Whether CSV text cells that a spreadsheet would run as formulas get a
/// leading `'`. By default only the spreadsheet style (`bom: true`) does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Formulas {
    #[default]
    Auto,
    Keep,
    Escape,
}

/// `expect.max_change`: how many recipients may come and go between two
/// exports before a run refuses to replace the list.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum MaxChange {
    /// A share of the previous export's recipients, in percent.
    Share(f64),
    Count(u64),
}

impl MaxChange {
    /// The largest change allowed from a previous export of `previous` recipients.
    pub fn limit(self, previous: u64) -> f64 {
        match self {
            MaxChange::Share(p) => p / 100.0 * previous as f64,
            MaxChange::Count(n) => n as f64,
        }
    }

    pub fn text(self) -> String {
        match self {
            MaxChange::Share(p) => format!("{}%", crate::text::number_text(p)),
            MaxChange::Count(n) => n.to_string(),
        }
    }
}

#[derive(Clone, Debug, Default)]
pub struct Expect {
    pub min: Option<u64>,
    pub max: Option<u64>,
    pub max_change: Option<MaxChange>,
    pub includes: Vec<String>,
    pub excludes: Vec<String>,
}

impl Expect {
    pub fn is_empty(&self) -> bool {
        self.min.is_none() && self.max.is_none() && self.max_change.is_none() && self.includes.is_empty() && self.excludes.is_empty()
    }
}

/// How a segment's recipients are reached.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Channel {
    #[default]
    Email,
    Sms,
}

#[derive(Clone, Debug)]
pub struct Segment {
    pub alias: String,
    pub name: String,
    pub description: Option<String>,
    pub category: Option<String>,
    pub purpose: Purpose,
    pub channel: Channel,
    pub scope: Option<Scope>,
    pub filter: Option<Cond>,
    pub include: KeyList,
    pub exclude: KeyList,
    pub export: Export,
    pub expect: Expect,
    /// The file it came from; None for the built-in `all`.
    pub file: Option<PathBuf>,
    pub hash: String,
}

impl Segment {
    /// The built-in segment of every contact.
    pub fn all() -> Segment {
        Segment {
            alias: "all".into(),
            name: "All contacts".into(),
            description: None,
            category: None,
            purpose: Purpose::Marketing,
            channel: Channel::Email,
            scope: None,
            filter: Some(Cond::All(vec![], "where".into())),
            include: KeyList::None,
            exclude: KeyList::None,
            export: Export { separator: b',', ..Export::default() },
            expect: Expect::default(),
            file: None,
            hash: String::new(),
        }
    }

    /// Aliases of the segments this one refers to.
    pub fn references(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        let mut visit = |c: &Cond| {
            if let Cond::Segment(a, p) = c {
                out.push((a.clone(), p.clone()));
            }
        };
        if let Some(w) = &self.filter {
            w.walk(&mut visit);
        }
        out
    }
}
