//! The project file `audience.yaml`: found, parsed into typed settings, every
//! path resolved against the file's folder.

use std::path::{Path, PathBuf};

use anyhow::{bail, Result};
use chrono::NaiveDate;
use serde_yaml::{Mapping, Value};

use crate::catalog;
use crate::dates::{self, Zone};
use crate::diag::did_you_mean;
use crate::rfm::{self, ClassDef};
use crate::segment::ast::{AggDef, Cond};
use crate::segment::parse::{parse_agg, parse_condition, Level};
use crate::types::Encoding;
use crate::types::FieldType;
use crate::yamldoc::{index, join, kind, scalar_text, Doc};

pub const FILE_NAME: &str = "audience.yaml";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EmailKey {
    Auto,
    Yes,
    No,
}

/// Where one export comes from and how its columns are typed.
#[derive(Clone, Debug)]
pub struct Source {
    /// Absolute path or glob pattern.
    pub path: String,
    pub key: String,
    pub columns: Vec<(String, FieldType)>,
}

#[derive(Clone, Debug)]
pub struct ContactsCfg {
    pub source: Source,
    pub email_key: EmailKey,
    /// Consent to e-mail (a single `consent:` column serves both channels).
    pub consent: Option<String>,
    pub sms_consent: Option<String>,
    /// The column of phone numbers, for segments with `channel: sms`.
    pub phone: Option<String>,
    /// Region of numbers written without an international prefix.
    pub phone_region: String,
    /// The address column when the key is not an e-mail address.
    pub email: Option<String>,
}

#[derive(Clone, Debug)]
pub struct TableCfg {
    pub name: String,
    pub source: Source,
    pub date: Option<String>,
    pub amount: Option<String>,
    pub id: Option<String>,
    pub filter: Option<Cond>,
    pub consent: Option<String>,
}

#[derive(Clone, Debug)]
pub struct MetricDef {
    pub name: String,
    pub def: AggDef,
}

#[derive(Clone, Debug)]
pub struct SuppressCfg {
    pub path: PathBuf,
    /// Its YAML path in audience.yaml (`suppress[1]`), for diagnostics.
    pub at: String,
    /// None: every segment.
    pub purpose: Option<crate::segment::ast::Purpose>,
}

#[derive(Clone, Debug)]
pub struct CsvCfg {
    pub separator: Option<u8>,
    pub decimal_comma: Option<bool>,
    pub encoding: Encoding,
}

#[derive(Clone, Debug)]
pub struct RfmCfg {
    pub table: String,
    pub bins: [u32; 3],
    pub thresholds: Option<[Vec<f64>; 3]>,
    /// The preset name or "custom".
    pub classes_name: String,
    pub classes: Result<Vec<ClassDef>, String>,
}

/// `clusters:`: the features, how they are scaled, and the model.
#[derive(Clone, Debug)]
pub struct ClustersCfg {
    /// Each feature with its YAML path, for diagnostics.
    pub features: Vec<(String, String)>,
    pub model: crate::cluster::Settings,
    pub only: Option<Cond>,
    /// Fill missing feature values with the feature's median instead of
    /// leaving the contact out.
    pub impute_median: bool,
}

/// `warehouse:`: the relations `audience sql` reads.
#[derive(Clone, Debug, Default)]
pub struct WarehouseCfg {
    pub contacts: Option<String>,
    /// (table name, relation).
    pub tables: Vec<(String, String)>,
    /// (list file, its path resolved against the folder of audience.yaml; relation).
    pub lists: Vec<(String, String)>,
}

#[derive(Debug)]
pub struct Project {
    pub file: PathBuf,
    pub contacts: Option<ContactsCfg>,
    pub tables: Vec<TableCfg>,
    pub metrics: Vec<MetricDef>,
    pub segments_dir: PathBuf,
    pub output: PathBuf,
    pub suppress: Vec<SuppressCfg>,
    pub as_of: NaiveDate,
    pub zone: Zone,
    pub rfm: RfmCfg,
    pub clusters: Option<ClustersCfg>,
    pub warehouse: Option<WarehouseCfg>,
    pub csv: CsvCfg,
}

/// `--project` may name the file or its folder; by default the current folder.
pub fn locate(arg: Option<&Path>) -> Result<PathBuf> {
    let p = arg.map(Path::to_path_buf).unwrap_or_else(|| PathBuf::from("."));
    let file = if p.is_dir() { p.join(FILE_NAME) } else { p };
    if !file.exists() {
        if arg.is_none() {
            bail!("no {FILE_NAME} in the current folder; run from the project's folder or pass --project PATH");
        }
        bail!("{}: no such project file (pass the file or a folder holding {FILE_NAME})", file.display());
    }
    Ok(file)
}

/// Reads and validates the project file. Problems are returned as rendered
/// diagnostics, all at once.
pub fn load(arg: Option<&Path>, as_of_arg: Option<&str>) -> Result<Project, ProjectError> {
    let file = locate(arg).map_err(ProjectError::Other)?;
    // A bad `--as-of` is a usage error (exit 2), not a fault of the file.
    if let Some(s) = as_of_arg {
        if let Err(e) = dates::resolve_date(s, chrono::Local::now().date_naive()) {
            return Err(ProjectError::Other(crate::diag::UsageError(format!("--as-of: {e}")).into()));
        }
    }
    let text = crate::yamldoc::read_text(&file).map_err(|(p, e)| {
        let at = if p == crate::yamlpos::Pos::START { String::new() } else { format!(":{}:{}", p.line, p.col) };
        ProjectError::Other(anyhow::anyhow!("{}{at}: {e}", file.display()))
    })?;
    let mut doc = Doc::parse(&file, text);
    let project = parse(&mut doc, &file, as_of_arg);
    match project {
        Some(p) if doc.ok() => Ok(p),
        _ => Err(ProjectError::Invalid(Box::new(doc))),
    }
}

/// Validates project-file text as if it were `file` (for `init`, before it
/// writes one).
pub fn from_text(file: &Path, text: String) -> Result<Project, Box<Doc>> {
    let mut doc = Doc::parse(file, text);
    match parse(&mut doc, file, None) {
        Some(p) if doc.ok() => Ok(p),
        _ => Err(Box::new(doc)),
    }
}

pub enum ProjectError {
    Invalid(Box<Doc>),
    Other(anyhow::Error),
}

fn resolve(root: &Path, p: &str) -> String {
    let path = Path::new(p);
    if path.is_absolute() {
        p.to_string()
    } else {
        root.join(path).to_string_lossy().to_string()
    }
}

fn parse(doc: &mut Doc, file: &Path, as_of_arg: Option<&str>) -> Option<Project> {
    if !doc.ok() {
        return None;
    }
    let root_dir = file.parent().map(Path::to_path_buf).unwrap_or_else(|| PathBuf::from("."));
    let root_dir = if root_dir.as_os_str().is_empty() { PathBuf::from(".") } else { root_dir };
    let root = doc.root.clone();
    if root.is_null() {
        doc.error("", "the project file is empty; it needs at least `tables` or `contacts`");
        return None;
    }
    let hint = |k: &str| format!("`{k}` is a key of a segment file: each segment is one file in the segments folder (see docs/segments.md)");
    let m = doc.root_mapping(&root, "the project file", &catalog::names(catalog::PROJECT), &catalog::names(catalog::SEGMENT), &hint)?.clone();

    let csv = parse_csv(doc, m.get("csv"));
    let zone = match doc.string(&m, "", "timezone", false) {
        Some(tz) => match Zone::parse(&tz) {
            Ok(z) => z,
            Err(e) => {
                doc.error("timezone", e.to_string());
                Zone::Local
            }
        },
        None => Zone::Local,
    };
    let as_of = match as_of_arg {
        Some(s) => match dates::resolve_date(s, zone.today()) {
            Ok(d) => d,
            Err(e) => {
                doc.error("", format!("--as-of: {e}"));
                zone.today()
            }
        },
        None => match doc.string(&m, "", "as_of", false) {
            Some(s) => match dates::resolve_date(&s, zone.today()) {
                Ok(d) => d,
                Err(e) => {
                    doc.error("as_of", e.to_string());
                    zone.today()
                }
            },
            None => zone.today(),
        },
    };

    let contacts = match m.get("contacts").filter(|v| !v.is_null()) {
        None => None,
        Some(v) => parse_contacts(doc, v, &root_dir),
    };
    let mut tables = Vec::new();
    if let Some(tv) = m.get("tables").filter(|v| !v.is_null()) {
        match tv.as_mapping() {
            Some(tm) => {
                for (k, v) in tm {
                    let name = scalar_text(k).unwrap_or_default();
                    if let Some(t) = parse_table(doc, &name, v, &root_dir) {
                        tables.push(t);
                    }
                }
            }
            None => doc.error("tables", format!("`tables` maps table names to their settings, found {}", kind(tv))),
        }
    }
    if contacts.is_none() && !tables.iter().any(|t| t.name == "orders") && doc.ok() {
        doc.error_hint(
            "",
            "the project has no `contacts` and no table named `orders` to take contacts from",
            Some("add a `contacts:` section with `path` and `key`".into()),
        );
    }

    let mut metrics = Vec::new();
    if let Some(mv) = m.get("metrics").filter(|v| !v.is_null()) {
        match mv.as_mapping() {
            Some(mm) => {
                for (k, v) in mm {
                    let name = scalar_text(k).unwrap_or_default();
                    let path = join("metrics", &name);
                    let Some(vm) = doc.mapping(v, &path, &format!("metric `{name}`"), &catalog::names(catalog::METRIC)).cloned() else { continue };
                    let table = doc.string(&vm, &path, "table", true);
                    let filter = match vm.get("where").filter(|w| !w.is_null()) {
                        Some(w) => parse_condition(doc, w, &join(&path, "where"), Level::Row).map(Box::new),
                        None => None,
                    };
                    let agg = parse_agg(doc, &vm, &path);
                    let field = doc.string(&vm, &path, "field", false);
                    if let Some(t) = table.as_deref().filter(|t| !tables.iter().any(|c: &TableCfg| c.name == *t)) {
                        let names: Vec<&str> = tables.iter().map(|c| c.name.as_str()).collect();
                        let hint = did_you_mean(t, names.iter().copied()).unwrap_or_else(|| {
                            if names.is_empty() {
                                "declare the table under `tables:`".into()
                            } else {
                                format!("tables: {}", names.join(", "))
                            }
                        });
                        doc.error_hint(&join(&path, "table"), format!("no table `{t}` in audience.yaml"), Some(hint));
                        continue;
                    }
                    if let (Some(table), Some(agg)) = (table, agg) {
                        if agg != crate::segment::ast::Agg::Count && field.is_none() {
                            doc.error(&path, format!("agg `{}` needs `field`, the column to aggregate", agg.name()));
                            continue;
                        }
                        metrics.push(MetricDef { name, def: AggDef { table, filter, agg, field, path } });
                    }
                }
            }
            None => doc.error("metrics", format!("`metrics` maps names to aggregates, found {}", kind(mv))),
        }
    }

    let segments_dir = PathBuf::from(resolve(&root_dir, &doc.string(&m, "", "segments", false).unwrap_or_else(|| "segments".into())));
    let output = PathBuf::from(resolve(&root_dir, &doc.string(&m, "", "output", false).unwrap_or_else(|| "out".into())));
    let suppress = parse_suppress(doc, m.get("suppress"), &root_dir);
    let rfm = parse_rfm(doc, m.get("rfm"));
    let clusters = parse_clusters(doc, m.get("clusters"));
    let warehouse = parse_warehouse(doc, m.get("warehouse"), &tables, &root_dir);

    Some(Project { file: file.to_path_buf(), contacts, tables, metrics, segments_dir, output, suppress, as_of, zone, rfm, clusters, warehouse, csv })
}

fn parse_email_key(doc: &mut Doc, m: &Mapping, path: &str) -> EmailKey {
    match m.get("email_key") {
        None | Some(Value::Null) => EmailKey::Auto,
        Some(Value::Bool(true)) => EmailKey::Yes,
        Some(Value::Bool(false)) => EmailKey::No,
        Some(Value::String(s)) if s == "auto" => EmailKey::Auto,
        Some(v) => {
            doc.error(&join(path, "email_key"), format!("`email_key` is auto, true or false, found {}", kind(v)));
            EmailKey::Auto
        }
    }
}

fn parse_columns(doc: &mut Doc, m: &Mapping, path: &str) -> Vec<(String, FieldType)> {
    let mut out = Vec::new();
    let p = join(path, "columns");
    let Some(v) = m.get("columns").filter(|v| !v.is_null()) else { return out };
    let Some(cm) = v.as_mapping() else {
        doc.error(&p, format!("`columns` maps column names to types, found {}", kind(v)));
        return out;
    };
    for (k, t) in cm {
        let name = scalar_text(k).unwrap_or_default();
        let tname = scalar_text(t).unwrap_or_default();
        // "text" is accepted as another word for string.
        let Some(ty) = FieldType::from_declared(&tname) else {
            let hint = did_you_mean(&tname, FieldType::DECLARED_NAMES.iter().copied()).or(Some(format!("types: {}", FieldType::DECLARED_NAMES.join(", "))));
            doc.error_hint(&join(&p, &name), format!("unknown type `{tname}` for column `{name}`"), hint);
            continue;
        };
        out.push((name, ty));
    }
    out
}

fn parse_source(doc: &mut Doc, m: &Mapping, path: &str, root: &Path) -> Option<Source> {
    let file = doc.string(m, path, "path", true);
    let key = doc.string(m, path, "key", true);
    let columns = parse_columns(doc, m, path);
    Some(Source { path: resolve(root, &file?), key: key?, columns })
}

fn parse_contacts(doc: &mut Doc, v: &Value, root: &Path) -> Option<ContactsCfg> {
    let m = doc.mapping(v, "contacts", "`contacts`", &catalog::names(catalog::CONTACTS))?.clone();
    let email_key = parse_email_key(doc, &m, "contacts");
    let (consent, sms_consent) = match m.get("consent") {
        Some(Value::Mapping(cm)) => {
            let cm = cm.clone();
            let mut extra: Vec<String> = cm.keys().filter_map(scalar_text).filter(|k| k != "email" && k != "sms").collect();
            if let Some(k) = extra.pop() {
                let hint = did_you_mean(&k, ["email", "sms"]).or(Some("channels: email, sms".into()));
                doc.error_hint(&join("contacts.consent", &k), format!("unknown channel `{k}`"), hint);
            }
            (doc.string(&cm, "contacts.consent", "email", false), doc.string(&cm, "contacts.consent", "sms", false))
        }
        _ => {
            let c = doc.string(&m, "contacts", "consent", false);
            (c.clone(), c)
        }
    };
    let phone = doc.string(&m, "contacts", "phone", false);
    let phone_region = doc.string(&m, "contacts", "phone_region", false).unwrap_or_else(|| "FR".into());
    if crate::phone::region(&phone_region).is_none() {
        doc.error_hint("contacts.phone_region", format!("unknown region `{phone_region}`"), Some("a two-letter region code such as FR, BE, CH, US".into()));
    } else if phone.is_none() && m.contains_key("phone_region") {
        doc.error("contacts.phone_region", "`phone_region` needs `phone`, the column of phone numbers it reads");
    }
    let email = doc.string(&m, "contacts", "email", false);
    let source = parse_source(doc, &m, "contacts", root)?;
    Some(ContactsCfg { source, email_key, consent, sms_consent, phone, phone_region: phone_region.to_ascii_uppercase(), email })
}

fn parse_table(doc: &mut Doc, name: &str, v: &Value, root: &Path) -> Option<TableCfg> {
    let path = join("tables", name);
    let m = doc.mapping(v, &path, &format!("table `{name}`"), &catalog::names(catalog::TABLE))?.clone();
    let date = doc.string(&m, &path, "date", false);
    let amount = doc.string(&m, &path, "amount", false);
    let id = doc.string(&m, &path, "id", false);
    let consent = doc.string(&m, &path, "consent", false);
    let filter = match m.get("where").filter(|w| !w.is_null()) {
        Some(w) => Some(parse_condition(doc, w, &join(&path, "where"), Level::Row)?),
        None => None,
    };
    let source = parse_source(doc, &m, &path, root)?;
    Some(TableCfg { name: name.to_string(), source, date, amount, id, filter, consent })
}

fn parse_suppress(doc: &mut Doc, v: Option<&Value>, root: &Path) -> Vec<SuppressCfg> {
    use crate::segment::ast::Purpose;
    let mut out = Vec::new();
    let Some(v) = v.filter(|v| !v.is_null()) else { return out };
    let Some(items) = v.as_sequence() else {
        doc.error("suppress", format!("`suppress` is a list of files, found {}", kind(v)));
        return out;
    };
    for (i, it) in items.iter().enumerate() {
        let p = index("suppress", i);
        match it {
            Value::String(s) => out.push(SuppressCfg { path: PathBuf::from(resolve(root, s)), at: p.clone(), purpose: None }),
            Value::Mapping(_) => {
                let Some(m) = doc.mapping(it, &p, "a suppress entry", &catalog::names(catalog::SUPPRESS_ENTRY)).cloned() else { continue };
                let file = doc.string(&m, &p, "file", true);
                let purpose = match doc.string(&m, &p, "purpose", false).as_deref() {
                    None => None,
                    Some("marketing") => Some(Purpose::Marketing),
                    Some("informational") => Some(Purpose::Informational),
                    Some(other) => {
                        doc.error(&join(&p, "purpose"), format!("unknown purpose `{other}` (marketing or informational)"));
                        None
                    }
                };
                if let Some(f) = file {
                    out.push(SuppressCfg { path: PathBuf::from(resolve(root, &f)), at: join(&p, "file"), purpose });
                }
            }
            _ => doc.error(&p, format!("a suppress entry is a path or {{file, purpose}}, found {}", kind(it))),
        }
    }
    out
}

fn parse_csv(doc: &mut Doc, v: Option<&Value>) -> CsvCfg {
    let mut cfg = CsvCfg { separator: None, decimal_comma: None, encoding: Encoding::Auto };
    let Some(v) = v.filter(|v| !v.is_null()) else { return cfg };
    let Some(m) = doc.mapping(v, "csv", "`csv`", &catalog::names(catalog::CSV)).cloned() else { return cfg };
    match doc.string(&m, "csv", "separator", false).as_deref() {
        None | Some("auto") => {}
        Some(s @ ("," | ";" | "\t" | "|")) => cfg.separator = Some(s.as_bytes()[0]),
        Some(other) => doc.error("csv.separator", format!("separator `{other}` is not one of auto \",\" \";\" \"\\t\" \"|\"")),
    }
    cfg.decimal_comma = match m.get("decimal_comma") {
        None | Some(Value::Null) => None,
        Some(Value::Bool(b)) => Some(*b),
        Some(Value::String(s)) if s == "auto" => None,
        Some(v) => {
            doc.error("csv.decimal_comma", format!("`decimal_comma` is auto, true or false, found {}", kind(v)));
            None
        }
    };
    cfg.encoding = match doc.string(&m, "csv", "encoding", false).as_deref().map(str::to_ascii_lowercase).as_deref() {
        None | Some("auto") => Encoding::Auto,
        Some("utf-8" | "utf8") => Encoding::Utf8,
        Some("windows-1252" | "cp1252" | "latin1" | "iso-8859-1") => Encoding::Windows1252,
        Some(other) => {
            doc.error("csv.encoding", format!("unknown encoding `{other}` (auto, utf-8 or windows-1252)"));
            Encoding::Auto
        }
    };
    cfg
}

fn parse_warehouse(doc: &mut Doc, v: Option<&Value>, tables: &[TableCfg], root: &Path) -> Option<WarehouseCfg> {
    let v = v.filter(|v| !v.is_null())?;
    let m = doc.mapping(v, "warehouse", "`warehouse`", &catalog::names(catalog::WAREHOUSE))?.clone();
    let mut cfg = WarehouseCfg { contacts: doc.string(&m, "warehouse", "contacts", false), ..WarehouseCfg::default() };
    let named = |doc: &mut Doc, key: &str| -> Vec<(String, String)> {
        let mut out = Vec::new();
        match m.get(key) {
            None | Some(Value::Null) => {}
            Some(Value::Mapping(map)) => {
                for (k, r) in map {
                    let name = scalar_text(k).unwrap_or_default();
                    let p = join(&join("warehouse", key), &name);
                    match scalar_text(r).filter(|_| !matches!(r, Value::Bool(_))) {
                        Some(rel) if !rel.trim().is_empty() => out.push((name, rel)),
                        _ => doc.error(&p, format!("a relation is a name such as `sales.orders`, found {}", kind(r))),
                    }
                }
            }
            Some(other) => doc.error(&join("warehouse", key), format!("`{key}` maps names to relations, found {}", kind(other))),
        }
        out
    };
    cfg.tables = named(doc, "tables");
    // List paths are relative to the folder of audience.yaml, as suppress files are.
    cfg.lists = named(doc, "lists").into_iter().map(|(file, relation)| (resolve(root, &file), relation)).collect();
    for (t, _) in &cfg.tables {
        if !tables.iter().any(|x| &x.name == t) {
            let names: Vec<&str> = tables.iter().map(|x| x.name.as_str()).collect();
            let hint = did_you_mean(t, names.iter().copied()).or_else(|| Some(format!("the tables of audience.yaml: {}", names.join(", "))));
            doc.error_hint(&join("warehouse.tables", t), format!("no table `{t}` under `tables:`"), hint);
        }
    }
    Some(cfg)
}

fn parse_clusters(doc: &mut Doc, v: Option<&Value>) -> Option<ClustersCfg> {
    let v = v.filter(|v| !v.is_null())?;
    let m = doc.mapping(v, "clusters", "`clusters`", &catalog::names(catalog::CLUSTERS))?.clone();
    let whole = |doc: &mut Doc, key: &str, min: u64, default: u64| -> u64 {
        match m.get(key) {
            None | Some(Value::Null) => default,
            Some(x) => match x.as_u64().filter(|n| *n >= min) {
                Some(n) => n,
                None => {
                    doc.error(
                        &join("clusters", key),
                        format!("`{key}` is a whole number of at least {min}, found {}", scalar_text(x).unwrap_or_else(|| kind(x).into())),
                    );
                    default
                }
            },
        }
    };
    let mut features = Vec::new();
    match m.get("features") {
        None | Some(Value::Null) => {
            doc.error("clusters", "missing required key `features`, the numeric fields to cluster on");
        }
        Some(Value::Sequence(items)) if !items.is_empty() => {
            for (i, f) in items.iter().enumerate() {
                let p = index("clusters.features", i);
                match scalar_text(f).filter(|_| !matches!(f, Value::Bool(_))) {
                    Some(name) if features.iter().any(|(n, _)| *n == name) => doc.error(&p, format!("feature `{name}` is listed twice")),
                    Some(name) => features.push((name, p)),
                    None => doc.error(&p, format!("a feature is a field name, found {}", kind(f))),
                }
            }
        }
        Some(other) => doc.error("clusters.features", format!("`features` is a list of field names, found {}", kind(other))),
    }
    let scale = match doc.string(&m, "clusters", "scale", false) {
        None => crate::cluster::Scale::Standard,
        Some(s) => crate::cluster::Scale::parse(&s).unwrap_or_else(|| {
            let names = crate::cluster::Scale::NAMES;
            doc.error_hint(
                "clusters.scale",
                format!("unknown scale `{s}`"),
                did_you_mean(&s, names.iter().copied()).or_else(|| Some(format!("one of: {}", names.join(", ")))),
            );
            crate::cluster::Scale::Standard
        }),
    };
    let k_of = |x: &Value| x.as_u64().filter(|n| *n >= 2).map(|n| n as usize);
    let k = match m.get("k") {
        None | Some(Value::Null) => (4, 4),
        Some(Value::Sequence(r)) => match r.as_slice() {
            [lo, hi] => match (k_of(lo), k_of(hi)) {
                (Some(lo), Some(hi)) if lo <= hi => (lo, hi),
                _ => {
                    doc.error("clusters.k", "a range of k is [lo, hi], whole numbers with 2 <= lo <= hi");
                    (2, 2)
                }
            },
            _ => {
                doc.error("clusters.k", format!("a range of k has two ends, [lo, hi]; found {} numbers", r.len()));
                (2, 2)
            }
        },
        Some(x) => match k_of(x) {
            Some(k) => (k, k),
            None => {
                doc.error_hint(
                    "clusters.k",
                    format!("`k` is a whole number of at least 2, found {}", scalar_text(x).unwrap_or_else(|| kind(x).into())),
                    Some("one cluster tells nothing apart; write k: 2 or more, or a range such as [2, 8]".into()),
                );
                (2, 2)
            }
        },
    };
    let dbscan = m
        .get("dbscan")
        .filter(|d| !d.is_null())
        .and_then(|d| doc.mapping(d, "clusters.dbscan", "`clusters.dbscan`", &catalog::names(catalog::DBSCAN)).cloned());
    let method = match doc.string(&m, "clusters", "method", false).as_deref() {
        None | Some("kmeans") => {
            if dbscan.is_some() {
                doc.error_hint(
                    "clusters.dbscan",
                    "`dbscan` settings are given but the method is k-means",
                    Some("add `method: dbscan`, or remove `dbscan`".into()),
                );
            }
            crate::cluster::Method::KMeans
        }
        Some("dbscan") => {
            let d = dbscan.unwrap_or_default();
            let eps = match d.get("eps") {
                None | Some(Value::Null) => 0.5,
                Some(x) => match x.as_f64().filter(|e| e.is_finite() && *e > 0.0) {
                    Some(e) => e,
                    None => {
                        doc.error("clusters.dbscan.eps", "`eps` is a positive number (a distance in scaled units)");
                        0.5
                    }
                },
            };
            let min_samples = match d.get("min_samples") {
                None | Some(Value::Null) => 5,
                Some(x) => match x.as_u64().filter(|n| *n >= 1) {
                    Some(n) => n as usize,
                    None => {
                        doc.error("clusters.dbscan.min_samples", "`min_samples` is a whole number of at least 1");
                        5
                    }
                },
            };
            crate::cluster::Method::Dbscan { eps, min_samples }
        }
        Some(other) => {
            doc.error_hint(
                "clusters.method",
                format!("unknown method `{other}`"),
                did_you_mean(other, ["kmeans", "dbscan"]).or_else(|| Some("kmeans or dbscan".into())),
            );
            crate::cluster::Method::KMeans
        }
    };
    if matches!(method, crate::cluster::Method::Dbscan { .. }) && m.get("k").is_some_and(|k| !k.is_null()) {
        doc.error_hint("clusters.k", "DBSCAN finds the number of clusters itself; `k` is for k-means", Some("remove `k`, or use `method: kmeans`".into()));
    }
    let impute_median = match doc.string(&m, "clusters", "impute", false).as_deref() {
        None | Some("none") => false,
        Some("median") => true,
        Some(other) => {
            doc.error_hint("clusters.impute", format!("unknown imputation `{other}`"), Some("none (leave the contact out) or median".into()));
            false
        }
    };
    let only = m.get("only").filter(|o| !o.is_null()).and_then(|o| parse_condition(doc, o, "clusters.only", Level::Contact));
    let seed = whole(doc, "seed", 0, 0);
    let n_init = whole(doc, "n_init", 1, 4) as usize;
    let silhouette_sample = whole(doc, "silhouette_sample", 2, 10_000) as usize;
    let model = crate::cluster::Settings { scale, k, method, seed, n_init, silhouette_sample };
    Some(ClustersCfg { features, model, only, impute_median })
}

fn parse_rfm(doc: &mut Doc, v: Option<&Value>) -> RfmCfg {
    let mut cfg = RfmCfg { table: "orders".into(), bins: [5; 3], thresholds: None, classes_name: "standard".into(), classes: rfm::preset("standard", [5; 3]) };
    let Some(v) = v.filter(|v| !v.is_null()) else { return cfg };
    let Some(m) = doc.mapping(v, "rfm", "`rfm`", &catalog::names(catalog::RFM)).cloned() else { return cfg };
    if let Some(t) = doc.string(&m, "rfm", "table", false) {
        cfg.table = t;
    }
    const DIMS: [&str; 3] = ["recency", "frequency", "monetary"];
    match m.get("bins") {
        None | Some(Value::Null) => {}
        Some(Value::Number(n)) => match n.as_u64().filter(|b| (2..=9).contains(b)) {
            Some(b) => cfg.bins = [b as u32; 3],
            None => doc.error("rfm.bins", "`bins` is a whole number from 2 to 9"),
        },
        Some(b @ Value::Mapping(bm)) => {
            doc.mapping(b, "rfm.bins", "`rfm.bins`", &catalog::names(catalog::RFM_BINS));
            for (i, d) in DIMS.iter().enumerate() {
                if let Some(x) = bm.get(*d) {
                    match x.as_u64().filter(|b| (2..=9).contains(b)) {
                        Some(b) => cfg.bins[i] = b as u32,
                        None => doc.error(&join("rfm.bins", d), format!("bins for {d} is a whole number from 2 to 9")),
                    }
                }
            }
        }
        Some(other) => doc.error("rfm.bins", format!("`bins` is a number or {{recency, frequency, monetary}}, found {}", kind(other))),
    }
    if let Some(t) = m.get("thresholds").filter(|t| !t.is_null()) {
        if let Some(tm) = doc.mapping(t, "rfm.thresholds", "`rfm.thresholds`", &catalog::names(catalog::RFM_THRESHOLDS)).cloned() {
            let mut cuts: [Vec<f64>; 3] = Default::default();
            let mut ok = true;
            for (i, d) in DIMS.iter().enumerate() {
                let p = join("rfm.thresholds", d);
                let list = tm.get(*d).and_then(Value::as_sequence).map(|s| s.iter().map(Value::as_f64).collect::<Option<Vec<f64>>>());
                match list {
                    Some(Some(v)) if !v.is_empty() && v.windows(2).all(|w| w[0] < w[1]) => {
                        cfg.bins[i] = v.len() as u32 + 1;
                        cuts[i] = v;
                    }
                    _ => {
                        doc.error(&p, format!("thresholds for {d} must be a list of ascending numbers, such as [30, 90, 180, 365]"));
                        ok = false;
                    }
                }
            }
            if ok {
                cfg.thresholds = Some(cuts);
            }
        }
    }
    match m.get("classes") {
        None | Some(Value::Null) => cfg.classes = rfm::preset("standard", cfg.bins),
        Some(Value::String(name)) => {
            cfg.classes_name = name.clone();
            cfg.classes = rfm::preset(name, cfg.bins);
            if let Err(e) = &cfg.classes {
                if !rfm::preset_names().contains(&name.as_str()) {
                    doc.error_hint("rfm.classes", e.clone(), did_you_mean(name, rfm::preset_names().iter().copied()));
                }
            }
        }
        Some(Value::Sequence(items)) => {
            cfg.classes_name = "custom".into();
            let mut classes = Vec::new();
            for (i, it) in items.iter().enumerate() {
                let p = index("rfm.classes", i);
                let Some(cm) = doc.mapping(it, &p, "an RFM class", &catalog::names(catalog::RFM_CLASS)).cloned() else { continue };
                let Some(name) = doc.string(&cm, &p, "name", true) else { continue };
                let mut ranges = [(1u32, 9u32); 3];
                for (j, dim) in ["r", "f", "m"].iter().enumerate() {
                    match cm.get(*dim) {
                        None | Some(Value::Null) => ranges[j] = (1, cfg.bins[j]),
                        Some(Value::Sequence(s)) if s.len() == 2 && s.iter().all(|x| x.as_u64().is_some()) => {
                            let lo = s[0].as_u64().unwrap_or(0) as u32;
                            let hi = s[1].as_u64().unwrap_or(0) as u32;
                            if lo > hi {
                                doc.error(&join(&p, dim), format!("range [{lo}, {hi}] is reversed"));
                            }
                            ranges[j] = (lo, hi);
                        }
                        Some(_) => doc.error(&join(&p, dim), format!("`{dim}` is a score range [lo, hi] such as [4, 5]")),
                    }
                }
                classes.push(ClassDef { name, r: ranges[0], f: ranges[1], m: ranges[2] });
            }
            cfg.classes = Ok(classes);
        }
        Some(other) => doc.error("rfm.classes", format!("`classes` is a preset name or a list of classes, found {}", kind(other))),
    }
    cfg
}
