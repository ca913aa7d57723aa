//! `audience clusters`: fits the project's clusters and describes them
//! (sizes, feature means and deviations, silhouette, Davies–Bouldin), with
//! the table of k when k is a range; per-contact assignment and a chart on request.

use std::path::Path;
use std::process::ExitCode;

use anyhow::{anyhow, Context, Result};
use polars::prelude::*;
use serde_json::{json, Value as Json};

use crate::backend::polars::cluster::{self, Clustered};
use crate::backend::polars::lower::Lower;
use crate::cli::{Common, TableFormat};
use crate::cluster::{Method, Scale};
use crate::output::{self, CsvStyle};
use crate::plan::Resolver;
use crate::project::ClustersCfg;
use crate::session::Session;

pub fn run(common: &Common, format: TableFormat, assign: Option<&Path>, plot: Option<&Path>) -> Result<ExitCode> {
    super::check_table_file("--assign", assign, "the assignments")?;
    super::check_svg_file("--plot", plot)?;
    let session = Session::open(common)?;
    let project = &session.project;
    let Some(cfg) = &project.clusters else {
        return Err(anyhow!(
            "{}: no `clusters:` section; add one, such as\n  clusters:\n    features: [order_count, total_spent, days_since_last_order]\n    k: 4",
            project.file.display()
        ));
    };
    let data = session.load_data()?;
    data.notes.print();
    let mut resolver = Resolver::new(&data, project);
    let inputs = match resolver.cluster_inputs() {
        Ok(i) => i,
        Err(e) => {
            let errors: Vec<_> = std::iter::once(e).chain(resolver.deferred.drain(..)).map(|e| (None, e)).collect();
            session.report(&errors);
            return Err(crate::diag::Reported.into());
        }
    };
    let plan = resolver.into_plan().map_err(|e| anyhow!("{}", e.message))?;
    let lower = Lower::new(&plan);
    let admitted = cluster::admitted(&inputs, &lower)?;
    let started = std::time::Instant::now();
    let df = crate::exec::run_in_memory(crate::backend::polars::features::features(&plan, &data, &lower)?)?;
    crate::exec::timing("features", started);
    let df = match plan.rfm {
        Some(r) => crate::backend::polars::rfm::add_columns(df, project, r)?,
        None => df,
    };
    let started = std::time::Instant::now();
    let c = cluster::fit(&df, &inputs, cfg, &lower, admitted)?;
    crate::exec::timing("clusters", started);
    let names: Vec<&str> = inputs.features.iter().map(|(n, _)| n.as_str()).collect();
    let rows = describe(&c, names.len());

    match format {
        TableFormat::Json => println!("{}", serde_json::to_string_pretty(&summary_json(&c, cfg, &names, &rows, df.height()))?),
        TableFormat::Csv => super::print_rows(&header(&names).iter().map(String::as_str).collect::<Vec<_>>(), &keys(&names), &table(&rows), format)?,
        TableFormat::Table => print_table(&c, cfg, &names, &rows, df.height())?,
    }
    for path in assign.iter().chain(plot.iter()) {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).with_context(|| format!("{}: cannot create the folder {}", path.display(), dir.display()))?;
        }
    }
    if let Some(path) = assign {
        let started = std::time::Instant::now();
        write_assignment(&df, &data.key_column, &c, path)?;
        crate::exec::timing("write assignment", started);
        eprintln!("wrote the clusters of {} contact(s) to {}", c.rows.len(), path.display());
    }
    if let Some(path) = plot {
        let svg = crate::cluster_plot::svg(&c.original, &c.fit.labels, &names);
        output::write_bytes_atomic(path, svg.as_bytes())?;
        eprintln!("drew the chart to {}", path.display());
    }
    Ok(ExitCode::SUCCESS)
}

/// One cluster's size and, per feature, mean and standard deviation
/// (sample, n - 1) in the feature's own units.
struct ClusterRow {
    cluster: usize,
    contacts: usize,
    share: f64,
    mean: Vec<f64>,
    sd: Vec<Option<f64>>,
}

fn describe(c: &Clustered, dims: usize) -> Vec<ClusterRow> {
    let mut numbers: Vec<usize> = c.fit.labels.clone();
    numbers.sort_unstable();
    numbers.dedup();
    // Noise (0) after the clusters.
    numbers.sort_by_key(|n| if *n == 0 { usize::MAX } else { *n });
    let total = c.rows.len().max(1) as f64;
    numbers
        .into_iter()
        .map(|n| {
            let members: Vec<&[f64]> = c.original.rows().zip(&c.fit.labels).filter(|(_, l)| **l == n).map(|(p, _)| p).collect();
            let size = members.len();
            let mean: Vec<f64> = (0..dims).map(|j| members.iter().map(|p| p[j]).sum::<f64>() / size as f64).collect();
            let sd =
                (0..dims).map(|j| (size > 1).then(|| (members.iter().map(|p| (p[j] - mean[j]).powi(2)).sum::<f64>() / (size - 1) as f64).sqrt())).collect();
            ClusterRow { cluster: n, contacts: size, share: size as f64 / total, mean, sd }
        })
        .collect()
}

fn round(v: f64, d: i32) -> Json {
    let p = 10f64.powi(d);
    let r = (v * p).round() / p;
    if r.fract() == 0.0 && r.abs() < 1e15 {
        Json::from(r as i64)
    } else {
        serde_json::Number::from_f64(r).map(Json::Number).unwrap_or(Json::Null)
    }
}

fn header(names: &[&str]) -> Vec<String> {
    let mut h = vec!["cluster".to_string(), "contacts".into(), "% contacts".into()];
    for n in names {
        h.push(format!("{n} mean"));
        h.push(format!("{n} sd"));
    }
    h
}

fn keys(names: &[&str]) -> Vec<&'static str> {
    let mut k: Vec<&'static str> = vec!["cluster", "contacts", "share_pct"];
    for n in names {
        k.push(Box::leak(format!("{n}_mean").into_boxed_str()));
        k.push(Box::leak(format!("{n}_sd").into_boxed_str()));
    }
    k
}

fn table(rows: &[ClusterRow]) -> Vec<Vec<Json>> {
    rows.iter()
        .map(|r| {
            let mut row: Vec<Json> = vec![if r.cluster == 0 { "noise".into() } else { r.cluster.into() }, r.contacts.into(), round(r.share * 100.0, 1)];
            for (m, s) in r.mean.iter().zip(&r.sd) {
                row.push(round(*m, 2));
                row.push(s.map(|s| round(s, 2)).unwrap_or(Json::Null));
            }
            row
        })
        .collect()
}

fn method_text(cfg: &ClustersCfg, k: usize) -> String {
    let scale = match cfg.model.scale {
        Scale::Standard => "z-scores",
        Scale::MinMax => "min-max",
        Scale::None => "unscaled",
    };
    match cfg.model.method {
        Method::KMeans => format!("k-means, k = {k}, seed {}, best of {} run(s), features as {scale}", cfg.model.seed, cfg.model.n_init),
        Method::Dbscan { eps, min_samples } => format!("DBSCAN, eps {eps}, min_samples {min_samples}, features as {scale}: {k} cluster(s)"),
    }
}

fn score(v: Option<f64>) -> String {
    v.map(|x| format!("{x:.3}")).unwrap_or_else(|| "not defined (needs 2 clusters or more, each smaller than the whole)".into())
}

fn print_table(c: &Clustered, cfg: &ClustersCfg, names: &[&str], rows: &[ClusterRow], contacts: usize) -> Result<()> {
    let f = &c.fit;
    if !f.trials.is_empty() {
        let trials: Vec<Vec<Json>> = f
            .trials
            .iter()
            .map(|t| {
                let opt = |v: Option<f64>| v.map(|x| round(x, 4)).unwrap_or(Json::Null);
                vec![t.k.into(), opt(t.silhouette), opt(t.davies_bouldin), round(t.inertia, 2), if t.k == f.k { "◀ chosen".into() } else { "".into() }]
            })
            .collect();
        println!("k by silhouette (highest wins):");
        super::print_rows(
            &["k", "silhouette", "Davies–Bouldin", "inertia", ""],
            &["k", "silhouette", "davies_bouldin", "inertia", "chosen"],
            &trials,
            TableFormat::Table,
        )?;
        println!();
    }
    println!("{}", method_text(cfg, f.k));
    let mut line = format!("clustered {} of {} contacts", c.rows.len(), contacts);
    if c.considered < contacts {
        line += &format!(": {} admitted by `only`", c.considered);
    }
    if c.left_out > 0 {
        line += &format!("; {} left out for a missing feature value", c.left_out);
    }
    if c.imputed > 0 {
        line += &format!("; {} with missing values filled by medians", c.imputed);
    }
    println!("{line}");
    // One column per feature, mean ± sd, so that four features fit a terminal.
    let mut header: Vec<String> = vec!["cluster".into(), "contacts".into(), "% contacts".into()];
    header.extend(names.iter().map(|n| format!("{n} (mean ± sd)")));
    let cells: Vec<Vec<Json>> = rows
        .iter()
        .map(|r| {
            let mut row: Vec<Json> = vec![if r.cluster == 0 { "noise".into() } else { r.cluster.into() }, r.contacts.into(), round(r.share * 100.0, 1)];
            row.extend(r.mean.iter().zip(&r.sd).map(|(m, s)| {
                Json::from(match s {
                    Some(s) => format!("{} ± {}", round(*m, 2), round(*s, 2)),
                    None => round(*m, 2).to_string(),
                })
            }));
            row
        })
        .collect();
    let mut t = output::Grid::new(header);
    for r in &cells {
        t.row(r.iter().map(|v| v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string())).collect());
    }
    for i in 0..cells.first().map_or(0, Vec::len) {
        t.align_right(i);
    }
    println!("{}", t.render());
    let sample = f.sampled.map(|n| format!(" (on a sample of {n} contacts drawn with seed {})", cfg.model.seed)).unwrap_or_default();
    println!("silhouette {}{sample}, from -1 to 1, higher is better", score(f.silhouette));
    println!("Davies–Bouldin {}, from 0, lower is better", score(f.davies_bouldin));
    Ok(())
}

fn summary_json(c: &Clustered, cfg: &ClustersCfg, names: &[&str], rows: &[ClusterRow], contacts: usize) -> Json {
    let f = &c.fit;
    let method = match cfg.model.method {
        Method::KMeans => json!({"name": "kmeans", "seed": cfg.model.seed, "n_init": cfg.model.n_init}),
        Method::Dbscan { eps, min_samples } => json!({"name": "dbscan", "eps": eps, "min_samples": min_samples}),
    };
    let clusters: Vec<Json> = rows
        .iter()
        .map(|r| {
            let features: serde_json::Map<String, Json> =
                names.iter().zip(r.mean.iter().zip(&r.sd)).map(|(n, (m, s))| (n.to_string(), json!({"mean": m, "sd": s}))).collect();
            json!({"cluster": r.cluster, "contacts": r.contacts, "share": r.share, "features": features})
        })
        .collect();
    let trials: Vec<Json> =
        f.trials.iter().map(|t| json!({"k": t.k, "silhouette": t.silhouette, "davies_bouldin": t.davies_bouldin, "inertia": t.inertia})).collect();
    json!({
        "method": method,
        "features": names,
        "k": f.k,
        "contacts": contacts,
        "clustered": c.rows.len(),
        "left_out": c.left_out,
        "imputed": c.imputed,
        "silhouette": f.silhouette,
        "silhouette_sample": f.sampled,
        "davies_bouldin": f.davies_bouldin,
        "inertia": f.inertia,
        "clusters": clusters,
        "trials": trials,
    })
}

fn write_assignment(df: &DataFrame, key: &str, c: &Clustered, path: &Path) -> Result<()> {
    let keys = df.column(crate::load::KEY)?.str()?;
    let cols = vec![
        Column::new(key.into(), c.rows.iter().map(|i| keys.get(*i).map(str::to_string)).collect::<Vec<_>>()),
        Column::new("cluster".into(), c.fit.labels.iter().map(|l| *l as i64).collect::<Vec<_>>()),
        Column::new("distance".into(), c.fit.distance.clone()),
    ];
    let mut out = DataFrame::new_infer_height(cols)?;
    output::write_atomic(&mut out, path, output::format_for(path), &CsvStyle::PLAIN)
}
