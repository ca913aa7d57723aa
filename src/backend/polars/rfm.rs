//! RFM over the feature table: the per-contact inputs come from the same
//! aggregation as every other metric; scores and classes are added as columns.

use anyhow::{anyhow, Result};
use polars::prelude::*;

use crate::plan::RfmInputs;
use crate::project::Project;
use crate::rfm::{self, RfmConfig, RfmInput, RfmScore};
use crate::types::columns;

pub struct RfmResult {
    /// One entry per contact, in feature-table order.
    pub inputs: Vec<RfmInput>,
    pub has_orders: Vec<bool>,
    pub scores: Vec<Option<RfmScore>>,
    pub classes: Vec<String>,
    pub config: RfmConfig,
}

pub fn config(project: &Project) -> Result<RfmConfig> {
    let classes = project.rfm.classes.clone().map_err(|e| anyhow!("rfm.classes: {e}"))?;
    Ok(RfmConfig { bins: project.rfm.bins, thresholds: project.rfm.thresholds.clone(), classes })
}

/// Scores every contact of `df` from its frequency, monetary and last-date columns.
pub fn compute(df: &DataFrame, project: &Project, inputs: RfmInputs) -> Result<RfmResult> {
    let config = config(project)?;
    let freq = df.column(&columns::agg(inputs.frequency))?.cast(&DataType::Float64)?;
    let money = df.column(&columns::agg(inputs.monetary))?.cast(&DataType::Float64)?;
    let last = df.column(&columns::agg(inputs.last_date))?.cast(&DataType::Int32)?;
    let as_of = crate::dates::to_days(project.as_of) as f64;
    let (freq, money, last) = (freq.f64()?, money.f64()?, last.i32()?);
    let n = df.height();
    let mut inputs = Vec::with_capacity(n);
    let mut has_orders = Vec::with_capacity(n);
    for i in 0..n {
        let fr = freq.get(i).unwrap_or(0.0);
        has_orders.push(fr > 0.0);
        inputs.push(RfmInput {
            recency_days: if fr > 0.0 { last.get(i).map(|d| as_of - d as f64) } else { None },
            frequency: fr,
            monetary: money.get(i).unwrap_or(0.0),
        });
    }
    // Only contacts with orders take part in the quantiles.
    let buyers: Vec<usize> = (0..n).filter(|i| has_orders[*i]).collect();
    let buyer_inputs: Vec<RfmInput> = buyers.iter().map(|i| inputs[*i].clone()).collect();
    let buyer_scores = rfm::score(&buyer_inputs, &config);
    let mut scores = vec![None; n];
    for (i, s) in buyers.iter().zip(buyer_scores) {
        scores[*i] = s;
    }
    let classes = (0..n)
        .map(|i| match (&scores[i], has_orders[i]) {
            (_, false) => rfm::NO_PURCHASE.to_string(),
            (Some(s), true) => rfm::classify(s, &config.classes).to_string(),
            (None, true) => rfm::OTHERS.to_string(),
        })
        .collect();
    Ok(RfmResult { inputs, has_orders, scores, classes, config })
}

pub fn add_columns(mut df: DataFrame, project: &Project, inputs: RfmInputs) -> Result<DataFrame> {
    let r = compute(&df, project, inputs)?;
    let dim = |pick: fn(&RfmScore) -> u32| -> Vec<Option<i64>> { r.scores.iter().map(|s| s.as_ref().map(|s| pick(s) as i64)).collect() };
    let cols = [
        Column::new("rfm_recency".into(), dim(|s| s.r)),
        Column::new("rfm_frequency".into(), dim(|s| s.f)),
        Column::new("rfm_monetary".into(), dim(|s| s.m)),
        Column::new("rfm_score".into(), r.scores.iter().map(|s| s.as_ref().map(rfm::score_text)).collect::<Vec<_>>()),
        Column::new("rfm_class".into(), r.classes.clone()),
    ];
    for c in cols {
        df.with_column(c)?;
    }
    Ok(df)
}
