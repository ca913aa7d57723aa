"""Benchmark of `audience clusters` (issue: clusters): k-means with k = 5 on
four features of 1M generated contacts, the fit and the assignment file
timed apart from loading, beside scikit-learn's KMeans on the same matrix
(read back from the assignment's keys and a DuckDB query of the features,
so both fit the same numbers). Writes its section of BENCHMARKS.md
between the markers below, leaving the rest of the file as it is.

    python3 bench/clusters.py                 # 1M contacts, 3 runs
    python3 bench/clusters.py --contacts 100000 --runs 1 --no-build

Needs the release binaries (built unless --no-build) and, for the
scikit-learn column, `pip install scikit-learn duckdb`.
"""
import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run as bench  # noqa: E402  (the data generator and the build helpers)

BEGIN = "<!-- clusters: written by bench/clusters.py -->"
END = "<!-- clusters: end -->"
FEATURES = ["total_spent", "order_count", "days_since_last_order", "campaign_opens"]


def project(data: dict, args) -> str:
    proj = os.path.join(args.work, "proj", f"clusters-{args.contacts}")
    os.makedirs(os.path.join(proj, "segments"), exist_ok=True)
    yaml = bench.PROJECT_YAML.format(data=os.path.abspath(data["dir"]), ext="parquet", output="out", as_of=args.as_of)
    yaml += f"clusters:\n  features: [{', '.join(FEATURES)}]\n  k: {args.k}\n  seed: 7\n  only: {{field: order_count, op: gte, value: 1}}\n"
    path = os.path.join(proj, "audience.yaml")
    open(path, "w", encoding="utf-8").write(yaml)
    return proj


def timings(stderr: str) -> dict:
    """The phases `AUDIENCE_TIMINGS=1` printed, in seconds."""
    out = {}
    for m in re.finditer(r"^timing: ([a-z ]+?) ([0-9.]+) s", stderr, re.M):
        out[m.group(1)] = float(m.group(2))
    return out


def sklearn_fit(proj: str, data: dict, args) -> tuple[float | None, str]:
    """scikit-learn's KMeans (k-means++, n_init 4, lloyd) on the same
    z-scored features, computed by DuckDB from the generated files."""
    try:
        import duckdb
        import numpy as np
        from sklearn.cluster import KMeans
    except ImportError as e:
        return None, f"not run: {e.name} is not installed (pip install scikit-learn duckdb)"
    d = os.path.abspath(data["dir"])
    q = f"""
        with o as (
          select lower(trim(email)) as k, count(distinct order_id) as n, sum(amount) as spent, max(ordered_at)::date as last
          from '{d}/orders.parquet' where status not in ('refunded', 'not validated') or status is null group by 1),
        c as (select lower(trim(email)) as k, count(*) filter (where opened) as opens from '{d}/campaigns.parquet' group by 1)
        select o.spent, o.n, date '{args.as_of}' - o.last, coalesce(c.opens, 0) from o left join c using (k) where o.n >= 1
    """
    x = np.array(duckdb.sql(q).fetchall(), dtype=float)
    x = (x - x.mean(axis=0)) / x.std(axis=0)
    times = []
    for _ in range(args.runs):
        t0 = time.perf_counter()
        KMeans(n_clusters=args.k, n_init=4, random_state=7, algorithm="lloyd").fit(x)
        times.append(time.perf_counter() - t0)
    return statistics.median(times), f"{len(x):,} rows (DuckDB's approximation of the same features)"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--contacts", type=int, default=1_000_000)
    ap.add_argument("--k", type=int, default=5)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--work", default="/tmp/audience-bench")
    ap.add_argument("--bin-dir")
    ap.add_argument("--no-build", action="store_true")
    ap.add_argument("--regenerate", action="store_true")
    ap.add_argument("--orders-per-contact", type=float, default=10)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--as-of", default="2025-11-30")
    ap.add_argument("--report", default=os.path.join(bench.REPO, "BENCHMARKS.md"))
    args = ap.parse_args()
    aud, gen = bench.binaries(args)
    data = bench.generate(gen, args.contacts, "parquet", args)
    proj = project(data, args)
    assign = os.path.join(proj, "out", "clusters.parquet")
    env = dict(os.environ, AUDIENCE_TIMINGS="1")
    runs = []
    for i in range(args.runs + 1):
        t0 = time.perf_counter()
        res = subprocess.run([aud, "--project", proj, "clusters", "--format", "json", "--assign", assign], capture_output=True, text=True, env=env)
        wall = time.perf_counter() - t0
        if res.returncode != 0:
            bench.die(f"audience clusters failed:\n{res.stderr}")
        t = timings(res.stderr)
        summary = json.loads(res.stdout)
        bench.log(f"run {i}: {wall:.2f} s wall, clusters {t.get('clusters')} s, assignment {t.get('write assignment')} s")
        if i > 0:  # the first run warms the file cache
            runs.append({"wall": wall, "fit": t["clusters"], "write": t["write assignment"], "load": t.get("load", 0.0), "features": t.get("features", 0.0)})
    med = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
    sk, sk_note = sklearn_fit(proj, data, args)
    sizes = ", ".join(f"{c['contacts']:,}" for c in summary["clusters"])
    lines = [
        BEGIN,
        "## Clusters",
        "",
        f"- Command: `python3 bench/clusters.py --contacts {args.contacts} --k {args.k} --runs {args.runs}` "
        f"({time.strftime('%Y-%m-%d %H:%M', time.gmtime())} UTC; load average {os.getloadavg()[0]:.2f})",
        f"- Work: `audience clusters --assign clusters.parquet` on `audience-gen --contacts {args.contacts}` Parquet files: "
        f"k-means, k = {args.k}, {len(FEATURES)} features ({', '.join(FEATURES)}), z-scores, best of 4 k-means++ starts, "
        f"the {summary['clustered']:,} buyers; silhouette on a sample of {summary['silhouette_sample'] or summary['clustered']:,}",
        f"- Result: clusters of {sizes} contacts; silhouette {summary['silhouette']:.3f}, Davies–Bouldin {summary['davies_bouldin']:.3f}",
        "",
        "| phase | median of " + str(args.runs) + " |",
        "| --- | ---: |",
        f"| fit (k-means ×4, numbering, silhouette, Davies–Bouldin) and the `cluster` column | {med['fit']:.2f} s |",
        f"| writing the assignment (key, cluster, distance) | {med['write']:.2f} s |",
        f"| **fit and assign** | **{med['fit'] + med['write']:.2f} s** (target: under 10 s) |",
        f"| loading the exports, feature query | {med['load']:.2f} s, {med['features']:.2f} s |",
        f"| whole command, wall | {med['wall']:.2f} s |",
        f"| scikit-learn {__import__('sklearn').__version__ if sk is not None else ''} `KMeans(k={args.k}, n_init=4)` fit alone | "
        + (f"{sk:.2f} s, {sk_note} |" if sk is not None else f"{sk_note} |"),
        END,
    ]
    bench.write_section(args.report, BEGIN, END, lines, "clusters")


if __name__ == "__main__":
    main()
