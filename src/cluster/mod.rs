//! Clusters over plain numbers: scaling, k-means (k-means++ seeding, Lloyd
//! iterations), DBSCAN, and the two internal validity scores analysts check
//! against scikit-learn (silhouette, Davies–Bouldin). Nothing here knows of
//! contacts or polars: the backend hands in a matrix and reads labels back.

mod dbscan;
mod fit;
pub mod kmeans;
mod scores;

pub use dbscan::dbscan;
pub use fit::{fit, Fit, Method, Settings, Trial};
pub use kmeans::{kmeans, lloyd, KMeans};
pub use scores::{davies_bouldin, silhouette};

use rand::seq::SliceRandom;
use rand::SeedableRng;

/// Points in row-major order: `dims` numbers per point.
#[derive(Clone, Debug, PartialEq)]
pub struct Points {
    pub dims: usize,
    pub data: Vec<f64>,
}

impl Points {
    pub fn new(dims: usize, data: Vec<f64>) -> Self {
        assert!(dims > 0 && data.len().is_multiple_of(dims), "{} numbers do not make points of {dims} dimensions", data.len());
        Points { dims, data }
    }

    pub fn len(&self) -> usize {
        self.data.len() / self.dims
    }

    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    pub fn row(&self, i: usize) -> &[f64] {
        &self.data[i * self.dims..(i + 1) * self.dims]
    }

    pub fn rows(&self) -> impl Iterator<Item = &[f64]> {
        self.data.chunks_exact(self.dims)
    }

    /// The points at `indices`, in that order.
    pub fn select(&self, indices: &[usize]) -> Points {
        Points { dims: self.dims, data: indices.iter().flat_map(|i| self.row(*i).iter().copied()).collect() }
    }
}

pub fn dist_sq(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum()
}

/// How features are brought to one scale before distances are taken.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scale {
    /// z-scores: mean 0, population standard deviation 1.
    Standard,
    /// Onto [0, 1] by the minimum and maximum.
    MinMax,
    None,
}

impl Scale {
    pub const NAMES: &'static [&'static str] = &["standard", "minmax", "none"];

    pub fn parse(s: &str) -> Option<Scale> {
        match s {
            "standard" => Some(Scale::Standard),
            "minmax" => Some(Scale::MinMax),
            "none" => Some(Scale::None),
            _ => None,
        }
    }
}

/// Per dimension, `scaled = (x - offset) / factor`. A constant feature gets
/// factor 1, as scikit-learn's scalers do, so it scales to 0 rather than NaN.
#[derive(Clone, Debug, PartialEq)]
pub struct Scaling {
    pub offset: Vec<f64>,
    pub factor: Vec<f64>,
}

impl Scaling {
    pub fn fit(points: &Points, scale: Scale) -> Scaling {
        let d = points.dims;
        let n = points.len().max(1) as f64;
        let (offset, factor) = match scale {
            Scale::None => (vec![0.0; d], vec![1.0; d]),
            Scale::Standard => {
                let mean: Vec<f64> = (0..d).map(|j| points.rows().map(|r| r[j]).sum::<f64>() / n).collect();
                let sd = (0..d).map(|j| nonzero((points.rows().map(|r| (r[j] - mean[j]).powi(2)).sum::<f64>() / n).sqrt())).collect();
                (mean, sd)
            }
            Scale::MinMax => {
                let min: Vec<f64> = (0..d).map(|j| points.rows().map(|r| r[j]).fold(f64::INFINITY, f64::min)).collect();
                let max = (0..d).map(|j| points.rows().map(|r| r[j]).fold(f64::NEG_INFINITY, f64::max));
                let range: Vec<f64> = max.zip(&min).map(|(hi, lo)| nonzero(hi - lo)).collect();
                (min, range)
            }
        };
        Scaling { offset, factor }
    }

    pub fn apply(&self, points: &Points) -> Points {
        let d = points.dims;
        let data = points.data.iter().enumerate().map(|(i, x)| (x - self.offset[i % d]) / self.factor[i % d]).collect();
        Points { dims: d, data }
    }

    /// A point of the scaled space in original units.
    pub fn invert(&self, p: &[f64]) -> Vec<f64> {
        p.iter().enumerate().map(|(j, x)| x * self.factor[j] + self.offset[j]).collect()
    }
}

fn nonzero(x: f64) -> f64 {
    if x.is_finite() && x > 0.0 {
        x
    } else {
        1.0
    }
}

/// `size` distinct indices of `0..n` drawn with `seed` (all of them, in
/// order, when `n <= size`): the sample the silhouette is computed on.
pub fn sample(n: usize, size: usize, seed: u64) -> Vec<usize> {
    let mut all: Vec<usize> = (0..n).collect();
    if n <= size {
        return all;
    }
    let mut rng = rand::rngs::SmallRng::seed_from_u64(seed);
    let (picked, _) = all.partial_shuffle(&mut rng, size);
    let mut picked = picked.to_vec();
    picked.sort_unstable();
    picked
}

/// Renumbers labels `0..k` as 1..=k by descending mean of the first
/// dimension of `original` (ties: the next dimensions, then the old label),
/// so that cluster 1 keeps its meaning when the data shifts a little.
/// Points without a label (DBSCAN's noise) stay without one.
pub fn stable_numbers(original: &Points, labels: &[Option<usize>], k: usize) -> Vec<usize> {
    let d = original.dims;
    let mut sums = vec![0.0; k * d];
    let mut counts = vec![0usize; k];
    for (p, l) in original.rows().zip(labels) {
        if let Some(l) = *l {
            counts[l] += 1;
            for j in 0..d {
                sums[l * d + j] += p[j];
            }
        }
    }
    let mean = |l: usize, j: usize| if counts[l] == 0 { f64::NEG_INFINITY } else { sums[l * d + j] / counts[l] as f64 };
    let mut order: Vec<usize> = (0..k).collect();
    order.sort_by(|a, b| (0..d).map(|j| mean(*b, j).total_cmp(&mean(*a, j))).find(|o| o.is_ne()).unwrap_or(a.cmp(b)));
    let mut number = vec![0; k];
    for (rank, old) in order.into_iter().enumerate() {
        number[old] = rank + 1;
    }
    number
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standard_scaling_uses_the_population_deviation_and_leaves_constants_at_zero() {
        let p = Points::new(2, vec![1.0, 5.0, 3.0, 5.0]);
        let s = Scaling::fit(&p, Scale::Standard);
        assert_eq!(s.offset, vec![2.0, 5.0]);
        assert_eq!(s.factor, vec![1.0, 1.0]);
        assert_eq!(s.apply(&p).data, vec![-1.0, 0.0, 1.0, 0.0]);
        let m = Scaling::fit(&Points::new(1, vec![2.0, 4.0, 10.0]), Scale::MinMax);
        assert_eq!(m.apply(&Points::new(1, vec![2.0, 4.0, 10.0])).data, vec![0.0, 0.25, 1.0]);
        assert_eq!(m.invert(&[0.25]), vec![4.0]);
    }

    #[test]
    fn samples_are_distinct_sorted_and_repeatable() {
        let a = sample(1000, 10, 7);
        assert_eq!(a, sample(1000, 10, 7));
        assert_ne!(a, sample(1000, 10, 8));
        assert!(a.windows(2).all(|w| w[0] < w[1]) && a.len() == 10);
        assert_eq!(sample(3, 10, 7), vec![0, 1, 2]);
    }

    #[test]
    fn clusters_are_numbered_by_descending_mean_of_the_first_feature() {
        let p = Points::new(2, vec![1.0, 0.0, 9.0, 0.0, 5.0, 1.0, 5.0, 0.0, 2.0, 0.0]);
        let labels = [Some(0), Some(1), Some(2), Some(3), None];
        // Means of the first feature: 1, 9, 5, 5; the tie goes to the second.
        assert_eq!(stable_numbers(&p, &labels, 4), vec![4, 1, 2, 3]);
    }
}
