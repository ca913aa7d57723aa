//! `audience rfm`: the class table, the recency × frequency grid, and
//! per-contact scores on request.

use std::path::Path;
use std::process::ExitCode;

use anyhow::{anyhow, Context, Result};
use polars::prelude::*;

use crate::backend::polars::lower::Lower;
use crate::backend::polars::rfm::{self as rfm_fields, RfmResult};
use crate::cli::{Common, TableFormat};
use crate::output::{self, CsvStyle};
use crate::plan::Resolver;
use crate::rfm;
use crate::session::Session;

pub fn run(common: &Common, scores_out: Option<&Path>, format: TableFormat, plot: Option<&Path>) -> Result<ExitCode> {
    super::check_table_file("--scores", scores_out, "the scores")?;
    super::check_svg_file("--plot", plot)?;
    let session = Session::open(common)?;
    let project = &session.project;
    let data = session.load_data()?;
    data.notes.print();
    let mut resolver = Resolver::new(&data, project);
    let inputs = resolver.rfm_inputs().map_err(|e| anyhow!("{}", e.message))?;
    let plan = resolver.into_plan().map_err(|e| anyhow!("{}", e.message))?;
    let started = std::time::Instant::now();
    let lower = Lower::new(&plan);
    let df = crate::exec::run_in_memory(crate::backend::polars::features::features(&plan, &data, &lower)?)?;
    crate::exec::timing("features", started);
    let started = std::time::Instant::now();
    let res = rfm_fields::compute(&df, project, inputs)?;
    crate::exec::timing("scores", started);
    let rows = rfm::class_table(&res.inputs, &res.has_orders, &res.scores, &res.config.classes, df.height() as u64);

    // Whole numbers print as integers (orders, revenue in whole euros).
    let round = |v: f64, d: i32| -> serde_json::Value {
        let p = 10f64.powi(d);
        let r = (v * p).round() / p;
        if r.fract() == 0.0 && r.abs() < 1e15 {
            serde_json::Value::from(r as i64)
        } else {
            serde_json::Number::from_f64(r).map(serde_json::Value::Number).unwrap_or(serde_json::Value::Null)
        }
    };
    let opt = |v: Option<f64>| v.map(|x| round(x, 2)).unwrap_or(serde_json::Value::Null);
    let table: Vec<Vec<serde_json::Value>> = rows
        .iter()
        .map(|c| {
            vec![
                c.class.clone().into(),
                c.contacts.into(),
                round(c.contact_share * 100.0, 1),
                round(c.orders, 2),
                round(c.revenue, 2),
                round(c.revenue_share * 100.0, 1),
                opt(c.recency_mean),
                opt(c.recency_sd),
                opt(c.frequency_mean),
                opt(c.frequency_sd),
                opt(c.monetary_mean),
                opt(c.monetary_sd),
            ]
        })
        .collect();
    let header = [
        "class",
        "contacts",
        "% contacts",
        "orders",
        "revenue",
        "% revenue",
        "recency mean",
        "recency sd",
        "frequency mean",
        "frequency sd",
        "monetary mean",
        "monetary sd",
    ];
    let keys = [
        "class",
        "contacts",
        "contact_share_pct",
        "orders",
        "revenue",
        "revenue_share_pct",
        "recency_mean",
        "recency_sd",
        "frequency_mean",
        "frequency_sd",
        "monetary_mean",
        "monetary_sd",
    ];
    super::print_rows(&header, &keys, &table, format)?;
    let bins = rfm::bin_counts(&res.config);
    let grid = rfm::grid(&res.scores, bins);
    if format == TableFormat::Table {
        print_grid(&grid);
    }
    // The folders of the files asked for are made, as `run` makes its
    // output folder: `--scores out/rfm.csv` works before any run.
    for path in scores_out.iter().chain(plot.iter()) {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).with_context(|| format!("{}: cannot create the folder {}", path.display(), dir.display()))?;
        }
    }
    if let Some(path) = scores_out {
        let started = std::time::Instant::now();
        write_scores(&df, &data.key_column, &res, path)?;
        crate::exec::timing("write scores", started);
        eprintln!("wrote the scores of {} contact(s) to {}", res.has_orders.iter().filter(|h| **h).count(), path.display());
    }
    if let Some(path) = plot {
        let svg = crate::rfm_plot::svg(&rows, &grid);
        output::write_bytes_atomic(path, svg.as_bytes())?;
        eprintln!("drew the chart to {}", path.display());
    }
    Ok(ExitCode::SUCCESS)
}

fn print_grid(grid: &[Vec<u64>]) {
    let cols = grid.first().map(Vec::len).unwrap_or(0);
    let mut header = vec!["recency ↓ / frequency →".to_string()];
    header.extend((1..=cols).map(|f| format!("F{f}")));
    let mut t = output::Grid::new(header);
    for (i, row) in grid.iter().enumerate().rev() {
        let mut cells = vec![format!("R{}", i + 1)];
        cells.extend(row.iter().map(|n| n.to_string()));
        t.row(cells);
    }
    for i in 1..=cols {
        t.align_right(i);
    }
    println!("contacts by recency and frequency score (5 = most recent, most frequent):");
    println!("{}", t.render());
}

fn write_scores(df: &DataFrame, key: &str, res: &RfmResult, path: &Path) -> Result<()> {
    let idx: Vec<usize> = (0..res.has_orders.len()).filter(|i| res.has_orders[*i]).collect();
    let keys = df.column(crate::load::KEY)?.str()?;
    let pick = |f: &dyn Fn(usize) -> Option<i64>| -> Vec<Option<i64>> { idx.iter().map(|i| f(*i)).collect() };
    let cols = vec![
        Column::new(key.into(), idx.iter().map(|i| keys.get(*i).map(str::to_string)).collect::<Vec<_>>()),
        Column::new("recency_days".into(), pick(&|i| res.inputs[i].recency_days.map(|d| d as i64))),
        Column::new("frequency".into(), idx.iter().map(|i| res.inputs[*i].frequency).collect::<Vec<f64>>()),
        Column::new("monetary".into(), idx.iter().map(|i| res.inputs[*i].monetary).collect::<Vec<f64>>()),
        Column::new("rfm_recency".into(), pick(&|i| res.scores[i].as_ref().map(|s| s.r as i64))),
        Column::new("rfm_frequency".into(), pick(&|i| res.scores[i].as_ref().map(|s| s.f as i64))),
        Column::new("rfm_monetary".into(), pick(&|i| res.scores[i].as_ref().map(|s| s.m as i64))),
        Column::new("rfm_score".into(), idx.iter().map(|i| res.scores[*i].as_ref().map(rfm::score_text)).collect::<Vec<_>>()),
        Column::new("rfm_class".into(), idx.iter().map(|i| res.classes[*i].clone()).collect::<Vec<_>>()),
    ];
    let mut out = DataFrame::new_infer_height(cols)?;
    output::write_atomic(&mut out, path, output::format_for(path), &CsvStyle::PLAIN)
}
