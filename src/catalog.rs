//! Every key of `audience.yaml` and of a segment file, with the shape of its
//! value and a line of help. The parsers take their lists of known keys
//! from here, `audience schema` builds the JSON Schemas from here, and a
//! test compares `docs/project.md` with it, so the three cannot drift.

/// The shape of a key's value.
#[derive(Debug)]
pub enum Shape {
    /// Text (a YAML number is read as its text, as the parsers do).
    Text,
    Bool,
    /// A whole number, within bounds.
    Int {
        min: u64,
        max: Option<u64>,
    },
    Number,
    /// One of these words.
    Word(&'static [&'static str]),
    /// A percentage written `20%`.
    Percent,
    /// Any YAML value (a condition's `value`).
    Any,
    /// A mapping with these keys and no others.
    Object(&'static [Key]),
    /// A mapping from names the user chooses to values of one shape.
    Named(&'static Shape),
    List(&'static Shape),
    /// Any of these shapes.
    Either(&'static [Shape]),
    /// Kinds the schema builder fills in from the language's own tables.
    Condition,
    RowCondition,
    Op,
    Agg,
    Preset,
    RfmPreset,
}

#[derive(Debug)]
pub struct Key {
    pub name: &'static str,
    pub shape: Shape,
    pub required: bool,
    pub help: &'static str,
}

const fn key(name: &'static str, shape: Shape, help: &'static str) -> Key {
    Key { name, shape, required: false, help }
}

const fn required(name: &'static str, shape: Shape, help: &'static str) -> Key {
    Key { name, shape, required: true, help }
}

/// The names of a mapping's keys, as the parsers check them.
pub fn names(keys: &[Key]) -> Vec<&'static str> {
    keys.iter().map(|k| k.name).collect()
}

pub const COLUMN_TYPES: &[&str] = &["string", "text", "int", "float", "bool", "date", "datetime"];
const PURPOSES: &[&str] = &["marketing", "informational"];
const COLUMNS: Shape = Shape::Named(&Shape::Word(COLUMN_TYPES));

// ---- audience.yaml ----

pub const CONTACT_CONSENT: &[Key] = &[key("email", Shape::Text, "Column of the e-mail consent"), key("sms", Shape::Text, "Column of the SMS consent")];

pub const CONTACTS: &[Key] = &[
    required("path", Shape::Text, "The contacts export: .csv, .tsv, .txt or .parquet; a glob joins several files"),
    required("key", Shape::Text, "The column that identifies a contact"),
    key("email_key", Shape::Either(&[Shape::Bool, Shape::Word(&["auto"])]), "Whether the key is an e-mail address (auto: when half its values hold an @)"),
    key("consent", Shape::Either(&[Shape::Text, Shape::Object(CONTACT_CONSENT)]), "Column of marketing consent, or one column per channel"),
    key("columns", COLUMNS, "Column types that override inference"),
    key("phone", Shape::Text, "Column of phone numbers, for segments with channel: sms"),
    key("phone_region", Shape::Text, "Region of numbers written without +: a two-letter code (default FR)"),
    key("email", Shape::Text, "Column of e-mail addresses when the key is an id"),
];

pub const TABLE: &[Key] = &[
    required("path", Shape::Text, "The table's export: .csv, .tsv, .txt or .parquet; a glob joins several files"),
    required("key", Shape::Text, "The column that links a row to the contacts key"),
    key("date", Shape::Text, "The column of the row's date (recency, time windows, first/last)"),
    key("amount", Shape::Text, "The column of the row's money value"),
    key("id", Shape::Text, "Rows sharing this column's value are one order"),
    key("where", Shape::RowCondition, "Rows that count at all (refunds and invitations left out)"),
    key("consent", Shape::Text, "Consent column, when the contacts come from this table"),
    key("columns", COLUMNS, "Column types that override inference"),
];

pub const METRIC: &[Key] = &[
    required("table", Shape::Text, "The table whose rows are aggregated"),
    key("where", Shape::RowCondition, "The rows that count for this metric"),
    key("agg", Shape::Agg, "How the rows are aggregated (default count)"),
    key("field", Shape::Text, "The column aggregated (every agg but count needs one)"),
];

pub const SUPPRESS_ENTRY: &[Key] = &[
    required("file", Shape::Text, "A file whose key column lists contacts never exported"),
    key("purpose", Shape::Word(PURPOSES), "Only segments of this purpose are suppressed"),
];

pub const CSV: &[Key] = &[
    key("separator", Shape::Word(&["auto", ",", ";", "\t", "|"]), "Field separator of the exports (auto: guessed from the first lines)"),
    key("decimal_comma", Shape::Either(&[Shape::Bool, Shape::Word(&["auto"])]), "Whether numbers are written 12,50 (auto: per column)"),
    key(
        "encoding",
        Shape::Word(&["auto", "utf-8", "utf8", "windows-1252", "cp1252", "latin1", "iso-8859-1"]),
        "Text encoding of the exports (auto: UTF-8, else Windows-1252)",
    ),
];

pub const RFM_BINS: &[Key] = &[
    key("recency", Shape::Int { min: 2, max: Some(9) }, "Scores of recency"),
    key("frequency", Shape::Int { min: 2, max: Some(9) }, "Scores of frequency"),
    key("monetary", Shape::Int { min: 2, max: Some(9) }, "Scores of monetary value"),
];

pub const RFM_THRESHOLDS: &[Key] = &[
    key("recency", Shape::List(&Shape::Number), "Ascending cut points of days since the last order"),
    key("frequency", Shape::List(&Shape::Number), "Ascending cut points of the number of orders"),
    key("monetary", Shape::List(&Shape::Number), "Ascending cut points of the total spent"),
];

const SCORE_RANGE: Shape = Shape::List(&Shape::Int { min: 0, max: None });

pub const RFM_CLASS: &[Key] = &[
    required("name", Shape::Text, "The class name, as rfm_class holds it"),
    key("r", SCORE_RANGE, "Recency score range [lo, hi]"),
    key("f", SCORE_RANGE, "Frequency score range [lo, hi]"),
    key("m", SCORE_RANGE, "Monetary score range [lo, hi]"),
];

pub const RFM: &[Key] = &[
    key("table", Shape::Text, "The table of orders RFM is computed from (default orders)"),
    key("bins", Shape::Either(&[Shape::Int { min: 2, max: Some(9) }, Shape::Object(RFM_BINS)]), "Scores per dimension, 2 to 9 (default 5)"),
    key("thresholds", Shape::Object(RFM_THRESHOLDS), "Fixed cut points instead of quantiles"),
    key(
        "classes",
        Shape::Either(&[Shape::RfmPreset, Shape::List(&Shape::Object(RFM_CLASS))]),
        "A preset of classes, or classes by score ranges (first match wins)",
    ),
];

pub const DBSCAN: &[Key] = &[
    key("eps", Shape::Number, "Neighbourhood radius, in scaled units (default 0.5)"),
    key("min_samples", Shape::Int { min: 1, max: None }, "Points within eps, the point included, that make a core point (default 5)"),
];

pub const CLUSTERS: &[Key] = &[
    required("features", Shape::List(&Shape::Text), "Numeric fields the contacts are clustered on: columns, built-in metrics, metrics, RFM scores"),
    key("scale", Shape::Word(&["standard", "minmax", "none"]), "How features are scaled before distances (default standard: z-scores)"),
    key(
        "k",
        Shape::Either(&[Shape::Int { min: 2, max: None }, Shape::List(&Shape::Int { min: 2, max: None })]),
        "Number of clusters, or [lo, hi] to choose by silhouette (default 4)",
    ),
    key("method", Shape::Word(&["kmeans", "dbscan"]), "kmeans (default) or dbscan"),
    key("dbscan", Shape::Object(DBSCAN), "DBSCAN's radius and density"),
    key("seed", Shape::Int { min: 0, max: None }, "Seed of k-means++ and of the silhouette sample (default 0)"),
    key("n_init", Shape::Int { min: 1, max: Some(100) }, "k-means runs from different seeds; the lowest inertia wins (default 4)"),
    key("only", Shape::Condition, "Which contacts are clustered (default all)"),
    key("impute", Shape::Word(&["none", "median"]), "Missing feature values: none leaves the contact out (default), median fills them"),
    key("silhouette_sample", Shape::Int { min: 2, max: None }, "Contacts the silhouette is computed on, drawn with the seed (default 10000)"),
];

pub const WAREHOUSE: &[Key] = &[
    key("contacts", Shape::Text, "The warehouse relation of the contacts (default contacts)"),
    key("tables", Shape::Named(&Shape::Text), "Per table of audience.yaml, its warehouse relation (default the table's name)"),
    key("lists", Shape::Named(&Shape::Text), "Per list or suppress file, a relation holding its keys"),
];

pub const PROJECT: &[Key] = &[
    key("contacts", Shape::Object(CONTACTS), "The contacts export (without it, the contacts are the distinct keys of orders)"),
    key("tables", Shape::Named(&Shape::Object(TABLE)), "Related tables: one row per event about a contact"),
    key("metrics", Shape::Named(&Shape::Object(METRIC)), "Named per-contact aggregates, usable as fields"),
    key("segments", Shape::Text, "Folder of segment files, searched recursively (default segments)"),
    key("output", Shape::Text, "Folder the lists are written to (default out)"),
    key("suppress", Shape::List(&Shape::Either(&[Shape::Text, Shape::Object(SUPPRESS_ENTRY)])), "Files listing contacts never exported"),
    key("as_of", Shape::Text, "Reference date (YYYY-MM-DD) for relative dates and recency (default today)"),
    key("timezone", Shape::Text, "Time zone for today and for timestamps with an offset (default the machine's)"),
    key("rfm", Shape::Object(RFM), "RFM scores and classes"),
    key("clusters", Shape::Object(CLUSTERS), "Clusters of contacts over numeric features, usable as the field `cluster`"),
    key("csv", Shape::Object(CSV), "How CSV exports are read"),
    key("warehouse", Shape::Object(WAREHOUSE), "Relation names for `audience sql`"),
];

// ---- segment files ----

pub const FIELD_CONDITION: &[Key] = &[
    required("field", Shape::Text, "A contacts column, built-in metric, metric or RFM field"),
    required("op", Shape::Op, "The test"),
    key("value", Shape::Any, "What the field is tested against"),
    key("case_sensitive", Shape::Bool, "Compare text exactly (default: case and accents ignored)"),
];

pub const TABLE_CONDITION: &[Key] = &[
    required("table", Shape::Text, "The table whose rows are tested"),
    key("where", Shape::RowCondition, "The rows of the contact that count"),
    key("agg", Shape::Agg, "How those rows are aggregated (default count)"),
    key("field", Shape::Text, "The column aggregated"),
    key("op", Shape::Op, "The test of the aggregate (default gte)"),
    key("value", Shape::Any, "What the aggregate is tested against (default 1)"),
    key("case_sensitive", Shape::Bool, "Compare text exactly"),
];

/// The keys that make a mapping a condition of one form or another.
pub const CONDITION_FORMS: &[&str] = &["all", "any", "not", "table", "field", "segment"];

pub const KEY_FILE: &[Key] = &[required("file", Shape::Text, "A CSV file whose key column lists the contacts")];

const KEY_LIST: Shape = Shape::Either(&[Shape::List(&Shape::Text), Shape::Object(KEY_FILE)]);

pub const SCOPE: &[Key] =
    &[required("table", Shape::Text, "The table of events"), key("where", Shape::RowCondition, "The events that make a contact a candidate")];

pub const EXPORT_CSV: &[Key] = &[
    key("separator", Shape::Word(&[",", ";", "\t", "|"]), "Field separator of the list (default ,)"),
    key("bom", Shape::Bool, "Start the file with a UTF-8 byte-order mark, for spreadsheets"),
    key("formulas", Shape::Word(&["keep", "escape"]), "Prefix a ' to cells a spreadsheet would run as formulas"),
];

pub const PRESET_COLUMNS: &[Key] = &[
    key("first_name", Shape::Text, "Contacts column of first names"),
    key("last_name", Shape::Text, "Contacts column of last names"),
    key("name", Shape::Text, "Contacts column of full names"),
];

pub const GROUP: &[Key] = &[
    required("name", Shape::Text, "The group's name, also its file name"),
    required("share", Shape::Either(&[Shape::Number, Shape::Percent]), "Its percentage of the recipients (the shares add up to 100)"),
];

pub const EXPORT: &[Key] = &[
    key("columns", Shape::List(&Shape::Text), "Columns of the list, in order (default every contact column)"),
    key("rename", Shape::Named(&Shape::Text), "New header names, column: name"),
    key("format", Shape::Word(&["csv", "parquet", "jsonl"]), "File format of the list (default csv)"),
    key("csv", Shape::Object(EXPORT_CSV), "CSV style of the list"),
    key("preset", Shape::Preset, "Name and order the columns as this mailer's import expects"),
    key("preset_columns", Shape::Object(PRESET_COLUMNS), "Contacts columns behind the preset's names"),
    key("split_by", Shape::Text, "Write one file per value of this field under OUTPUT/ALIAS/"),
    key("groups", Shape::List(&Shape::Object(GROUP)), "Test groups, each written to OUTPUT/ALIAS/GROUP.csv"),
    key("groups_salt", Shape::Text, "Salt of the group hash (default the alias)"),
];

pub const EXPECT: &[Key] = &[
    key("min", Shape::Int { min: 0, max: None }, "Fewest recipients the list may have"),
    key("max", Shape::Int { min: 0, max: None }, "Most recipients the list may have"),
    key(
        "max_change",
        Shape::Either(&[Shape::Int { min: 0, max: None }, Shape::Percent]),
        "Most recipients added plus removed since the last export: a number or a share",
    ),
    key("includes", Shape::List(&Shape::Text), "Keys that must be recipients"),
    key("excludes", Shape::List(&Shape::Text), "Keys that must not be recipients"),
];

pub const SEGMENT: &[Key] = &[
    required("name", Shape::Text, "The segment's human name"),
    key("alias", Shape::Text, "Short name of 1 to 64 of a-z 0-9 _ - (default the file name)"),
    key("description", Shape::Text, "What the segment is for"),
    key("category", Shape::Text, "Free text for grouping segments"),
    key("purpose", Shape::Word(PURPOSES), "marketing (default) needs consent; informational does not"),
    key("channel", Shape::Word(&["email", "sms"]), "email (default) or sms"),
    key("scope", Shape::Object(SCOPE), "Make the segment event-level: only contacts with such rows, metrics over them"),
    key("where", Shape::Condition, "The condition tree"),
    key("include", KEY_LIST, "Keys that are always members"),
    key("exclude", KEY_LIST, "Keys that are never members"),
    key("export", Shape::Object(EXPORT), "How the list is written"),
    key("expect", Shape::Object(EXPECT), "Checks the list must pass before it replaces the last one"),
];

/// Every key path of `audience.yaml`, as `docs/project.md` writes them:
/// `contacts.path`, `tables.NAME.key`, `suppress[].file`, `rfm.bins.recency`.
pub fn project_paths() -> Vec<String> {
    let mut out = Vec::new();
    paths("", PROJECT, &mut out);
    out
}

fn paths(prefix: &str, keys: &[Key], out: &mut Vec<String>) {
    for k in keys {
        let p = if prefix.is_empty() { k.name.to_string() } else { format!("{prefix}.{}", k.name) };
        out.push(p.clone());
        nested(&p, &k.shape, out);
    }
}

fn nested(p: &str, shape: &Shape, out: &mut Vec<String>) {
    match shape {
        Shape::Object(keys) => paths(p, keys, out),
        Shape::Named(inner @ Shape::Object(_)) => nested(&format!("{p}.NAME"), inner, out),
        Shape::List(inner @ Shape::Object(_)) => nested(&format!("{p}[]"), inner, out),
        Shape::List(inner @ Shape::Either(_)) => nested(&format!("{p}[]"), inner, out),
        Shape::Either(shapes) => {
            for s in shapes.iter() {
                // A list's items are documented under `key[]`, an object's
                // keys under `key.sub`; plain values add nothing.
                match s {
                    Shape::Object(keys) => paths(p, keys, out),
                    Shape::List(inner @ Shape::Object(_)) => nested(&format!("{p}[]"), inner, out),
                    _ => {}
                }
            }
        }
        _ => {}
    }
}
