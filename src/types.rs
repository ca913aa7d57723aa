//! The ground floor: types every layer shares, and the names of the columns
//! the tool adds to its frames. Imports nothing from the crate.

use polars::prelude::DataType;

/// Name of the normalised key column in every frame.
pub const KEY: &str = "__key";
/// File order of a contact (first appearance) or of a table row.
pub const ROW: &str = "__row";

/// Names of the working columns of the feature query and the masks. They
/// start with `__`, which no export's header does in practice; a contacts
/// column named like one is reported as a name conflict.
pub mod columns {
    /// A contact's number (its ROW) on the table rows that belong to it.
    pub const CONTACT: &str = "__contact";
    /// A table row's (date, file order) as one integer, for `first`/`last`.
    pub const ORDER_KEY: &str = "__order";
    /// Whether a table row's key is a known contact.
    pub const KNOWN: &str = "__known";
    /// Whether a contact is a recipient of any segment being written.
    pub const ANY_RECIPIENT: &str = "__any";
    /// A contact's mobile number in E.164, when it has a valid one.
    pub const PHONE: &str = "__phone";
    /// A contact's address (`contacts.email`), normalised as keys are.
    pub const ADDRESS: &str = "__address";
    /// The `cluster` field (a contacts column may be named `cluster`).
    pub const CLUSTER: &str = "__cluster";

    /// Aggregate number `i` of the feature table.
    pub fn agg(i: usize) -> String {
        format!("__a{i}")
    }

    /// Derived feature number `i` (computed from aggregates).
    pub fn derived(i: usize) -> String {
        format!("__d{i}")
    }

    /// Row mask `k` of source `source` (one per table and scope).
    pub fn group_mask(source: usize, k: usize) -> String {
        format!("__g{source}_{k}")
    }

    /// Row mask of aggregate `agg` over source `source`.
    pub fn agg_mask(source: usize, agg: usize) -> String {
        format!("__m{source}_{agg}")
    }

    /// Per (contact, value) flag of distinct count `k`.
    pub fn distinct_flag(k: usize) -> String {
        format!("__f{k}")
    }

    /// Distinct count `k` of value column `value` over source `source`.
    pub fn distinct(source: usize, value: usize, k: usize) -> String {
        format!("__n{source}_{value}_{k}")
    }

    /// A text column folded (lower case, no accents) for comparisons.
    pub fn folded(column: &str) -> String {
        format!("__fold:{column}")
    }

    /// Leaf test number `i` of the mask program.
    pub fn leaf(i: usize) -> String {
        format!("__leaf:{i}")
    }
}

/// Column of a segment's members in an evaluated frame.
pub fn member_column(alias: &str) -> String {
    format!("__member:{alias}")
}

/// Column of a segment's recipients in an evaluated frame.
/// The test group of each contact, for a segment with `export.groups`.
pub fn group_column(alias: &str) -> String {
    format!("__group:{alias}")
}

pub fn recipient_column(alias: &str) -> String {
    format!("__recipient:{alias}")
}

/// The type of a field as conditions see it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FieldType {
    Text,
    Int,
    Float,
    Bool,
    Date,
    Datetime,
}

impl FieldType {
    pub fn name(self) -> &'static str {
        match self {
            FieldType::Text => "text",
            FieldType::Int => "int",
            FieldType::Float => "float",
            FieldType::Bool => "bool",
            FieldType::Date => "date",
            FieldType::Datetime => "datetime",
        }
    }

    pub fn of(dt: &DataType) -> FieldType {
        match dt {
            DataType::Boolean => FieldType::Bool,
            DataType::Float32 | DataType::Float64 => FieldType::Float,
            dt if dt.is_integer() => FieldType::Int,
            DataType::Date => FieldType::Date,
            DataType::Datetime(_, _) => FieldType::Datetime,
            _ => FieldType::Text,
        }
    }

    /// The names `columns:` uses in audience.yaml (`text` is read as `string` too).
    pub const DECLARED_NAMES: [&'static str; 6] = ["string", "int", "float", "bool", "date", "datetime"];

    /// The type a `columns:` entry of audience.yaml declares.
    pub fn from_declared(name: &str) -> Option<FieldType> {
        Some(match name {
            "string" | "text" => FieldType::Text,
            "int" => FieldType::Int,
            "float" => FieldType::Float,
            "bool" => FieldType::Bool,
            "date" => FieldType::Date,
            "datetime" => FieldType::Datetime,
            _ => return None,
        })
    }

    /// Its name under `columns:` in audience.yaml.
    pub fn declared_name(self) -> &'static str {
        match self {
            FieldType::Text => "string",
            other => other.name(),
        }
    }

    pub fn is_number(self) -> bool {
        matches!(self, FieldType::Int | FieldType::Float)
    }

    pub fn is_date(self) -> bool {
        matches!(self, FieldType::Date | FieldType::Datetime)
    }
}

/// How a CSV export's bytes are decoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Encoding {
    /// UTF-8 when the bytes are valid UTF-8, else Windows-1252.
    #[default]
    Auto,
    Utf8,
    Windows1252,
}
