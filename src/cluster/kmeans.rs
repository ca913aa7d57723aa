//! k-means: greedy k-means++ seeding and Lloyd iterations, with the
//! stopping rule, empty-cluster relocation and final assignment of
//! scikit-learn's `KMeans(algorithm="lloyd")`, so that from the same
//! initial centroids both give the same labels and centroids.

use rand::{Rng, SeedableRng};

use super::{dist_sq, Points};

#[derive(Clone, Debug)]
pub struct KMeans {
    /// `k` centroids in row-major order, in the fitted (scaled) space.
    pub centroids: Points,
    /// Each point's centroid.
    pub labels: Vec<usize>,
    /// Sum of squared distances of the points to their centroids.
    pub inertia: f64,
    pub iterations: usize,
}

pub const MAX_ITER: usize = 300;
/// scikit-learn's default: the tolerance is this share of the mean variance.
pub const TOL: f64 = 1e-4;

/// The best of `n_init` runs (lowest inertia), each seeded by k-means++ from
/// a generator started at `seed`.
pub fn kmeans(points: &Points, k: usize, seed: u64, n_init: usize) -> KMeans {
    assert!(k >= 1 && k <= points.len(), "k = {k} for {} points", points.len());
    let mut rng = rand::rngs::SmallRng::seed_from_u64(seed);
    let tol = tolerance(points);
    let mut best: Option<KMeans> = None;
    for _ in 0..n_init.max(1) {
        let init = plus_plus(points, k, &mut rng);
        let run = lloyd(points, init, MAX_ITER, tol);
        if best.as_ref().is_none_or(|b| run.inertia < b.inertia) {
            best = Some(run);
        }
    }
    best.expect("at least one run")
}

/// `TOL` times the mean of the per-dimension (population) variances.
pub fn tolerance(points: &Points) -> f64 {
    let n = points.len().max(1) as f64;
    let d = points.dims;
    let var: f64 = (0..d)
        .map(|j| {
            let mean = points.rows().map(|r| r[j]).sum::<f64>() / n;
            points.rows().map(|r| (r[j] - mean).powi(2)).sum::<f64>() / n
        })
        .sum();
    TOL * var / d as f64
}

/// Greedy k-means++: each new centroid is the best (lowest potential) of
/// `2 + ln k` candidates drawn in proportion to the squared distance to the
/// nearest centroid so far.
fn plus_plus(points: &Points, k: usize, rng: &mut impl Rng) -> Points {
    let n = points.len();
    let trials = 2 + (k as f64).ln() as usize;
    let mut centers = Vec::with_capacity(k * points.dims);
    let first = rng.gen_range(0..n);
    centers.extend_from_slice(points.row(first));
    let mut closest: Vec<f64> = points.rows().map(|p| dist_sq(p, points.row(first))).collect();
    let mut potential: f64 = closest.iter().sum();
    for _ in 1..k {
        let mut cumulative = Vec::with_capacity(n);
        let mut acc = 0.0;
        for d in &closest {
            acc += d;
            cumulative.push(acc);
        }
        let mut best: Option<(f64, usize, Vec<f64>)> = None;
        for _ in 0..trials {
            let target = rng.gen::<f64>() * potential;
            let candidate = cumulative.partition_point(|c| *c < target).min(n - 1);
            let c = points.row(candidate);
            let dists: Vec<f64> = points.rows().zip(&closest).map(|(p, old)| dist_sq(p, c).min(*old)).collect();
            let pot: f64 = dists.iter().sum();
            if best.as_ref().is_none_or(|(b, _, _)| pot < *b) {
                best = Some((pot, candidate, dists));
            }
        }
        let (pot, candidate, dists) = best.expect("at least two trials");
        centers.extend_from_slice(points.row(candidate));
        closest = dists;
        potential = pot;
    }
    Points::new(points.dims, centers)
}

/// The nearest centroid of `p` (the first on ties) and the squared distance.
fn nearest(p: &[f64], centers: &Points) -> (usize, f64) {
    let mut best = (0, f64::INFINITY);
    for (c, centre) in centers.rows().enumerate() {
        let d = dist_sq(p, centre);
        if d < best.1 {
            best = (c, d);
        }
    }
    best
}

/// Lloyd iterations from `init`, until the labels stop changing or the
/// centroids move (in total squared distance) no more than `tol`.
pub fn lloyd(points: &Points, init: Points, max_iter: usize, tol: f64) -> KMeans {
    let k = init.len();
    let d = points.dims;
    let n = points.len();
    let mut centers = init;
    let mut labels = vec![usize::MAX; n];
    let mut old = labels.clone();
    let mut strict = false;
    let mut iterations = 0;
    for _ in 0..max_iter {
        iterations += 1;
        let mut sums = vec![0.0; k * d];
        let mut counts = vec![0usize; k];
        let mut far = Vec::with_capacity(n);
        for (i, p) in points.rows().enumerate() {
            let (c, dist) = nearest(p, &centers);
            labels[i] = c;
            far.push(dist);
            counts[c] += 1;
            for j in 0..d {
                sums[c * d + j] += p[j];
            }
        }
        relocate_empty(points, &labels, &mut far, &mut sums, &mut counts, d);
        let mut new = centers.clone();
        for c in 0..k {
            if counts[c] > 0 {
                for j in 0..d {
                    new.data[c * d + j] = sums[c * d + j] / counts[c] as f64;
                }
            }
        }
        let shift: f64 = new.rows().zip(centers.rows()).map(|(a, b)| dist_sq(a, b)).sum();
        centers = new;
        if labels == old {
            strict = true;
            break;
        }
        if shift <= tol {
            break;
        }
        old.clone_from(&labels);
    }
    if !strict {
        // The labels of the last centroids, as scikit-learn gives them.
        for (i, p) in points.rows().enumerate() {
            labels[i] = nearest(p, &centers).0;
        }
    }
    let inertia = points.rows().zip(&labels).map(|(p, c)| dist_sq(p, centers.row(*c))).sum();
    KMeans { centroids: centers, labels, inertia, iterations }
}

/// An empty cluster takes the point farthest from its centroid (the
/// farthest for the first empty cluster, and so on), which leaves its old
/// cluster; `labels` keep the assignment, as in scikit-learn.
fn relocate_empty(points: &Points, labels: &[usize], far: &mut [f64], sums: &mut [f64], counts: &mut [usize], d: usize) {
    let empty: Vec<usize> = (0..counts.len()).filter(|c| counts[*c] == 0).collect();
    if empty.is_empty() {
        return;
    }
    let mut order: Vec<usize> = (0..far.len()).collect();
    order.sort_by(|a, b| far[*b].total_cmp(&far[*a]).then(a.cmp(b)));
    for (e, i) in empty.into_iter().zip(order) {
        let p = points.row(i);
        let from = labels[i];
        for j in 0..d {
            sums[from * d + j] -= p[j];
            sums[e * d + j] = p[j];
        }
        counts[from] -= 1;
        counts[e] = 1;
        far[i] = 0.0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn blobs() -> Points {
        // Three tight groups around (0,0), (10,0) and (0,10).
        let mut data = Vec::new();
        for (cx, cy) in [(0.0, 0.0), (10.0, 0.0), (0.0, 10.0)] {
            for (dx, dy) in [(0.0, 0.0), (1.0, 0.0), (0.0, 1.0), (-1.0, 0.0), (0.0, -1.0)] {
                data.extend([cx + dx, cy + dy]);
            }
        }
        Points::new(2, data)
    }

    #[test]
    fn finds_well_separated_blobs_from_any_seed() {
        let p = blobs();
        for seed in 0..20 {
            let m = kmeans(&p, 3, seed, 4);
            for g in 0..3 {
                let l = m.labels[g * 5];
                assert!(m.labels[g * 5..g * 5 + 5].iter().all(|x| *x == l), "seed {seed}: {:?}", m.labels);
            }
            assert!((m.inertia - 12.0).abs() < 1e-9, "seed {seed}: inertia {}", m.inertia);
        }
    }

    #[test]
    fn an_empty_cluster_takes_the_farthest_point() {
        let p = Points::new(1, vec![0.0, 1.0, 10.0]);
        // The second centroid is nearest to nothing.
        let m = lloyd(&p, Points::new(1, vec![1.0, 100.0]), MAX_ITER, 0.0);
        assert_eq!(m.labels, vec![0, 0, 1]);
        assert_eq!(m.centroids.data, vec![0.5, 10.0]);
    }
}
