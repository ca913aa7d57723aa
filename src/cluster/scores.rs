//! Internal validity scores of a labelling, defined as scikit-learn's
//! `silhouette_score` and `davies_bouldin_score` define them. Distances are
//! taken exactly (scikit-learn expands `|x|² - 2x·y + |y|²`, which differs
//! from the exact distance by rounding, up to about 1e-8 between points that
//! nearly coincide).

use super::{dist_sq, Points};

/// Labels as `0..k`, in order of first appearance, and `k`.
fn encode(labels: &[usize]) -> (Vec<usize>, usize) {
    let mut seen: Vec<usize> = Vec::new();
    let coded = labels
        .iter()
        .map(|l| match seen.iter().position(|s| s == l) {
            Some(i) => i,
            None => {
                seen.push(*l);
                seen.len() - 1
            }
        })
        .collect();
    (coded, seen.len())
}

/// The mean silhouette over the points: `(b - a) / max(a, b)` with `a` the
/// mean distance to the other points of the own cluster and `b` the lowest
/// mean distance to another cluster's points; 0 for a point alone in its
/// cluster. None unless there are 2 to n - 1 clusters.
pub fn silhouette(points: &Points, labels: &[usize]) -> Option<f64> {
    let n = points.len();
    let (labels, k) = encode(labels);
    if k < 2 || k >= n {
        return None;
    }
    let mut sizes = vec![0usize; k];
    for l in &labels {
        sizes[*l] += 1;
    }
    let per_point = |i: usize| -> f64 {
        let mut sums = vec![0.0; k];
        let p = points.row(i);
        for (q, l) in points.rows().zip(&labels) {
            sums[*l] += dist_sq(p, q).sqrt();
        }
        let own = labels[i];
        if sizes[own] == 1 {
            return 0.0;
        }
        let a = sums[own] / (sizes[own] - 1) as f64;
        let b = (0..k).filter(|c| *c != own).map(|c| sums[c] / sizes[c] as f64).fold(f64::INFINITY, f64::min);
        let s = (b - a) / a.max(b);
        if s.is_nan() {
            0.0
        } else {
            s
        }
    };
    let chunks: Vec<std::ops::Range<usize>> = (0..n).step_by(1024).map(|s| s..(s + 1024).min(n)).collect();
    let parts = crate::par::parallel_map(chunks, |r| r.map(per_point).collect::<Vec<f64>>());
    Some(parts.into_iter().flatten().sum::<f64>() / n as f64)
}

/// The Davies–Bouldin index: the mean over clusters of the largest
/// `(s_i + s_j) / d(c_i, c_j)`, with `s` the mean distance of a cluster's
/// points to its centroid. 0 when every `s` or every centroid distance is
/// (within 1e-8) zero; None unless there are 2 to n - 1 clusters.
pub fn davies_bouldin(points: &Points, labels: &[usize]) -> Option<f64> {
    let n = points.len();
    let d = points.dims;
    let (labels, k) = encode(labels);
    if k < 2 || k >= n {
        return None;
    }
    let mut sums = vec![0.0; k * d];
    let mut sizes = vec![0usize; k];
    for (p, l) in points.rows().zip(&labels) {
        sizes[*l] += 1;
        for j in 0..d {
            sums[l * d + j] += p[j];
        }
    }
    let centroids: Vec<f64> = sums.iter().enumerate().map(|(i, s)| s / sizes[i / d] as f64).collect();
    let centroid = |c: usize| &centroids[c * d..(c + 1) * d];
    let mut spread = vec![0.0; k];
    for (p, l) in points.rows().zip(&labels) {
        spread[*l] += dist_sq(p, centroid(*l)).sqrt();
    }
    for c in 0..k {
        spread[c] /= sizes[c] as f64;
    }
    let between = |a: usize, b: usize| dist_sq(centroid(a), centroid(b)).sqrt();
    let near_zero = |x: f64| x.abs() <= 1e-8;
    if spread.iter().all(|s| near_zero(*s)) || (0..k).all(|a| (0..k).all(|b| near_zero(between(a, b)))) {
        return Some(0.0);
    }
    let worst = |a: usize| {
        (0..k)
            .map(|b| {
                let dist = between(a, b);
                // Coinciding centroids (a cluster and itself) count as infinitely apart.
                if dist == 0.0 {
                    0.0
                } else {
                    (spread[a] + spread[b]) / dist
                }
            })
            .fold(f64::NEG_INFINITY, f64::max)
    };
    Some((0..k).map(worst).sum::<f64>() / k as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scores_are_undefined_for_one_cluster_or_one_per_point() {
        let p = Points::new(1, vec![0.0, 1.0, 2.0]);
        assert_eq!(silhouette(&p, &[0, 0, 0]), None);
        assert_eq!(silhouette(&p, &[0, 1, 2]), None);
        assert_eq!(davies_bouldin(&p, &[4, 4, 4]), None);
    }

    #[test]
    fn two_tight_pairs_far_apart_score_near_the_ideal() {
        let p = Points::new(1, vec![0.0, 1.0, 100.0, 101.0]);
        let s = silhouette(&p, &[0, 0, 1, 1]).unwrap();
        // a = 1 for every point; b = 100 or 99 or 101 ...
        let expect = ((99.5 - 1.0) / 99.5 + (100.5 - 1.0) / 100.5) / 2.0;
        assert!((s - expect).abs() < 1e-12, "{s} vs {expect}");
        let db = davies_bouldin(&p, &[0, 0, 1, 1]).unwrap();
        assert!((db - 1.0 / 100.0).abs() < 1e-12, "{db}");
    }
}
