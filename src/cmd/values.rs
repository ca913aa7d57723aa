//! `audience values FIELD`: the distinct values of a field with their
//! counts, so a segment can name them exactly. Spellings that differ only
//! by case or accents (`Jazz`, `jazz`, `JAZZ`) are one value here, as `eq`
//! sees them, with each spelling listed.

use std::collections::HashMap;
use std::process::ExitCode;

use anyhow::Result;
use polars::prelude::*;

use crate::backend::polars::{feature_table, features::rows_that_count, lower::Lower};
use crate::cli::{Common, TableFormat};
use crate::plan::Resolver;
use crate::session::{Session, UsageError};
use crate::types::FieldType;

pub fn run(common: &Common, field: &str, limit: usize, format: TableFormat) -> Result<ExitCode> {
    let session = Session::open(common)?;
    let data = session.load_data()?;
    data.notes.print();
    let source = read_field(&session, &data, field)?;
    let tally = Tally::of(&source.cells, source.ty == FieldType::Text);

    let shown = if limit == 0 { tally.values.len() } else { limit.min(tally.values.len()) };
    let total: u64 = tally.values.iter().map(|v| v.count).sum::<u64>() + tally.missing;
    let share = |n: u64| if total == 0 { 0.0 } else { (n as f64 * 1000.0 / total as f64).round() / 10.0 };
    let rows: Vec<Vec<serde_json::Value>> = tally.values[..shown]
        .iter()
        .map(|v| {
            let spellings =
                if v.spellings.len() > 1 { v.spellings.iter().map(|(s, n)| format!("{s} ({n})")).collect::<Vec<_>>().join(", ") } else { String::new() };
            vec![v.value.clone().into(), v.count.into(), share(v.count).into(), spellings.into()]
        })
        .collect();
    // The table leaves out the spellings column when no value has two;
    // CSV and JSON keep their columns whatever the data.
    let mut header = vec!["value", "count", "%", "spellings"];
    let mut keys = vec!["value", "count", "share", "spellings"];
    let mut rows = rows;
    if format == TableFormat::Table && rows.iter().all(|r| r[3] == "") {
        header.pop();
        keys.pop();
        rows.iter_mut().for_each(|r| drop(r.pop()));
    }
    super::print_rows(&header, &keys, &rows, format)?;

    let mut summary = format!("{field}: {} distinct value(s) over {} {}", tally.values.len(), total, source.unit);
    if tally.missing > 0 {
        summary.push_str(&format!(", {} missing", tally.missing));
    }
    if shown < tally.values.len() {
        summary.push_str(&format!("; the {shown} most frequent shown (--limit 0 for all)"));
    }
    eprintln!("{summary}");
    Ok(ExitCode::SUCCESS)
}

/// A field's cells as lists write them, with what they count.
struct Source {
    cells: Vec<Option<String>>,
    ty: FieldType,
    /// "contacts" or "rows of TABLE".
    unit: String,
}

fn read_field(session: &Session, data: &crate::load::Dataset, field: &str) -> Result<Source> {
    let project = &session.project;
    let mut resolver = Resolver::new(data, project);
    // `TABLE.column`: the rows that count (the table's `where` applied).
    if let Some((table, column)) = field.split_once('.') {
        if let Some(t) = data.table(table) {
            let Some(ty) = t.column_type(column) else {
                let names: Vec<&str> = t.columns.iter().map(|(n, _)| n.as_str()).collect();
                let hint = crate::diag::did_you_mean(column, names.iter().copied()).unwrap_or_else(|| format!("its columns: {}", names.join(", ")));
                return Err(UsageError(format!("table `{table}` has no column `{column}`; {hint}")).into());
            };
            let filter = crate::plan::table_filter(data, project, t).map_err(|e| anyhow::anyhow!("{}", e.message))?;
            let plan = resolver.into_plan().map_err(|e| anyhow::anyhow!("{}", e.message))?;
            let lf = rows_that_count(filter.as_ref(), t, &Lower::new(&plan))?;
            let name = if column == t.cfg.source.key { crate::types::KEY } else { column };
            let df = crate::exec::run_in_memory(lf.select([col(name)]))?;
            return Ok(Source { cells: crate::output::text_cells(&df.columns()[0])?, ty, unit: format!("rows of {table}") });
        }
        if data.column_type(field).is_none() {
            let names: Vec<&str> = data.tables.iter().map(|t| t.cfg.name.as_str()).collect();
            let hint = crate::diag::did_you_mean(table, names.iter().copied()).unwrap_or_else(|| format!("tables: {}", names.join(", ")));
            return Err(UsageError(format!("no table `{table}` for `{field}`; {hint}")).into());
        }
    }
    if data.column_type(field).is_none() {
        let tables: Vec<String> = data.tables.iter().filter(|t| t.column_type(field).is_some()).map(|t| format!("`{}.{field}`", t.cfg.name)).collect();
        if !tables.is_empty() {
            return Err(UsageError(format!("no contact field `{field}`; it is a column of a table: try {}", tables.join(" or "))).into());
        }
    }
    let resolved = resolver.field(field, None, "").map_err(|e| {
        let hint = e.hint.clone().map(|h| format!("; {h}")).unwrap_or_default();
        UsageError(format!("{}{hint}", e.message))
    })?;
    let plan = resolver.into_plan().map_err(|e| anyhow::anyhow!("{}", e.message))?;
    let lower = Lower::new(&plan);
    let df = feature_table(&plan, data, project, &lower)?;
    let out = df.lazy().select([lower.value(&resolved).alias("v")]).collect()?;
    Ok(Source { cells: crate::output::text_cells(&out.columns()[0])?, ty: resolved.ty, unit: "contacts".into() })
}

struct Value {
    /// The most frequent spelling (the first seen among equals).
    value: String,
    count: u64,
    /// Every spelling with its count, most frequent first.
    spellings: Vec<(String, u64)>,
}

struct Tally {
    values: Vec<Value>,
    missing: u64,
}

impl Tally {
    /// Counts cells, text folded (case and accents) when `fold`. Values
    /// come most frequent first, ties in order of first appearance.
    fn of(cells: &[Option<String>], fold: bool) -> Tally {
        let mut index: HashMap<String, usize> = HashMap::new();
        let mut groups: Vec<Vec<(String, u64)>> = Vec::new();
        let mut missing = 0;
        for cell in cells {
            let Some(text) = cell.as_deref().filter(|s| !s.is_empty()) else {
                missing += 1;
                continue;
            };
            let key = if fold { crate::text::fold(text) } else { text.to_string() };
            let g = *index.entry(key).or_insert_with(|| {
                groups.push(Vec::new());
                groups.len() - 1
            });
            match groups[g].iter_mut().find(|(s, _)| s == text) {
                Some((_, n)) => *n += 1,
                None => groups[g].push((text.to_string(), 1)),
            }
        }
        let mut values: Vec<Value> = groups
            .into_iter()
            .map(|mut spellings| {
                spellings.sort_by_key(|s| std::cmp::Reverse(s.1));
                Value { value: spellings[0].0.clone(), count: spellings.iter().map(|(_, n)| n).sum(), spellings }
            })
            .collect();
        values.sort_by_key(|v| std::cmp::Reverse(v.count));
        Tally { values, missing }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cells(v: &[&str]) -> Vec<Option<String>> {
        v.iter().map(|s| if s.is_empty() { None } else { Some(s.to_string()) }).collect()
    }

    #[test]
    fn spellings_that_differ_by_case_or_accents_are_one_value() {
        let t = Tally::of(&cells(&["Jazz", "jazz", "Rock", "Jazz", "", "Électro", "electro", "electro"]), true);
        let got: Vec<(&str, u64)> = t.values.iter().map(|v| (v.value.as_str(), v.count)).collect();
        assert_eq!(got, [("Jazz", 3), ("electro", 3), ("Rock", 1)]);
        assert_eq!(t.values[0].spellings, [("Jazz".to_string(), 2), ("jazz".to_string(), 1)]);
        assert_eq!(t.missing, 1);
    }

    #[test]
    fn numbers_are_not_folded() {
        let t = Tally::of(&cells(&["10", "10", "2"]), false);
        assert_eq!(t.values.iter().map(|v| (v.value.as_str(), v.count)).collect::<Vec<_>>(), [("10", 2), ("2", 1)]);
    }
}
