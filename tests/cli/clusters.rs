//! The `cluster` module against scikit-learn's answers on the fixtures of
//! `tests/sklearn/reference.py` (committed as `reference.json`): scores to
//! 1e-9, and from the same initial centroids, the same k-means labels and
//! centroids; DBSCAN's labels as scikit-learn numbers them.

use audience::cluster::{self, Points};
use serde_json::Value;

fn reference() -> Value {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/sklearn/reference.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn floats(v: &Value) -> Vec<f64> {
    v.as_array()
        .unwrap()
        .iter()
        .flat_map(|x| x.as_array().map(|r| r.iter().map(|y| y.as_f64().unwrap()).collect()).unwrap_or_else(|| vec![x.as_f64().unwrap()]))
        .collect()
}

fn points(v: &Value) -> Points {
    let dims = v[0].as_array().unwrap().len();
    Points::new(dims, floats(v))
}

fn labels(v: &Value) -> Vec<i64> {
    v.as_array().unwrap().iter().map(|x| x.as_i64().unwrap()).collect()
}

fn close(a: f64, b: f64, what: &str) {
    assert!((a - b).abs() <= 1e-9, "{what}: ours {a}, scikit-learn {b} (differ by {:e})", (a - b).abs());
}

#[test]
fn silhouette_and_davies_bouldin_equal_scikit_learn_to_1e_9() {
    let r = reference();
    let mut compared = 0;
    for case in r["cases"].as_array().unwrap() {
        let p = points(&case["points"]);
        for s in case["scores"].as_array().unwrap() {
            let l: Vec<usize> = labels(&s["labels"]).into_iter().map(|x| x as usize).collect();
            let what = format!("{} / {}", case["name"], s["label_set"]);
            close(cluster::silhouette(&p, &l).unwrap(), s["silhouette"].as_f64().unwrap(), &format!("silhouette of {what}"));
            close(cluster::davies_bouldin(&p, &l).unwrap(), s["davies_bouldin"].as_f64().unwrap(), &format!("Davies–Bouldin of {what}"));
            compared += 1;
        }
    }
    assert_eq!(compared, 6, "every label set of the reference is compared");
}

#[test]
fn kmeans_from_given_centroids_equals_scikit_learn() {
    let r = reference();
    let case = &r["cases"][0];
    let p = points(&case["points"]);
    let runs = case["kmeans"].as_array().unwrap();
    assert_eq!(runs.len(), 3);
    for run in runs {
        let init = points(&run["init"]);
        let m = cluster::lloyd(&p, init, cluster::kmeans::MAX_ITER, cluster::kmeans::tolerance(&p));
        let want: Vec<usize> = labels(&run["labels"]).into_iter().map(|x| x as usize).collect();
        assert_eq!(m.labels, want);
        for (a, b) in m.centroids.data.iter().zip(floats(&run["centroids"])) {
            close(*a, b, "centroid coordinate");
        }
        close(m.inertia, run["inertia"].as_f64().unwrap(), "inertia");
    }
}

#[test]
fn dbscan_labels_equal_scikit_learn() {
    let r = reference();
    for case in r["cases"].as_array().unwrap() {
        let p = points(&case["points"]);
        let d = &case["dbscan"];
        let ours: Vec<i64> = cluster::dbscan(&p, d["eps"].as_f64().unwrap(), d["min_samples"].as_u64().unwrap() as usize)
            .into_iter()
            .map(|l| l.map(|l| l as i64).unwrap_or(-1))
            .collect();
        assert_eq!(ours, labels(&d["labels"]), "{}", case["name"]);
    }
}

#[test]
fn kmeans_plus_plus_finds_the_three_blobs_whatever_the_seed() {
    let r = reference();
    let case = &r["cases"][0];
    let p = points(&case["points"]);
    let truth = labels(&case["scores"][0]["labels"]);
    for seed in 0..10 {
        let m = cluster::kmeans(&p, 3, seed, 4);
        // The same partition, whatever the numbering.
        for i in 0..truth.len() {
            for j in 0..truth.len() {
                assert_eq!(truth[i] == truth[j], m.labels[i] == m.labels[j], "seed {seed}: points {i} and {j}");
            }
        }
    }
}
