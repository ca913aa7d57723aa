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

// ---- the project section, the field and the command ----

use crate::util::Work;

/// Two obvious groups of contacts: big spenders (a–d) and small ones (e–i),
/// plus j, who has no `spent`, and k, whom `only` leaves out.
fn two_groups(clusters: &str) -> Work {
    let w = Work::project(
        "email,spent,visits,city\n\
         a@x.fr,1000,20,Lyon\nb@x.fr,1100,22,Lyon\nc@x.fr,950,19,Paris\nd@x.fr,1050,21,Lyon\n\
         e@x.fr,10,1,Lyon\nf@x.fr,12,2,Paris\ng@x.fr,8,1,Lyon\nh@x.fr,11,1,Paris\ni@x.fr,9,2,Lyon\n\
         j@x.fr,,3,Lyon\nk@x.fr,500,10,Nice\n",
        "",
        &[],
    );
    let project = w.read("audience.yaml");
    w.file("audience.yaml", &format!("{project}{clusters}"));
    w
}

const TWO: &str = "clusters:\n  features: [spent, visits]\n  k: 2\n  seed: 3\n  only: {field: city, op: neq, value: Nice}\n";

#[test]
fn the_cluster_field_exports_the_contacts_of_that_cluster() {
    let w = two_groups(TWO);
    w.file("segments/big.yaml", "name: Big\nwhere: {field: cluster, op: eq, value: 1}\nexport: {columns: [email, cluster, spent]}\n");
    w.file("segments/small.yaml", "name: Small\nwhere: {field: cluster, op: eq, value: 2}\n");
    w.file("segments/none.yaml", "name: None\nwhere: {field: cluster, op: is_empty}\n");
    // Cluster 1 is the one of highest mean first feature (spent).
    assert_eq!(w.members("big"), vec!["a@x.fr", "b@x.fr", "c@x.fr", "d@x.fr"]);
    assert_eq!(w.read("out/big.csv"), "email,cluster,spent\na@x.fr,1,1000\nb@x.fr,1,1100\nc@x.fr,1,950\nd@x.fr,1,1050\n");
    assert_eq!(w.members("small"), vec!["e@x.fr", "f@x.fr", "g@x.fr", "h@x.fr", "i@x.fr"]);
    // j misses a feature value, k is not admitted by `only`.
    assert_eq!(w.members("none"), vec!["j@x.fr", "k@x.fr"]);
}

#[test]
fn impute_median_keeps_contacts_with_a_missing_value() {
    let w = two_groups(&format!("{TWO}  impute: median\n"));
    w.file("segments/none.yaml", "name: None\nwhere: {field: cluster, op: is_empty}\n");
    w.file("segments/small.yaml", "name: Small\nwhere: {field: cluster, op: eq, value: 2}\n");
    assert_eq!(w.members("none"), vec!["k@x.fr"]);
    // j's spent becomes the median of the admitted spends (the fifth of nine: 12), so j is small.
    assert!(w.members("small").contains(&"j@x.fr".to_string()));
}

#[test]
fn clusters_prints_sizes_means_and_both_scores() {
    let w = two_groups(TWO);
    let out = w.run(&["clusters"]);
    out.ok()
        .stdout_has("k-means, k = 2, seed 3")
        .stdout_has("clustered 9 of 11 contacts: 10 admitted by `only`; 1 left out for a missing feature value")
        .stdout_has("1025 ± 64.55")
        .stdout_has("silhouette 0.")
        .stdout_has("Davies–Bouldin 0.");
    let json: serde_json::Value = serde_json::from_str(&w.run(&["clusters", "--format", "json"]).stdout).unwrap();
    assert_eq!(json["k"], 2);
    assert_eq!(json["clustered"], 9);
    assert_eq!(json["left_out"], 1);
    assert_eq!(json["clusters"][0]["contacts"], 4);
    assert_eq!(json["clusters"][1]["features"]["visits"]["mean"], 1.4);
    // The scores are those of the labels on the scaled features.
    let s = json["silhouette"].as_f64().unwrap();
    assert!(s > 0.9 && s <= 1.0, "{s}");
    w.run(&["clusters", "--assign", "out/assign.csv", "--plot", "out/c.svg"]).ok();
    let assign = w.read("out/assign.csv");
    assert!(assign.starts_with("email,cluster,distance\na@x.fr,1,"), "{assign}");
    assert_eq!(assign.lines().count(), 10);
    assert!(w.read("out/c.svg").contains("cluster 1 (4)"));
    w.run(&["clusters", "--assign", "out/assign.xlsx"]).code(2).stderr_has(".csv, .parquet or .jsonl");
}

#[test]
fn a_range_of_k_prints_each_k_and_the_chosen_one() {
    let w = two_groups("clusters:\n  features: [spent, visits]\n  k: [2, 4]\n");
    let out = w.run(&["clusters"]);
    out.ok().stdout_has("k by silhouette").stdout_has("◀ chosen");
    let json: serde_json::Value = serde_json::from_str(&w.run(&["clusters", "--format", "json"]).stdout).unwrap();
    let ks: Vec<u64> = json["trials"].as_array().unwrap().iter().map(|t| t["k"].as_u64().unwrap()).collect();
    assert_eq!(ks, vec![2, 3, 4]);
}

#[test]
fn check_rejects_a_text_feature_an_unknown_field_and_a_k_below_two() {
    let w = two_groups("clusters:\n  features: [spent, city, spnt]\n");
    w.run(&["check"])
        .code(1)
        .stderr_has("audience.yaml:")
        .stderr_has("feature `city` is text, and clusters are fitted on numbers")
        .stderr_has("no field `spnt`")
        .stderr_has("`spent`");
    let w = two_groups("clusters:\n  features: [spent]\n  k: 1\n");
    w.run(&["check"]).code(1).stderr_has("`k` is a whole number of at least 2, found 1");
    let w = two_groups("clusters:\n  features: [spent]\n  k: [5, 3]\n");
    w.run(&["check"]).code(1).stderr_has("2 <= lo <= hi");
    let w = two_groups("clusters:\n  features: [spent]\n  method: dbscan\n  k: 3\n");
    w.run(&["check"]).code(1).stderr_has("DBSCAN finds the number of clusters itself");
}

#[test]
fn the_cluster_field_without_a_clusters_section_is_an_error() {
    let w = two_groups("");
    w.file("segments/big.yaml", "name: Big\nwhere: {field: cluster, op: eq, value: 1}\n");
    w.run(&["check"]).code(1).stderr_has("the field `cluster` needs a `clusters:` section in audience.yaml");
    w.run(&["clusters"]).code(1).stderr_has("no `clusters:` section");
}

#[test]
fn dbscan_leaves_sparse_contacts_as_noise() {
    let w = two_groups("clusters:\n  features: [spent, visits]\n  method: dbscan\n  dbscan: {eps: 0.5, min_samples: 3}\n");
    w.file("segments/noise.yaml", "name: Noise\nwhere: {field: cluster, op: eq, value: 0}\n");
    w.file("segments/big.yaml", "name: Big\nwhere: {field: cluster, op: eq, value: 1}\n");
    // k (500, 10) lies between the groups, alone.
    assert_eq!(w.members("noise"), vec!["k@x.fr"]);
    assert_eq!(w.members("big"), vec!["a@x.fr", "b@x.fr", "c@x.fr", "d@x.fr"]);
    w.run(&["clusters"]).ok().stdout_has("DBSCAN, eps 0.5, min_samples 3").stdout_has("noise");
}
