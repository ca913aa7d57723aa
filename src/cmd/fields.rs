//! `audience fields`: every field a condition may use, its type and samples.

use std::process::ExitCode;

use anyhow::Result;
use polars::prelude::*;

use crate::cli::{Common, TableFormat};
use crate::features::{Plan, BUILTINS, RFM_FIELDS};
use crate::session::Session;
use crate::types::FieldType;

pub fn run(common: &Common, format: TableFormat) -> Result<ExitCode> {
    let session = Session::open(common)?;
    let data = session.load_data()?;
    data.notes.print();
    let project = &session.project;
    let mut plan = Plan::new(&data, project);

    // (field, type, source, expression over the feature table)
    let mut entries: Vec<(String, FieldType, String, Option<Expr>)> = Vec::new();
    for (name, ty) in &data.columns {
        let src = if *name == data.key_column { "contacts (key)" } else { "contacts" };
        entries.push((name.clone(), *ty, src.into(), Some(col(name.as_str()))));
    }
    for (name, _) in BUILTINS {
        if let Ok(r) = plan.field(name, None, "") {
            entries.push((name.to_string(), r.ty, "built-in metric".into(), Some(r.expr)));
        }
    }
    for m in &project.metrics {
        if let Ok(r) = plan.agg(&m.def, None) {
            entries.push((m.name.clone(), r.ty, format!("metric ({} of {})", m.def.agg.name(), m.def.table), Some(r.expr)));
        }
    }
    if plan.rfm_inputs().is_ok() && crate::rfm_fields::config(project).is_ok() {
        for (name, ty) in RFM_FIELDS {
            entries.push((name.to_string(), *ty, "RFM".into(), Some(col(*name))));
        }
    } else {
        plan.needs_rfm = false;
    }
    let mut df = crate::exec::run_in_memory(plan.features()?)?;
    if plan.needs_rfm {
        let (f, m, r) = plan.rfm_inputs().map_err(|e| anyhow::anyhow!(e.message))?;
        df = crate::rfm_fields::add_columns(df, project, &f, &m, &r)?;
    }

    let mut rows: Vec<Vec<serde_json::Value>> = Vec::new();
    for (name, ty, src, expr) in &entries {
        let samples = match expr {
            Some(e) => samples(&df, e.clone())?,
            None => String::new(),
        };
        rows.push(vec![name.clone().into(), type_label(&df, name, *ty).into(), src.clone().into(), samples.into()]);
    }
    for t in &data.tables {
        for (name, ty) in &t.columns {
            let column = t.lf.clone().select([col(name.as_str())]).collect()?;
            let s = samples(&column, col(name.as_str()))?;
            rows.push(vec![format!("{}.{name}", t.cfg.name).into(), type_label(&column, name, *ty).into(), format!("table {}", t.cfg.name).into(), s.into()]);
        }
    }
    super::print_rows(&["field", "type", "source", "samples"], &["field", "type", "source", "samples"], &rows, format)?;
    Ok(ExitCode::SUCCESS)
}

/// Three distinct non-missing values, in file order.
fn samples(df: &DataFrame, e: Expr) -> Result<String> {
    let out = df.clone().lazy().select([e.alias("v")]).filter(col("v").is_not_null()).unique_stable(None, UniqueKeepStrategy::First).limit(3).collect()?;
    let cells = crate::output::text_rows(&out, 3)?;
    Ok(cells.into_iter().map(|r| r.join("")).collect::<Vec<_>>().join(", "))
}

/// The type, noting text columns whose every value is a boolean word
/// (`oui`/`non`…): `is_true` and `is_false` read them as booleans.
fn type_label(df: &DataFrame, name: &str, ty: FieldType) -> String {
    if ty != FieldType::Text {
        return ty.name().to_string();
    }
    let words = df.column(name).ok().and_then(|c| c.str().ok()).is_some_and(|ca| {
        let mut any = false;
        let all = ca.iter().flatten().all(|v| {
            any = true;
            crate::text::bool_word(v).is_some()
        });
        any && all
    });
    if words {
        "text (boolean words)".into()
    } else {
        "text".into()
    }
}
