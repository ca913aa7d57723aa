"""Writes tests/sklearn/reference.json: scikit-learn's answers on small
fixtures, which `cargo test` (tests/cli/clusters.rs) compares the `cluster`
module with. Regenerate after changing a fixture:

    pip install scikit-learn numpy && python3 tests/sklearn/reference.py

Coordinates are whole numbers, so scikit-learn's expanded distance formula
is exact on them and the scores can be compared to 1e-9.
"""
import json
import pathlib

import numpy as np
import sklearn
from sklearn.cluster import DBSCAN, KMeans
from sklearn.metrics import davies_bouldin_score, silhouette_score

rng = np.random.default_rng(20261203)


def blobs(centres, sizes, spread):
    parts = [np.round(rng.normal(c, spread, size=(n, len(c)))) for c, n in zip(centres, sizes)]
    return np.vstack(parts)


cases = []

# Three blobs in 3 dimensions, of unequal sizes.
X = blobs([(0, 0, 0), (40, 5, -10), (-20, 30, 10)], [30, 20, 12], 4.0)
truth = np.repeat([0, 1, 2], [30, 20, 12])
label_sets = {
    "truth": truth,
    "random": rng.integers(0, 4, size=len(X)),
    "singleton": np.where(np.arange(len(X)) == 5, 3, truth),
    "two": (X[:, 0] > 10).astype(int),
}
init = np.array([[5.0, 1.0, 2.0], [30.0, 0.0, 0.0], [-10.0, 20.0, 0.0]])
km = KMeans(n_clusters=3, init=init, n_init=1, algorithm="lloyd").fit(X)
# A start that puts two centroids in one blob, so Lloyd has work to do.
init_far = np.array([[0.0, 0.0, 0.0], [2.0, 2.0, 2.0], [40.0, 5.0, -10.0]])
km_far = KMeans(n_clusters=3, init=init_far, n_init=1, algorithm="lloyd").fit(X)
# A start with two centroids in one blob and one between the others: a local optimum.
init_split = np.array([[0.0, 0.0, 0.0], [1.0, 1.0, 1.0], [10.0, 17.0, 0.0]])
km_split = KMeans(n_clusters=3, init=init_split, n_init=1, algorithm="lloyd").fit(X)
db = DBSCAN(eps=6.0, min_samples=4).fit(X)
cases.append(
    {
        "name": "three blobs",
        "points": X.tolist(),
        "scores": [
            {
                "labels": labels.tolist(),
                "label_set": name,
                "silhouette": silhouette_score(X, labels),
                "davies_bouldin": davies_bouldin_score(X, labels),
            }
            for name, labels in label_sets.items()
        ],
        "kmeans": [
            {"init": i.tolist(), "labels": m.labels_.tolist(), "centroids": m.cluster_centers_.tolist(), "inertia": m.inertia_}
            for i, m in [(init, km), (init_far, km_far), (init_split, km_split)]
        ],
        "dbscan": {"eps": 6.0, "min_samples": 4, "labels": db.labels_.tolist()},
    }
)

# Two identical points, and a cluster made only of them.
Y = np.array([[0, 0], [0, 0], [5, 5], [6, 5], [5, 6], [20, 20], [21, 20]], dtype=float)
sets = {"pair apart": np.array([0, 0, 1, 1, 1, 2, 2]), "pair split": np.array([0, 1, 1, 1, 1, 2, 2])}
cases.append(
    {
        "name": "identical points",
        "points": Y.tolist(),
        "scores": [
            {
                "labels": labels.tolist(),
                "label_set": name,
                "silhouette": silhouette_score(Y, labels),
                "davies_bouldin": davies_bouldin_score(Y, labels),
            }
            for name, labels in sets.items()
        ],
        "kmeans": [],
        "dbscan": {"eps": 1.5, "min_samples": 2, "labels": DBSCAN(eps=1.5, min_samples=2).fit(Y).labels_.tolist()},
    }
)

out = pathlib.Path(__file__).with_name("reference.json")
out.write_text(json.dumps({"sklearn": sklearn.__version__, "cases": cases}, indent=1) + "\n")
print(f"wrote {out} with scikit-learn {sklearn.__version__}")
