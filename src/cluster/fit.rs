//! One clustering as a project asks for it: scale, fit (choosing k by
//! silhouette when given a range), number the clusters stably, score.

use super::{davies_bouldin, dbscan, dist_sq, kmeans, sample, silhouette, stable_numbers, Points, Scale, Scaling};

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Method {
    KMeans,
    Dbscan { eps: f64, min_samples: usize },
}

/// The model's settings (`clusters:` less the features and `only`).
#[derive(Clone, Debug, PartialEq)]
pub struct Settings {
    pub scale: Scale,
    /// The k tried, lowest to highest (the same twice for a fixed k).
    pub k: (usize, usize),
    pub method: Method,
    pub seed: u64,
    /// k-means runs from different seeds; the lowest inertia wins.
    pub n_init: usize,
    /// Points the silhouette is computed on, drawn with the seed.
    pub silhouette_sample: usize,
}

/// The scores of one k of a range.
#[derive(Clone, Debug, PartialEq)]
pub struct Trial {
    pub k: usize,
    pub silhouette: Option<f64>,
    pub davies_bouldin: Option<f64>,
    pub inertia: f64,
}

#[derive(Clone, Debug)]
pub struct Fit {
    pub scaling: Scaling,
    /// Per point: its cluster, numbered from 1 by the stable rule; 0 is
    /// DBSCAN's noise.
    pub labels: Vec<usize>,
    /// Number of clusters (noise not counted).
    pub k: usize,
    /// Centroid of cluster `c` (row `c - 1`), in scaled units.
    pub centroids: Points,
    /// Per point: the distance to its cluster's centroid in scaled units
    /// (None for noise).
    pub distance: Vec<Option<f64>>,
    /// k-means' sum of squared distances (also computed for DBSCAN's clusters).
    pub inertia: f64,
    pub silhouette: Option<f64>,
    pub davies_bouldin: Option<f64>,
    /// Some(n): the silhouette was computed on a sample of n points.
    pub sampled: Option<usize>,
    /// The k of a range, each with its scores.
    pub trials: Vec<Trial>,
}

/// Fits `original` (points in the features' own units).
pub fn fit(original: &Points, s: &Settings) -> Result<Fit, String> {
    let n = original.len();
    let scaling = Scaling::fit(original, s.scale);
    let points = scaling.apply(original);
    let idx = sample(n, s.silhouette_sample, s.seed);
    let sampled = (idx.len() < n).then_some(idx.len());
    let score = |labels: &[Option<usize>]| -> (Option<f64>, Option<f64>) {
        let kept: Vec<usize> = (0..n).filter(|i| labels[*i].is_some()).collect();
        let sub = points.select(&kept);
        let lab: Vec<usize> = kept.iter().map(|i| labels[*i].unwrap_or(0)).collect();
        let db = davies_bouldin(&sub, &lab);
        let in_sample: Vec<usize> = idx.iter().copied().filter(|i| labels[*i].is_some()).collect();
        let sil = silhouette(&points.select(&in_sample), &in_sample.iter().map(|i| labels[*i].unwrap_or(0)).collect::<Vec<_>>());
        (sil, db)
    };
    let (raw, k, trials): (Vec<Option<usize>>, usize, Vec<Trial>) = match s.method {
        Method::KMeans => {
            if n < s.k.0 {
                return Err(format!("{n} contacts cannot make {} clusters", s.k.0));
            }
            let mut best: Option<(f64, Vec<Option<usize>>, usize)> = None;
            let mut trials = Vec::new();
            for k in s.k.0..=s.k.1.min(n) {
                let m = kmeans(&points, k, s.seed, s.n_init);
                let labels: Vec<Option<usize>> = m.labels.iter().map(|l| Some(*l)).collect();
                let (sil, db) = if s.k.0 == s.k.1 { (None, None) } else { score(&labels) };
                trials.push(Trial { k, silhouette: sil, davies_bouldin: db, inertia: m.inertia });
                // The highest silhouette wins; ties go to the smaller k.
                let key = sil.unwrap_or(f64::NEG_INFINITY);
                if best.as_ref().is_none_or(|(b, _, _)| key > *b) {
                    best = Some((key, labels, k));
                }
            }
            let (_, labels, k) = best.expect("k range checked");
            (labels, k, if s.k.0 == s.k.1 { Vec::new() } else { trials })
        }
        Method::Dbscan { eps, min_samples } => {
            let labels = dbscan(&points, eps, min_samples);
            let k = labels.iter().flatten().max().map_or(0, |m| m + 1);
            (labels, k, Vec::new())
        }
    };
    let numbers = stable_numbers(original, &raw, k);
    let labels: Vec<usize> = raw.iter().map(|l| l.map_or(0, |l| numbers[l])).collect();
    let d = points.dims;
    let mut sums = vec![0.0; k * d];
    let mut sizes = vec![0usize; k];
    for (p, l) in points.rows().zip(&labels) {
        if *l > 0 {
            sizes[l - 1] += 1;
            for j in 0..d {
                sums[(l - 1) * d + j] += p[j];
            }
        }
    }
    let centroids = Points::new(d.max(1), sums.iter().enumerate().map(|(i, x)| x / sizes[i / d].max(1) as f64).collect());
    let distance: Vec<Option<f64>> = points.rows().zip(&labels).map(|(p, l)| (*l > 0).then(|| dist_sq(p, centroids.row(l - 1)).sqrt())).collect();
    let inertia = distance.iter().flatten().map(|x| x * x).sum();
    // A range scored each k already; renumbering keeps the partition, so
    // the chosen k's scores stand.
    let (silhouette, davies_bouldin) = match trials.iter().find(|t| t.k == k) {
        Some(t) => (t.silhouette, t.davies_bouldin),
        None => score(&labels.iter().map(|l| (*l > 0).then_some(*l)).collect::<Vec<_>>()),
    };
    Ok(Fit { scaling, labels, k, centroids, distance, inertia, silhouette, davies_bouldin, sampled, trials })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(k: (usize, usize)) -> Settings {
        Settings { scale: Scale::Standard, k, method: Method::KMeans, seed: 7, n_init: 4, silhouette_sample: 10_000 }
    }

    fn three_groups() -> Points {
        let mut data = Vec::new();
        for (x, y) in [(100.0, 1.0), (50.0, 8.0), (10.0, 3.0)] {
            for i in 0..10 {
                data.extend([x + (i % 3) as f64, y + (i % 2) as f64 * 0.1]);
            }
        }
        Points::new(2, data)
    }

    #[test]
    fn a_range_of_k_chooses_the_best_silhouette_and_numbers_by_the_first_feature() {
        let f = fit(&three_groups(), &settings((2, 5))).unwrap();
        assert_eq!(f.k, 3);
        assert_eq!(f.trials.iter().map(|t| t.k).collect::<Vec<_>>(), vec![2, 3, 4, 5]);
        // The group of highest first feature is cluster 1.
        assert_eq!(&f.labels[..10], &[1; 10]);
        assert_eq!(&f.labels[10..20], &[2; 10]);
        assert_eq!(&f.labels[20..], &[3; 10]);
        assert!(f.silhouette.unwrap() > 0.9 && f.sampled.is_none());
    }

    #[test]
    fn the_same_data_and_seed_give_the_same_clusters() {
        let a = fit(&three_groups(), &settings((3, 3))).unwrap();
        let b = fit(&three_groups(), &settings((3, 3))).unwrap();
        assert_eq!(a.labels, b.labels);
        assert_eq!(a.centroids, b.centroids);
        assert!(a.trials.is_empty());
    }

    #[test]
    fn too_few_points_for_k_is_an_error() {
        assert_eq!(fit(&Points::new(1, vec![1.0, 2.0]), &settings((3, 3))).unwrap_err(), "2 contacts cannot make 3 clusters");
    }
}
