//! `audience fields`: every field a condition may use, its type and samples.

use std::process::ExitCode;

use anyhow::Result;
use polars::prelude::*;

use crate::backend::polars::{feature_table, lower::Lower};
use crate::cli::{Common, TableFormat};
use crate::plan::{Operand, Resolver, Value, BUILTINS, RFM_FIELDS};
use crate::session::Session;
use crate::types::FieldType;

pub fn run(common: &Common, format: TableFormat) -> Result<ExitCode> {
    let session = Session::open(common)?;
    let data = session.load_data()?;
    data.notes.print();
    let project = &session.project;
    let mut resolver = Resolver::new(&data, project);

    // (field, source, its value over the feature table)
    let mut entries: Vec<(String, String, Value)> = Vec::new();
    for (name, ty) in &data.columns {
        let src = if *name == data.key_column { "contacts (key)" } else { "contacts" };
        entries.push((name.clone(), src.into(), Value { operand: Operand::Contact(name.clone()), ty: *ty }));
    }
    for (name, _) in BUILTINS {
        if let Ok(v) = resolver.field(name, None, "") {
            entries.push((name.to_string(), "built-in metric".into(), v));
        }
    }
    for m in &project.metrics {
        if let Ok(v) = resolver.agg(&m.def, None) {
            entries.push((m.name.clone(), format!("metric ({} of {})", m.def.agg.name(), m.def.table), v));
        }
    }
    if crate::backend::polars::rfm::config(project).is_ok() && resolver.rfm_inputs().is_ok() {
        for (name, ty) in RFM_FIELDS {
            entries.push((name.to_string(), "RFM".into(), Value { operand: Operand::Rfm(name), ty: *ty }));
        }
    }
    if project.clusters.is_some() && resolver.cluster_inputs().is_ok() {
        entries.push(("cluster".into(), "clusters".into(), Value { operand: Operand::Cluster, ty: crate::types::FieldType::Int }));
    }
    let plan = resolver.into_plan().map_err(|e| anyhow::anyhow!("{}", e.message))?;
    let lower = Lower::new(&plan);
    let df = feature_table(&plan, &data, project, &lower)?;

    let mut rows: Vec<Vec<serde_json::Value>> = Vec::new();
    for (name, src, value) in &entries {
        let (ty, samples) = (value.ty, samples(&df, lower.value(value))?);
        rows.push(vec![name.clone().into(), type_label(&df, name, ty).into(), src.clone().into(), samples.into()]);
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
