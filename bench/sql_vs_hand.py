"""The DuckDB statements `audience sql` prints (self-contained, and with
`--stage`), timed against the
hand-written DuckDB SQL of bench/segments.sql over the same generated
Parquet files, and their members compared. Writes its section of
BENCHMARKS.md between the markers below.

    python3 bench/sql_vs_hand.py --contacts 1000000 --runs 3

Both sides run as a DuckDB process from Python and write one CSV per
segment. The generated side reads the relations as a warehouse would hold
them (typed and trimmed: `audience sql --relations` writes them from the
generator's files); the hand-written side reads the generator's files and
cleans them itself. Key normalisation, deduplication and every aggregate
of the generated side are in the generated SQL. The hand-written side also
writes the RFM scores and classes (bench/duckdb_run.py), which the
generated side computes only inside the RFM segments.
"""
import argparse
import csv
import glob
import os
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run as bench  # noqa: E402

BEGIN = "<!-- sql: written by bench/sql_vs_hand.py -->"
END = "<!-- sql: end -->"

RUNNER = r'''
import duckdb, glob, os, sys
rel, sql_dir, out = sys.argv[1:4]
con = duckdb.connect()
for f in sorted(glob.glob(os.path.join(rel, "*.parquet"))):
    con.execute(f"CREATE VIEW {os.path.basename(f)[:-8]} AS SELECT * FROM read_parquet('{f}')")
os.makedirs(out, exist_ok=True)
# `--stage`: the shared table first, then the segments that read it.
for f in glob.glob(os.path.join(sql_dir, "*.stage.sql")):
    con.execute(open(f, encoding="utf-8").read())
for f in sorted(glob.glob(os.path.join(sql_dir, "*.sql"))):
    if f.endswith(".stage.sql"):
        continue
    alias = os.path.basename(f)[:-4]
    stmt = open(f, encoding="utf-8").read().strip().rstrip(";")
    con.execute(f"COPY ({stmt}) TO '{out}/{alias}.csv' (FORMAT csv, HEADER)")
'''


def keys(path: str) -> list[str]:
    with open(path, newline="", encoding="utf-8-sig") as f:
        return sorted(r[0] for r in list(csv.reader(f))[1:])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--contacts", type=int, default=1_000_000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--work", default="/tmp/audience-bench")
    ap.add_argument("--audience", default=os.path.join(os.environ.get("CARGO_TARGET_DIR", os.path.join(bench.REPO, "target")), "debug", "audience"),
                    help="the binary that prints the SQL (its speed is not measured)")
    ap.add_argument("--bin-dir", help="where audience-gen is, if the data must be generated")
    ap.add_argument("--no-build", action="store_true", default=True)
    ap.add_argument("--regenerate", action="store_true")
    ap.add_argument("--orders-per-contact", type=float, default=10)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--as-of", default="2025-11-30")
    ap.add_argument("--report", default=os.path.join(bench.REPO, "BENCHMARKS.md"))
    args = ap.parse_args()
    _, gen = bench.binaries(args) if args.bin_dir else (None, None)
    data = bench.generate(gen, args.contacts, "parquet", args)
    paths = bench.write_project(args.contacts, "parquet", data, args)
    sql_dir = os.path.join(paths["dir"], "sql-duckdb")
    rel_dir = os.path.join(paths["dir"], "relations")
    res = subprocess.run([args.audience, "--project", paths["all"], "sql", "--dialect", "duckdb", "-o", sql_dir, "--relations", rel_dir],
                         capture_output=True, text=True)
    if res.returncode != 0:
        bench.die(f"audience sql failed:\n{res.stderr[-3000:]}")
    n = len(glob.glob(os.path.join(sql_dir, "*.sql")))
    staged_dir = os.path.join(paths["dir"], "sql-duckdb-staged")
    res = subprocess.run([args.audience, "--project", paths["all"], "sql", "--dialect", "duckdb", "--stage", "audience_stage", "-o", staged_dir],
                         capture_output=True, text=True)
    if res.returncode != 0:
        bench.die(f"audience sql --stage failed:\n{res.stderr[-3000:]}")
    gen_out, hand_out = os.path.join(paths["dir"], "sql-out"), os.path.join(paths["dir"], "hand-out")
    staged_out = os.path.join(paths["dir"], "sql-staged-out")
    runner = os.path.join(paths["dir"], "run_generated.py")
    open(runner, "w").write(RUNNER)
    times = {"generated": [], "staged": [], "hand": []}
    for i in range(args.runs + 1):
        for name, cmd in (("generated", [sys.executable, runner, rel_dir, sql_dir, gen_out]),
                          ("staged", [sys.executable, runner, rel_dir, staged_dir, staged_out]),
                          ("hand", [sys.executable, os.path.join(bench.HERE, "duckdb_run.py"), "--data", data["dir"], "--format", "parquet",
                                    "--out", hand_out, "--as-of", args.as_of])):
            t0 = time.perf_counter()
            r = subprocess.run(cmd, capture_output=True, text=True)
            wall = time.perf_counter() - t0
            if r.returncode != 0:
                bench.die(f"{name} failed:\n{r.stderr[-3000:]}")
            bench.log(f"run {i}: {name} {wall:.2f} s")
            if i > 0:
                times[name].append(wall)
    same, differ = 0, []
    for f in sorted(glob.glob(os.path.join(gen_out, "*.csv"))):
        alias = os.path.basename(f)[:-4]
        hand, staged = os.path.join(hand_out, f"{alias}.csv"), os.path.join(staged_out, f"{alias}.csv")
        if not os.path.exists(hand) or not os.path.exists(staged):
            differ.append(f"{alias} (no list on one side)")
        elif keys(f) == keys(hand) == keys(staged):
            same += 1
        else:
            differ.append(alias)
    g, st, h = (statistics.median(times[k]) for k in ("generated", "staged", "hand"))
    lines = [
        BEGIN,
        "## `audience sql` against hand-written DuckDB SQL",
        "",
        f"- Command: `python3 bench/sql_vs_hand.py --contacts {args.contacts} --runs {args.runs}` "
        f"({time.strftime('%Y-%m-%d %H:%M', time.gmtime())} UTC; load average {os.getloadavg()[0]:.2f})",
        f"- Work: the {n} segments of the benchmark over `audience-gen --contacts {args.contacts}` Parquet files, one CSV per segment; "
        "DuckDB in a Python process for each side, medians after a warm-up",
        "",
        "| contender | median | runs (s) |",
        "| --- | ---: | --- |",
        f"| `audience sql --dialect duckdb --stage audience_stage`: the stage, then {n} statements over it | {st:.2f} s | {' '.join(f'{t:.2f}' for t in times['staged'])} |",
        f"| `audience sql --dialect duckdb`: {n} self-contained statements | {g:.2f} s | {' '.join(f'{t:.2f}' for t in times['generated'])} |",
        f"| bench/segments.sql (hand-written, plus RFM scores) | {h:.2f} s | {' '.join(f'{t:.2f}' for t in times['hand'])} |",
        f"| **staged ÷ hand-written** | **{st / h:.2f}×** (target ≤ 1.2) | |",
        f"| self-contained ÷ hand-written | {g / h:.2f}× | |",
        "",
        f"Members: {same} of {n} segments have the same keys on all three sides" + (f"; differ: {', '.join(differ)}" if differ else "") + ".",
        END,
    ]
    bench.write_section(args.report, BEGIN, END, lines, "sql")


if __name__ == "__main__":
    main()
