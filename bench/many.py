#!/usr/bin/env python3
"""The "many segments" workload (issue #11) and its targets table.

    python3 bench/many.py --contacts 1000000 --random 100 --runs 3

Over the generator's data (the sizes and seed of bench/run.py), in Parquet
and in CSV:

1. **Segments.** The 25 segments of the benchmark (bench/run.py) plus
   RANDOM files written by tests/engines/random_segments.py with a fixed
   seed: every operator on every kind of field, table conditions with every
   aggregate and first/last, scopes, metrics, RFM fields, references,
   include/exclude and both purposes, nested all/any/not. The same seed and
   data give the same files.
2. **Contenders**, alternating, under `/usr/bin/time -v`:
   - audience: `audience run` of every segment (AUDIENCE_TIMINGS=1, for the
     write phase);
   - DuckDB: bench/many_duckdb.py running the statements `audience sql
     --dialect duckdb --stage audience_stage` printed (compiled once, not
     timed) over the same files, one CSV per segment: the stage table of
     every aggregate, then one COPY per segment;
   - `audience count` of every segment, and of one (`loyal-100`).
   Both sides' lists are compared key for key.
3. **The rest of the targets table:** the disk's sequential write rate
   (`dd … conv=fdatasync`) beside the rate at which `run` wrote its lists;
   `count` of a segment whose `any:` has 10,000 leaves over 100k contacts;
   and the earlier targets, measured again: 25 segments + `rfm` on CSV
   against bench/segments.sql (bench/run.py's contenders), and `run` of
   every sample segment at 600k contacts.

It writes its section of BENCHMARKS.md between the markers below. Never
part of `cargo test`.
"""
import argparse
import glob
import json
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tests", "engines"))
import run as bench  # noqa: E402
import random_segments  # noqa: E402
from compare import list_keys  # noqa: E402

BEGIN = "<!-- many: written by bench/many.py -->"
END = "<!-- many: end -->"
GiB = 1024 ** 3


def project(n: int, fmt: str, data: dict, seg_dir: str, args) -> dict:
    """WORK/proj/many-N-FMT: the benchmark's settings over the data, with the
    segments of SEG_DIR."""
    proj = os.path.join(args.work, "proj", f"many-{n}-{fmt}")
    os.makedirs(proj, exist_ok=True)
    shutil.rmtree(os.path.join(proj, "segments"), ignore_errors=True)
    shutil.copytree(seg_dir, os.path.join(proj, "segments"))
    yaml = os.path.join(proj, "audience.yaml")
    open(yaml, "w", encoding="utf-8").write(
        bench.PROJECT_YAML.format(data=os.path.abspath(data["dir"]), ext=bench.EXT[fmt], output="out", as_of=args.as_of))
    logs = os.path.join(proj, "logs")
    os.makedirs(logs, exist_ok=True)
    return {"dir": proj, "yaml": yaml, "out": os.path.join(proj, "out"), "duck": os.path.join(proj, "duckdb-out"),
            "sql": os.path.join(proj, "sql"), "logs": logs}


def segments(aud: str, data: dict, args) -> tuple[str, int]:
    """The segment folder: the benchmark's 25 and the random ones, drawn
    from the Parquet data's values (the CSV data holds the same rows)."""
    seg_dir = os.path.join(args.work, "many-segments")
    shutil.rmtree(seg_dir, ignore_errors=True)
    for src, rel in bench.bench_segment_files():
        dst = os.path.join(seg_dir, rel)
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        text = open(src, encoding="utf-8").read()
        open(dst, "w", encoding="utf-8").write(bench.strip_expect(text) if rel.endswith((".yaml", ".yml")) else text)
    p = project(args.contacts, "parquet", data, seg_dir, args)
    rel = os.path.join(args.work, "many-catalogue")
    bench.log("the field catalogue: audience sql --relations, audience fields")
    subprocess.run([aud, "--project", p["yaml"], "sql", "--dialect", "duckdb", "loyal-100", "--relations", rel],
                   check=True, capture_output=True)
    fields = json.loads(subprocess.run([aud, "--project", p["yaml"], "fields", "--format", "json"], check=True, capture_output=True, text=True).stdout)
    cat = random_segments.Catalogue(fields, rel)
    random_segments.write(os.path.join(seg_dir, "random"), cat, args.random, args.seed_segments)
    shutil.rmtree(rel, ignore_errors=True)
    n = len(glob.glob(os.path.join(seg_dir, "**", "*.yaml"), recursive=True))
    return seg_dir, n


def write_phase(err_path: str) -> float:
    m = re.search(r"^timing: write ([\d.]+) s", open(err_path).read(), re.M)
    return float(m.group(1)) if m else float("nan")


def dir_bytes(d: str) -> int:
    return sum(os.path.getsize(f) for f in glob.glob(os.path.join(d, "**", "*"), recursive=True) if os.path.isfile(f))


def disk_rate(work: str) -> float:
    """Bytes per second of `dd` writing 2 GiB with fdatasync."""
    path = os.path.join(work, "dd.tmp")
    res = subprocess.run(["dd", "if=/dev/zero", f"of={path}", "bs=1M", "count=2048", "conv=fdatasync"], capture_output=True, text=True)
    os.remove(path)
    m = re.search(r"(\d+) bytes .* copied, ([\d.]+) s", res.stderr)
    if not m:
        bench.die(f"dd gave no rate:\n{res.stderr}")
    return int(m.group(1)) / float(m.group(2))


def compare_lists(a_dir: str, d_dir: str, aliases: list[str]) -> list[str]:
    differ = []
    for alias in aliases:
        a, d = list_keys(a_dir, alias), list_keys(d_dir, alias)
        if a is None or d is None or a != d:
            differ.append(alias)
    return differ


def many_segments(aud: str, gen: str, fmt: str, seg_dir: str, args) -> dict:
    data = bench.generate(gen, args.contacts, fmt, args)
    p = project(args.contacts, fmt, data, seg_dir, args)
    shutil.rmtree(p["sql"], ignore_errors=True)
    res = subprocess.run([aud, "--project", p["yaml"], "sql", "--dialect", "duckdb", "--stage", "audience_stage", "-o", p["sql"]],
                         capture_output=True, text=True)
    if res.returncode != 0:
        bench.die(f"audience sql --stage failed:\n{res.stderr[-3000:]}")
    aliases = sorted(os.path.basename(f)[:-4] for f in glob.glob(os.path.join(p["sql"], "*.sql")) if not f.endswith(".stage.sql"))
    times = {k: [] for k in ("run", "duckdb", "count", "count1")}
    rss = {k: 0 for k in times}
    writes = []
    duck_cmd = [sys.executable, os.path.join(HERE, "many_duckdb.py"), "--data", data["dir"], "--format", fmt, "--sql", p["sql"], "--out", p["duck"]]
    for i in range(args.runs + 1):
        for name in (list(times) if i % 2 == 0 else list(reversed(times))):
            log = os.path.join(p["logs"], f"{i}-{name}")
            if name == "run":
                shutil.rmtree(p["out"], ignore_errors=True)
                os.environ["AUDIENCE_TIMINGS"] = "1"
                wall, r = bench.timed([aud, "run", "--project", p["yaml"]], log)
                del os.environ["AUDIENCE_TIMINGS"]
                writes.append(write_phase(log + ".err"))
            elif name == "duckdb":
                shutil.rmtree(p["duck"], ignore_errors=True)
                wall, r = bench.timed(duck_cmd, log)
            elif name == "count":
                wall, r = bench.timed([aud, "count", "--project", p["yaml"]], log)
            else:
                wall, r = bench.timed([aud, "count", "--project", p["yaml"], "loyal-100"], log)
            bench.log(f"{fmt} run {i}: {name} {wall:.2f} s, {bench.mib(r)}")
            if i > 0:
                times[name].append(wall)
                rss[name] = max(rss[name], r)
    differ = compare_lists(p["out"], p["duck"], aliases)
    return {"fmt": fmt, "times": times, "rss": rss, "n": len(aliases), "differ": differ,
            "write_s": statistics.median(writes[1:] or writes), "list_bytes": dir_bytes(p["out"])}


def wide_any(aud: str, gen: str, args) -> dict:
    """`count` of one segment whose `any:` has 10,000 different leaves
    (four operators over four fields, so none folds into an `in:`)."""
    n = 100_000
    data = bench.generate(gen, n, "parquet", args)
    seg_dir = os.path.join(args.work, "many-wide")
    shutil.rmtree(seg_dir, ignore_errors=True)
    os.makedirs(seg_dir)
    rng = random.Random(11)
    leaves = []
    for i in range(args.leaves):
        kind = i % 4
        if kind == 0:
            leaves.append(f"{{field: postal_code, op: starts_with, value: '{rng.randrange(10**6):06d}'}}")
        elif kind == 1:
            leaves.append(f"{{field: email, op: eq, value: 'nobody{i}@example.org'}}")
        elif kind == 2:
            leaves.append(f"{{field: total_spent, op: eq, value: {1000 + i / 100:.2f}}}")
        else:
            leaves.append(f"{{field: city, op: contains, value: 'zz{i}'}}")
    open(os.path.join(seg_dir, "wide.yaml"), "w").write("name: Wide any\nwhere:\n  any: [" + ", ".join(leaves) + "]\n")
    p = project(n, "parquet", data, seg_dir, args)
    walls, peak = [], 0
    for i in range(args.runs + 1):
        wall, r = bench.timed([aud, "count", "--project", p["yaml"], "wide"], os.path.join(p["logs"], f"wide-{i}"))
        bench.log(f"any of {args.leaves} leaves over {n} contacts: count {wall:.2f} s, {bench.mib(r)}")
        if i > 0:
            walls.append(wall)
            peak = max(peak, r)
    return {"median": statistics.median(walls), "rss": peak, "walls": walls}


def earlier(aud: str, gen: str, args) -> dict:
    """Issue #5's two targets still missed, measured again with bench/run.py's contenders."""
    data = bench.generate(gen, args.contacts, "csv", args)
    paths = bench.write_project(args.contacts, "csv", data, args)
    c = bench.contenders(aud, paths, data, "csv", args)
    t = {"audience": [], "duckdb": []}
    for i in range(args.runs + 1):
        for name in (("audience", "duckdb") if i % 2 == 0 else ("duckdb", "audience")):
            wall, r, _ = c[name](f"many-{i}")
            bench.log(f"25 segments + rfm, csv, run {i}: {name} {wall:.2f} s")
            if i > 0:
                t[name].append(wall)
    data6 = bench.generate(gen, 600_000, "parquet", args)
    paths6 = bench.write_project(600_000, "parquet", data6, args)
    six = []
    for i in range(args.runs + 1):
        shutil.rmtree(paths6["out"], ignore_errors=True)
        wall, _ = bench.timed([aud, "run", "--project", paths6["all"]], os.path.join(paths6["logs"], f"many-600k-{i}"))
        bench.log(f"600k contacts, every sample segment: {wall:.2f} s")
        if i > 0:
            six.append(wall)
    return {"csv_aud": statistics.median(t["audience"]), "csv_duck": statistics.median(t["duckdb"]), "six": statistics.median(six)}


def status(ok: bool) -> str:
    return "met" if ok else "**missed**"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--contacts", type=int, default=1_000_000)
    ap.add_argument("--random", type=int, default=100, help="random segment files added to the benchmark's 25 (default 100)")
    ap.add_argument("--seed-segments", type=int, default=20261203)
    ap.add_argument("--leaves", type=int, default=10_000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--formats", nargs="+", default=["parquet", "csv"], choices=["parquet", "csv"])
    ap.add_argument("--skip-earlier", action="store_true", help="leave out the 25-segment CSV and 600k rows")
    ap.add_argument("--work", default="/tmp/audience-bench")
    ap.add_argument("--bin-dir")
    ap.add_argument("--no-build", action="store_true")
    ap.add_argument("--regenerate", action="store_true")
    ap.add_argument("--orders-per-contact", type=float, default=10)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--as-of", default="2025-11-30")
    ap.add_argument("--duckdb-threads", type=int)
    ap.add_argument("--one-segment", default="loyal-100")
    ap.add_argument("--report", default=os.path.join(bench.REPO, "BENCHMARKS.md"))
    args = ap.parse_args()
    bench.check_prerequisites()
    aud, gen = bench.binaries(args)
    load_before = bench.load_average()
    started = time.strftime("%Y-%m-%d %H:%M", time.gmtime())
    seg_dir, n_files = segments(aud, bench.generate(gen, args.contacts, "parquet", args), args)
    results = [many_segments(aud, gen, fmt, seg_dir, args) for fmt in args.formats]
    rate = disk_rate(args.work)
    wide = wide_any(aud, gen, args)
    old = None if args.skip_earlier else earlier(aud, gen, args)
    load_after = bench.load_average()
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=bench.REPO, capture_output=True, text=True).stdout.strip()

    med = lambda r, k: statistics.median(r["times"][k])  # noqa: E731
    rows = []
    for r in results:
        ratio = med(r, "run") / med(r, "duckdb")
        target = 0.5 if r["fmt"] == "parquet" else 0.7
        rows.append((f"{r['n']} segments, {args.contacts:,} contacts {r['fmt'].capitalize()}, `run` ÷ DuckDB", f"≤ {target}",
                     f"{med(r, 'run'):.2f} s ÷ {med(r, 'duckdb'):.2f} s = **{ratio:.2f}**", status(ratio <= target)))
    by = {r["fmt"]: r for r in results}
    first = by.get("parquet") or results[0]
    c_ratio = med(first, "count") / med(first, "count1")
    rows.append((f"{first['n']} segments ÷ 1 segment, `count` ({first['fmt']})", "≤ 2",
                 f"{med(first, 'count'):.2f} s ÷ {med(first, 'count1'):.2f} s = **{c_ratio:.2f}**", status(c_ratio <= 2)))
    rows.append((f"peak RSS of that `run` ({first['fmt']})", "≤ 3 GB", f"**{bench.mib(first['rss']['run'])}** (DuckDB {bench.mib(first['rss']['duckdb'])})",
                 status(first["rss"]["run"] * 1024 <= 3 * GiB)))
    list_rate = first["list_bytes"] / first["write_s"]
    rows.append(("lists written, ÷ the disk's sequential write rate", "≥ 60 %",
                 f"{bench.human_size(first['list_bytes'])} in {first['write_s']:.2f} s = {list_rate / 2**20:,.0f} MiB/s; "
                 f"`dd` {rate / 2**20:,.0f} MiB/s: **{100 * list_rate / rate:.0f} %**", status(list_rate >= 0.6 * rate)))
    rows.append((f"`any:` of {args.leaves:,} leaves over 100k contacts, `count`", "< 2 s", f"**{wide['median']:.2f} s** ({bench.mib(wide['rss'])})",
                 status(wide["median"] < 2)))
    if old:
        r = old["csv_aud"] / old["csv_duck"]
        rows.append(("25 segments + `rfm`, 1M contacts CSV, ÷ DuckDB (bench/segments.sql)", "≤ 1.2",
                     f"{old['csv_aud']:.2f} s ÷ {old['csv_duck']:.2f} s = **{r:.2f}**", status(r <= 1.2)))
        rows.append(("600,000 contacts, every sample segment (`run`, Parquet)", "< 2 s", f"**{old['six']:.2f} s**", status(old["six"] < 2)))

    info = bench.machine()
    lines = [
        BEGIN,
        "## Many segments (issue #11)",
        "",
        f"- Command: `python3 bench/many.py --contacts {args.contacts} --random {args.random} --runs {args.runs}` "
        f"({started} UTC, audience {commit}; load average before / after: {load_before} / {load_after})",
        f"- Machine: {info['nproc']} CPUs ({info['cpu']}), {info['memory']} memory; audience {info['commit']}, {info['rustc']}",
        f"- Segments: {n_files} files: the benchmark's 25 and {args.random} from tests/engines/random_segments.py "
        f"(seed {args.seed_segments}); {first['n']} compiled for DuckDB",
        "- DuckDB side: the statements of `audience sql --dialect duckdb --stage audience_stage` (compiled once, untimed) "
        "over the generator's files, cleaned by hand as audience reads them (bench/many_duckdb.py); one CSV per segment on both sides",
        f"- Medians of {args.runs} run(s) after a warm-up, contenders alternating",
        "",
        "| measure | target | measured | status |",
        "| --- | --- | --- | --- |",
    ]
    lines += [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in rows]
    lines += ["", "| format | contender | median | runs (s) | peak RSS |", "| --- | --- | ---: | --- | ---: |"]
    names = {"run": "`audience run`, every segment", "duckdb": "DuckDB, the staged statements", "count": "`audience count`, every segment",
             "count1": "`audience count loyal-100`"}
    for r in results:
        for k, label in names.items():
            lines.append(f"| {r['fmt']} | {label} | {med(r, k):.2f} s | {' '.join(f'{t:.2f}' for t in r['times'][k])} | {bench.mib(r['rss'][k])} |")
    lines.append("")
    for r in results:
        same = r["n"] - len(r["differ"])
        lines.append(f"Members, {r['fmt']}: {same} of {r['n']} lists have the same keys on both sides"
                     + (f"; differ: {', '.join(r['differ'][:10])}" if r["differ"] else "") + ".")
    lines.append(END)
    bench.write_section(args.report, BEGIN, END, lines, "many-segments")
    if any(r["differ"] for r in results):
        bench.die("some lists differ between audience and DuckDB")


if __name__ == "__main__":
    main()
