//! Clusters over the feature table: the features of the contacts that take
//! part read into a matrix, fitted by [`crate::cluster`], and the contacts'
//! clusters added as a column.

use anyhow::{anyhow, Result};
use polars::prelude::*;

use super::lower::Lower;
use crate::cluster::{self, Fit, Points};
use crate::plan::ClusterInputs;
use crate::project::ClustersCfg;
use crate::types::columns;

pub struct Clustered {
    /// Feature-table row of each clustered contact, in table order.
    pub rows: Vec<usize>,
    /// Their features in the features' own units (medians filled in).
    pub original: Points,
    pub fit: Fit,
    /// Contacts `only` admits (all of them without `only`).
    pub considered: usize,
    /// Admitted contacts left out for a missing feature value.
    pub left_out: usize,
    /// Admitted contacts whose missing values were filled with medians.
    pub imputed: usize,
}

/// The rows of the contacts `only` admits, as an expression lowered before
/// the feature query is built (so that it registers the folded columns it reads).
pub fn admitted(inputs: &ClusterInputs, lower: &Lower) -> PolarsResult<Expr> {
    match &inputs.only {
        Some(p) => Ok(lower.rows(p, "")?.fill_null(lit(false))),
        None => Ok(lit(true)),
    }
}

pub fn fit(df: &DataFrame, inputs: &ClusterInputs, cfg: &ClustersCfg, lower: &Lower, admitted: Expr) -> Result<Clustered> {
    let mut exprs = vec![admitted.alias("__admitted")];
    exprs.extend(inputs.features.iter().enumerate().map(|(i, (_, v))| lower.value(v).cast(DataType::Float64).alias(format!("__f{i}"))));
    let m = crate::exec::run_in_memory(df.clone().lazy().select(exprs))?;
    let height = df.height();
    let admitted = m.column("__admitted")?.bool()?;
    let admitted: Vec<bool> =
        if admitted.len() == height { admitted.iter().map(|a| a == Some(true)).collect() } else { vec![admitted.get(0) == Some(true); height] };
    let cols: Vec<Vec<Option<f64>>> = (0..inputs.features.len())
        .map(|i| -> Result<Vec<Option<f64>>> {
            let c = m.column(&format!("__f{i}"))?.f64()?.clone();
            Ok(if c.len() == height { c.iter().map(|v| v.filter(|x| x.is_finite())).collect() } else { vec![c.get(0); height] })
        })
        .collect::<Result<_>>()?;
    let considered = admitted.iter().filter(|a| **a).count();
    let medians: Vec<Option<f64>> = cols.iter().map(|c| median(c.iter().zip(&admitted).filter_map(|(v, a)| v.filter(|_| *a)).collect())).collect();
    let (mut rows, mut data, mut left_out, mut imputed) = (Vec::new(), Vec::new(), 0, 0);
    for i in (0..height).filter(|i| admitted[*i]) {
        let missing = cols.iter().any(|c| c[i].is_none());
        if missing && !cfg.impute_median {
            left_out += 1;
            continue;
        }
        imputed += missing as usize;
        rows.push(i);
        data.extend(cols.iter().zip(&medians).map(|(c, m)| c[i].or(*m).unwrap_or(0.0)));
    }
    let original = Points::new(inputs.features.len(), data);
    let fit = cluster::fit(&original, &cfg.model).map_err(|e| {
        let why = if left_out > 0 { format!(" ({left_out} left out for a missing feature value; `impute: median` keeps them)") } else { String::new() };
        anyhow!("clusters: {e}{why}")
    })?;
    Ok(Clustered { rows, original, fit, considered, left_out, imputed })
}

/// The median of `v` (the mean of the middle two for an even count).
fn median(mut v: Vec<f64>) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    Some(if n % 2 == 1 { v[n / 2] } else { (v[n / 2 - 1] + v[n / 2]) / 2.0 })
}

/// `df` with the `cluster` column: each clustered contact's number, missing
/// for the contacts left out.
pub fn add_column(mut df: DataFrame, c: &Clustered) -> Result<DataFrame> {
    let mut values: Vec<Option<i64>> = vec![None; df.height()];
    for (row, label) in c.rows.iter().zip(&c.fit.labels) {
        values[*row] = Some(*label as i64);
    }
    df.with_column(Column::new(columns::CLUSTER.into(), values))?;
    Ok(df)
}

#[cfg(test)]
mod tests {
    #[test]
    fn medians_of_odd_and_even_counts() {
        assert_eq!(super::median(vec![3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(super::median(vec![4.0, 1.0, 2.0, 3.0]), Some(2.5));
        assert_eq!(super::median(vec![]), None);
    }
}
