//! The typed plan of one evaluation: what every requested segment needs,
//! resolved against the project and the data's schema, and nothing about how
//! to compute it. Names are resolved, types checked, values read (dates made
//! absolute, text folded, numbers parsed), and the aggregates the segments
//! share deduplicated by comparing them as values. A backend lowers the plan
//! to its own engine; no polars type appears here.

pub mod leaf;
pub mod resolve;

use chrono::NaiveDate;

use crate::segment::ast::{Agg, Channel, Group, Purpose};
use crate::segment::literal::RankAmount;
use crate::types::FieldType;

pub use resolve::{dependency_order, resolve, suppress_lists, table_filter, Located, Request, Resolver, BUILTINS, RFM_FIELDS};

/// Index of an aggregate in [`Plan::aggs`].
pub type AggId = usize;
/// Index of a scope in [`Plan::scopes`].
pub type ScopeId = usize;

/// A number in a test, compared by its bits so that tests can be keys.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Num(u64);

impl Num {
    pub fn new(x: f64) -> Num {
        Num(x.to_bits())
    }

    pub fn get(self) -> f64 {
        f64::from_bits(self.0)
    }
}

/// A bound of an ordering test.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Bound {
    Num(Num),
    Date(NaiveDate),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CmpOp {
    Lt,
    Lte,
    Gt,
    Gte,
    Eq,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TextOp {
    Eq,
    Contains,
    StartsWith,
    EndsWith,
}

/// A positive test of one value. Each is false on a missing value; the
/// negative operators are `Pred::Not` of their positive.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Test {
    /// Holds for every value or none (`in: []`).
    Const(bool),
    IsEmpty,
    /// The value reads as one of these truths: a bool, an int 1/0, or a
    /// boolean word (`oui`, `no`…) whatever its case and accents.
    Truth(Vec<bool>),
    /// The number equals this one.
    NumEq(Num),
    DateEq(NaiveDate),
    /// A text test; with `fold`, both sides compared folded (the value is
    /// folded already). Non-text fields are seen as their text.
    Text {
        op: TextOp,
        value: String,
        fold: bool,
    },
    /// The text is one of `values` (folded already when `fold`).
    InText {
        values: Vec<String>,
        fold: bool,
    },
    /// The text starts with, ends with or contains one of `values`: an OR
    /// of such tests on one value, merged (`op` is never `Eq`).
    AnyAffix {
        op: TextOp,
        values: Vec<String>,
        fold: bool,
    },
    InDates(Vec<NaiveDate>),
    /// The pattern matches; case (and accents) ignored unless `case_sensitive`.
    Matches {
        pattern: String,
        case_sensitive: bool,
    },
    Compare {
        op: CmpOp,
        bound: Bound,
    },
    /// lo ≤ value ≤ hi; `in_last` is one over dates, ending at as_of.
    Between {
        lo: Bound,
        hi: Bound,
    },
    /// Among the top (or bottom) values over all contacts, ties all in.
    Rank {
        top: bool,
        amount: RankAmount,
    },
}

/// What a leaf reads.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Operand {
    /// A contacts column.
    Contact(String),
    /// A column of a table's rows, inside a `where` over that table; the key
    /// column is named [`crate::types::KEY`].
    Row(String),
    /// A per-contact aggregate.
    Agg(AggId),
    /// `avg_order_value`: a total over a count, missing without rows.
    Ratio { total: AggId, count: AggId },
    /// `days_since_last_order`: days from a last date to as_of.
    DaysSince(AggId),
    /// An RFM column (`rfm_score`…), computed from [`Plan::rfm`].
    Rfm(&'static str),
    /// The contact's cluster, fitted from [`Plan::clusters`].
    Cluster,
}

/// A value of a contact (or of a table row) with its type.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Value {
    pub operand: Operand,
    pub ty: FieldType,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Leaf {
    pub value: Value,
    pub test: Test,
}

/// A condition over contacts (or table rows). `All`/`Any` are n-ary.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Pred {
    Const(bool),
    All(Vec<Pred>),
    Any(Vec<Pred>),
    Not(Box<Pred>),
    Leaf(Leaf),
    /// The members of a segment resolved before this one.
    Member(String),
    /// The contact's key is one of these (normalised) keys.
    Keys(KeySet),
}

/// Keys a list gives (`include`, `exclude`, a suppress file), normalised,
/// and the file they were read from, if any: a backend may read that
/// file's relation instead of the keys (`warehouse.lists` for SQL).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Default)]
pub struct KeySet {
    pub keys: Vec<String>,
    pub file: Option<ListFile>,
}

/// A list file as read: its path and the column its keys came from (for
/// a file without a header, the contacts' key column).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ListFile {
    pub path: std::path::PathBuf,
    pub column: String,
}

impl Pred {
    /// AND of `parts`: nested ANDs merged, constants folded.
    pub fn all(parts: Vec<Pred>) -> Pred {
        Pred::junction(parts, true)
    }

    /// OR of `parts`, simplified likewise.
    pub fn any(parts: Vec<Pred>) -> Pred {
        Pred::junction(parts, false)
    }

    fn junction(parts: Vec<Pred>, and: bool) -> Pred {
        let mut flat = Vec::with_capacity(parts.len());
        for p in parts {
            match p {
                // true is neutral for AND, false for OR.
                Pred::Const(b) if b == and => {}
                Pred::Const(b) => return Pred::Const(b),
                Pred::All(inner) if and => flat.extend(inner),
                Pred::Any(inner) if !and => flat.extend(inner),
                other => flat.push(other),
            }
        }
        if !and {
            flat = merge_text_sets(flat);
        }
        match flat.len() {
            0 => Pred::Const(and),
            1 => flat.pop().unwrap_or(Pred::Const(and)),
            _ if and => Pred::All(flat),
            _ => Pred::Any(flat),
        }
    }

    #[allow(clippy::should_implement_trait)] // a constructor that simplifies, not an operator
    pub fn not(p: Pred) -> Pred {
        match p {
            Pred::Const(b) => Pred::Const(!b),
            Pred::Not(inner) => *inner,
            other => Pred::Not(Box::new(other)),
        }
    }

    /// Calls `f` on every leaf, in order.
    pub fn leaves<'a>(&'a self, f: &mut dyn FnMut(&'a Leaf)) {
        match self {
            Pred::All(ps) | Pred::Any(ps) => ps.iter().for_each(|p| p.leaves(f)),
            Pred::Not(p) => p.leaves(f),
            Pred::Leaf(l) => f(l),
            Pred::Const(_) | Pred::Member(_) | Pred::Keys(_) => {}
        }
    }
}

/// In an OR, the text equalities and `in` lists on one value (same field,
/// same folding) become one `in` list at the place of the first, and its
/// `starts_with` (`ends_with`, `contains`) tests one test of many affixes:
/// a list of a thousand postal codes, prefixes or words is one lookup per
/// contact, not a thousand tests. Every form is false on a missing value, so the OR keeps
/// its meaning.
fn merge_text_sets(parts: Vec<Pred>) -> Vec<Pred> {
    let mut out: Vec<Pred> = Vec::with_capacity(parts.len());
    // (value, folding, kind of test) → its place in `out`.
    let mut at: std::collections::HashMap<(Value, bool, TextOp), usize> = std::collections::HashMap::new();
    for p in parts {
        let (value, fold, op, values) = match p {
            Pred::Leaf(Leaf { value, test: Test::Text { op: TextOp::Eq, value: v, fold } }) => (value, fold, TextOp::Eq, vec![v]),
            Pred::Leaf(Leaf { value, test: Test::InText { values, fold } }) => (value, fold, TextOp::Eq, values),
            Pred::Leaf(Leaf { value, test: Test::Text { op: op @ (TextOp::StartsWith | TextOp::EndsWith | TextOp::Contains), value: v, fold } }) => {
                (value, fold, op, vec![v])
            }
            Pred::Leaf(Leaf { value, test: Test::AnyAffix { op, values, fold } }) => (value, fold, op, values),
            other => {
                out.push(other);
                continue;
            }
        };
        let key = (value.clone(), fold, op);
        if let Some(&i) = at.get(&key) {
            if let Pred::Leaf(Leaf { test: Test::InText { values: list, .. } | Test::AnyAffix { values: list, .. }, .. }) = &mut out[i] {
                list.extend(values);
            }
            continue;
        }
        at.insert(key, out.len());
        let test = if op == TextOp::Eq { Test::InText { values, fold } } else { Test::AnyAffix { op, values, fold } };
        out.push(Pred::Leaf(Leaf { value, test }));
    }
    // One affix alone stays the plain test.
    for p in &mut out {
        if let Pred::Leaf(l) = p {
            let single = match &mut l.test {
                Test::AnyAffix { op, values, fold } if values.len() == 1 => Some(Test::Text { op: *op, value: values.remove(0), fold: *fold }),
                _ => None,
            };
            if let Some(test) = single {
                l.test = test;
            }
        }
    }
    out
}

/// What one per-contact aggregate computes over a table's rows.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum AggKind {
    /// Rows that count (a scope's candidates have at least one).
    Rows,
    /// Distinct order ids, a row without an id being an order of its own.
    Orders,
    /// The sum of the amount column.
    Spent,
    FirstDate,
    LastDate,
    /// A metric or a table condition: `agg` of `field` over the rows that
    /// also pass `filter`.
    Of {
        agg: Agg,
        field: Option<String>,
        filter: Option<Pred>,
    },
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Aggregate {
    pub table: String,
    /// Within a segment's scope on the same table, or over every row that counts.
    pub scope: Option<ScopeId>,
    pub kind: AggKind,
}

impl Aggregate {
    /// Whether a contact without rows has 0 rather than no value.
    pub fn zero_when_none(&self) -> bool {
        match &self.kind {
            AggKind::Rows | AggKind::Orders | AggKind::Spent => true,
            AggKind::Of { agg, .. } => matches!(agg, Agg::Count | Agg::CountDistinct | Agg::Sum),
            AggKind::FirstDate | AggKind::LastDate => false,
        }
    }
}

/// An aggregate with the type of its value.
#[derive(Clone, Debug)]
pub struct AggDef {
    pub agg: Aggregate,
    pub ty: FieldType,
}

/// A segment's scope: a table's rows (those that count) passing `filter`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Scope {
    pub table: String,
    pub filter: Option<Pred>,
}

/// The inputs of RFM over its table, unscoped.
#[derive(Clone, Copy, Debug)]
pub struct RfmInputs {
    pub frequency: AggId,
    pub monetary: AggId,
    pub last_date: AggId,
}

/// What the clusters are fitted on: the project's features resolved as
/// values, and which contacts take part.
#[derive(Clone, Debug)]
pub struct ClusterInputs {
    /// Each feature's name and value, in the project's order.
    pub features: Vec<(String, Value)>,
    /// `clusters.only`; None: every contact.
    pub only: Option<Pred>,
}

/// One column of a list.
#[derive(Clone, Debug)]
pub struct Column {
    pub header: String,
    pub value: ColumnValue,
}

#[derive(Clone, Debug)]
pub enum ColumnValue {
    Field(Value),
    /// The contact's mobile number in E.164 (valid mobiles only).
    Phone,
    /// The contact's address, normalised as keys are.
    Address,
    /// The contact's test group.
    Group,
    /// One JSON object per row of these columns, as text (listmonk's `attributes`).
    Json(Vec<Column>),
    /// The texts of these columns joined by a space, missing ones left out.
    Joined(Vec<Column>),
}

/// What a requested segment writes.
#[derive(Clone, Debug)]
pub struct Export {
    pub columns: Vec<Column>,
    /// `export.split_by`: the field whose values name the files.
    pub split: Option<Value>,
}

/// One segment of the plan, in dependency order.
#[derive(Clone, Debug)]
pub struct SegmentPlan {
    pub alias: String,
    pub purpose: Purpose,
    pub channel: Channel,
    /// Its members: the condition within its scope, with `include` added
    /// and `exclude` taken away.
    pub members: Pred,
    /// Test groups, their shares in basis points, and the hash's salt.
    pub groups: Vec<Group>,
    pub groups_salt: String,
    /// Present when the caller wants the list's columns.
    pub export: Option<Export>,
}

/// Keys (or addresses) no list may reach, by the purposes they cover.
#[derive(Clone, Debug, Default)]
pub struct Suppress {
    pub all: Vec<KeySet>,
    pub marketing: Vec<KeySet>,
    pub informational: Vec<KeySet>,
}

/// Every key of the sets, in order.
pub fn all_keys<'a>(sets: impl IntoIterator<Item = &'a KeySet>) -> Vec<String> {
    sets.into_iter().flat_map(|s| s.keys.iter().cloned()).collect()
}

/// Everything one evaluation computes.
#[derive(Clone, Debug)]
pub struct Plan {
    pub as_of: NaiveDate,
    pub aggs: Vec<AggDef>,
    pub scopes: Vec<Scope>,
    /// The `where` of each table an aggregate reads, by table name.
    pub table_filters: Vec<(String, Option<Pred>)>,
    pub rfm: Option<RfmInputs>,
    /// Present when a segment (or the `clusters` command) needs `cluster`.
    pub clusters: Option<ClusterInputs>,
    pub segments: Vec<SegmentPlan>,
    /// The segments asked for, as indexes into `segments`, in the caller's order.
    pub requested: Vec<usize>,
    pub suppress: Suppress,
    /// Consent tests of each channel, if the project names the column.
    pub consent: Option<Leaf>,
    pub sms_consent: Option<Leaf>,
}

impl Plan {
    pub fn table_filter(&self, table: &str) -> Option<&Pred> {
        self.table_filters.iter().find(|(t, _)| t == table).and_then(|(_, f)| f.as_ref())
    }

    pub fn requested(&self) -> impl Iterator<Item = &SegmentPlan> {
        self.requested.iter().map(|i| &self.segments[*i])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(field: &str) -> Value {
        Value { operand: Operand::Contact(field.into()), ty: FieldType::Text }
    }

    fn eq(field: &str, v: &str) -> Pred {
        Pred::Leaf(Leaf { value: text(field), test: Test::Text { op: TextOp::Eq, value: v.into(), fold: true } })
    }

    #[test]
    fn an_or_of_text_equalities_on_one_field_is_one_set() {
        let p = Pred::any(vec![eq("city", "lyon"), eq("region", "bretagne"), eq("city", "paris"), Pred::Member("vip".into()), eq("city", "nice")]);
        let Pred::Any(parts) = p else { panic!("still an OR: {p:?}") };
        assert_eq!(parts.len(), 3);
        assert_eq!(
            parts[0],
            Pred::Leaf(Leaf { value: text("city"), test: Test::InText { values: vec!["lyon".into(), "paris".into(), "nice".into()], fold: true } })
        );
        assert_eq!(parts[2], Pred::Member("vip".into()));
        let prefix = |v: &str| Pred::Leaf(Leaf { value: text("zip"), test: Test::Text { op: TextOp::StartsWith, value: v.into(), fold: false } });
        let p = Pred::any(vec![prefix("69"), prefix("38"), eq("zip", "75001")]);
        let Pred::Any(parts) = p else { panic!("still an OR: {p:?}") };
        assert_eq!(
            parts[0],
            Pred::Leaf(Leaf { value: text("zip"), test: Test::AnyAffix { op: TextOp::StartsWith, values: vec!["69".into(), "38".into()], fold: false } })
        );
        let Pred::Any(parts) = Pred::any(vec![prefix("69"), Pred::Member("x".into())]) else { panic!("an OR") };
        assert_eq!(parts[0], prefix("69"), "one prefix alone stays a plain test");
        // An AND keeps its tests apart: a contact has one city.
        assert!(matches!(Pred::all(vec![eq("city", "lyon"), eq("city", "paris")]), Pred::All(v) if v.len() == 2));
    }
}
