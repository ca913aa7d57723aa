#!/usr/bin/env python3
"""Benchmark `audience` against hand-written DuckDB SQL (issue #5).

    python3 bench/run.py --sizes 100000 1000000 --runs 5

For every size and input format (CSV and Parquet) this:

1. generates the data with the project's generator (`audience-gen
   --contacts N --orders-per-contact 10`), once, into WORK/data/N-FORMAT;
2. writes a project (WORK/proj/N-FORMAT/audience.yaml: the settings of the
   repository's audience.yaml, pointing at those files) and a copy of
   segments/ without the `expect:` blocks (their bounds are for the 2,500-row
   sample; `audience run` would refuse to write lists outside them);
3. runs each contender once untimed (warm-up) and checks that audience and
   DuckDB wrote the same members for every segment;
4. times RUNS repetitions, alternating the contenders (their order rotates
   from one repetition to the next), each under `/usr/bin/time -v`:
   - audience: `audience run` (every segment) then `audience rfm --format csv
     --scores ...` (wall times added, peak RSS the larger of the two);
   - duckdb: `python3 bench/duckdb_run.py` (bench/segments.sql: one feature
     table materialised once, then one COPY per segment, plus the RFM files);
   - audience-1: `audience run ONE` (a single segment, default loyal-100);
5. checks the members again on the last outputs, and writes BENCHMARKS.md
   (medians, peak RSS, ratios, member check, machine, date, command).

It is never part of `cargo test`. See bench/README.md.
"""

import argparse
import csv
import datetime as dt
import json
import os
import platform
import re
import shlex
import shutil
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
TIME = "/usr/bin/time"
FORMATS = ("csv", "parquet")
# Everything after this line of the report is written by hand and kept.
HAND_MARKER = "<!-- written by hand below: kept by bench/run.py -->"
EXT = {"csv": "csv", "parquet": "parquet"}

# The repository's audience.yaml with the paths pointing at generated data.
PROJECT_YAML = """\
# Written by bench/run.py: the settings of the repository's audience.yaml over generated data.
contacts:
  path: {data}/participants.{ext}
  key: email
  consent: newsletter
tables:
  orders:
    path: {data}/orders.{ext}
    key: email
    date: ordered_at
    amount: amount
    id: order_id
    where: {{field: status, op: not_in, value: [refunded, not validated]}}
  tickets:
    path: {data}/orders.{ext}
    key: email
    date: ordered_at
    amount: amount
    id: order_id
  campaigns:
    path: {data}/campaigns.{ext}
    key: email
    date: sent_at
metrics:
  festival_editions: {{table: orders, where: {{field: event, op: starts_with, value: Festival Lumières}}, agg: count_distinct, field: event}}
  vip_tickets: {{table: orders, where: {{field: tariff, op: eq, value: VIP}}, agg: count}}
  campaign_opens: {{table: campaigns, where: {{field: opened, op: is_true}}, agg: count}}
segments: segments
output: {output}
suppress:
  - {data}/bounces.{ext}
  - {{file: {data}/unsubscribed.{ext}, purpose: marketing}}
as_of: {as_of}
timezone: Europe/Paris
rfm:
  table: orders
  bins: 5
  classes: standard
"""


def log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", flush=True)


def die(msg: str) -> None:
    print(f"bench: {msg}", file=sys.stderr)
    sys.exit(1)


# ---------------------------------------------------------------- set-up

def check_prerequisites() -> str:
    if not os.path.exists(TIME):
        die(f"{TIME} is missing (peak RSS comes from `/usr/bin/time -v`): run bench/setup.sh")
    probe = subprocess.run([TIME, "-v", "true"], capture_output=True, text=True)
    if "Maximum resident set size" not in probe.stderr:
        die(f"{TIME} does not support -v (GNU time needed): run bench/setup.sh")
    try:
        import duckdb  # noqa: F401
    except ImportError:
        die("the Python package duckdb is missing: run bench/setup.sh (pip install duckdb)")
    return duckdb.__version__


def binaries(args) -> tuple[str, str]:
    if args.bin_dir:
        bin_dir = os.path.abspath(args.bin_dir)
    else:
        target = os.environ.get("CARGO_TARGET_DIR") or os.path.join(REPO, "target")
        bin_dir = os.path.join(os.path.abspath(target), "release")
        if not args.no_build:
            log("cargo build --release --bin audience --bin audience-gen")
            subprocess.run(["cargo", "build", "--release", "--bin", "audience", "--bin", "audience-gen"], cwd=REPO, check=True)
    aud, gen = os.path.join(bin_dir, "audience"), os.path.join(bin_dir, "audience-gen")
    for b in (aud, gen):
        if not os.access(b, os.X_OK):
            die(f"{b} not found: build it (cargo build --release) or give --bin-dir")
    return aud, gen


def generate(gen: str, n: int, fmt: str, args) -> dict:
    """Generates N contacts in FORMAT once; later runs reuse the files."""
    out = os.path.join(args.work, "data", f"{n}-{fmt}")
    stamp_path = os.path.join(out, "bench-stamp.json")
    want = {"contacts": n, "format": fmt, "orders_per_contact": args.orders_per_contact, "seed": args.seed}
    if os.path.exists(stamp_path) and not args.regenerate:
        stamp = json.load(open(stamp_path))
        if stamp.get("args") == want:
            return stamp | {"dir": out}
    shutil.rmtree(out, ignore_errors=True)
    cmd = [gen, "--contacts", str(n), "--orders-per-contact", f"{args.orders_per_contact:g}", "--seed", str(args.seed),
           "--out", out, "--format", fmt]
    log("generating: " + shlex.join(cmd))
    t0 = time.perf_counter()
    res = subprocess.run(cmd, capture_output=True, text=True)
    if res.returncode != 0:
        die(f"audience-gen failed:\n{res.stdout}{res.stderr}")
    summary = (res.stdout + res.stderr).strip()
    files = {f: os.path.getsize(os.path.join(out, f)) for f in sorted(os.listdir(out))}
    stamp = {"args": want, "summary": summary, "files": files, "seconds": round(time.perf_counter() - t0, 1)}
    json.dump(stamp, open(stamp_path, "w"), indent=1)
    return stamp | {"dir": out}


def strip_expect(text: str) -> str:
    """A segment file without its top-level `expect:` block."""
    out, skipping = [], False
    for line in text.splitlines(keepends=True):
        if re.match(r"expect\s*:", line):
            skipping = True
            continue
        if skipping and (line[:1] in (" ", "\t") or not line.strip()):
            continue
        skipping = False
        out.append(line)
    return "".join(out)


def bench_segment_files() -> list[tuple[str, str]]:
    """(source path, path under segments/) of every segment the benchmark
    runs: the sample's segments/ without segments/sending/ (the campaign
    features, which bench/segments.sql has no DuckDB side for yet) and
    segments/clusters/ (fitted by audience, no SQL side), plus
    bench/segments-lang/, the six one-language segments the sample replaced
    with one `split_by` segment and that segments.sql still writes."""
    out = []
    seg_src = os.path.join(REPO, "segments")
    for root, dirs, files in os.walk(seg_src):
        dirs[:] = sorted(d for d in dirs if d not in ("sending", "clusters"))
        for f in sorted(files):
            out.append((os.path.join(root, f), os.path.relpath(os.path.join(root, f), seg_src)))
    lang = os.path.join(HERE, "segments-lang")
    for f in sorted(os.listdir(lang)):
        out.append((os.path.join(lang, f), f))
    return out


def segment_aliases() -> list[str]:
    aliases = []
    for src, rel in bench_segment_files():
        if rel.endswith((".yaml", ".yml")):
            text = open(src, encoding="utf-8").read()
            m = re.search(r"^alias:\s*['\"]?([a-z0-9_-]+)", text, re.M)
            aliases.append(m.group(1) if m else os.path.splitext(os.path.basename(rel))[0])
    return sorted(aliases)


def write_project(n: int, fmt: str, data: dict, args) -> dict:
    proj = os.path.join(args.work, "proj", f"{n}-{fmt}")
    seg_dst = os.path.join(proj, "segments")
    shutil.rmtree(seg_dst, ignore_errors=True)
    for src, rel in bench_segment_files():
        dst = os.path.join(seg_dst, rel)
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        if rel.endswith((".yaml", ".yml")):
            open(dst, "w", encoding="utf-8").write(strip_expect(open(src, encoding="utf-8").read()))
        else:
            shutil.copy(src, dst)
    paths = {"dir": proj, "all": os.path.join(proj, "audience.yaml"), "one": os.path.join(proj, "audience-one.yaml"),
             "out": os.path.join(proj, "out"), "out_one": os.path.join(proj, "out-one"), "duck": os.path.join(proj, "duckdb-out"),
             "logs": os.path.join(proj, "logs")}
    for key, output in (("all", "out"), ("one", "out-one")):
        open(paths[key], "w", encoding="utf-8").write(
            PROJECT_YAML.format(data=os.path.abspath(data["dir"]), ext=EXT[fmt], output=output, as_of=args.as_of))
    for d in ("out", "out_one", "duck", "logs"):
        os.makedirs(paths[d], exist_ok=True)
    return paths


# ---------------------------------------------------------------- timing

def timed(cmd: list[str], log_path: str, stdout_path: str | None = None, may_fail: bool = False) -> tuple[float, int]:
    """Runs CMD under /usr/bin/time -v; returns (wall seconds, peak RSS in KiB).
    A failure stops the benchmark, unless MAY_FAIL: then the wall time is negative."""
    time_file = log_path + ".time"
    with open(stdout_path or log_path + ".out", "w") as out, open(log_path + ".err", "w") as err:
        t0 = time.perf_counter()
        res = subprocess.run([TIME, "-v", "-o", time_file] + cmd, stdout=out, stderr=err)
        wall = time.perf_counter() - t0
    if res.returncode != 0 and may_fail:
        log(f"failed (exit {res.returncode}): {shlex.join(cmd)}")
        wall = -wall
    elif res.returncode != 0:
        die(f"failed (exit {res.returncode}): {shlex.join(cmd)}\n  see {log_path}.err:\n"
            + open(log_path + ".err").read()[-3000:])
    m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", open(time_file).read())
    return wall, int(m.group(1)) if m else 0


def contenders(aud: str, paths: dict, data: dict, fmt: str, args) -> dict:
    logs = paths["logs"]

    def audience_all(tag: str):
        w1, r1 = timed([aud, "run", "--project", paths["all"]], os.path.join(logs, f"{tag}-audience-run"))
        w2, r2 = timed([aud, "rfm", "--project", paths["all"], "--format", "csv", "--scores", os.path.join(paths["out"], "rfm_scores.csv")],
                       os.path.join(logs, f"{tag}-audience-rfm"), stdout_path=os.path.join(paths["out"], "rfm_classes.csv"))
        return w1 + w2, max(r1, r2), {"run": (w1, r1), "rfm": (w2, r2)}

    def duckdb(tag: str):
        cmd = [sys.executable, os.path.join(HERE, "duckdb_run.py"), "--data", data["dir"], "--format", fmt,
               "--out", paths["duck"], "--as-of", args.as_of]
        if args.duckdb_threads:
            cmd += ["--threads", str(args.duckdb_threads)]
        w, r = timed(cmd, os.path.join(logs, f"{tag}-duckdb"))
        return w, r, {}

    def audience_one(tag: str):
        w, r = timed([aud, "run", "--project", paths["one"], args.one_segment], os.path.join(logs, f"{tag}-audience-one"))
        return w, r, {}

    return {"audience": audience_all, "duckdb": duckdb, "audience-1": audience_one}


def scale_runs(aud: str, gen: str, args) -> list[dict]:
    """`audience run` alone (every segment, Parquet) at the sizes of --alone:
    wall time, peak RSS and what it says it read. No DuckDB here: these rows
    answer "how long for N contacts" and "does it fit in memory"."""
    out = []
    for n in args.alone:
        data = generate(gen, n, "parquet", args)
        paths = write_project(n, "parquet", data, args)
        runs = args.runs if n <= 2_000_000 else 1
        walls, peak, read = [], 0, ""
        for rep in range(runs + 1):
            shutil.rmtree(paths["out"], ignore_errors=True)
            log_path = os.path.join(paths["logs"], f"alone-{rep}")
            wall, rss = timed([aud, "run", "--project", paths["all"]], log_path, may_fail=True)
            m = re.search(r"read \d+ contacts and \d+ table rows", open(log_path + ".err").read())
            read = m.group(0) if m else "?"
            if wall < 0:
                status = open(log_path + ".time").read()
                killed = "signal 9" in status
                read = f"did not complete after {-wall:.0f} s ({'killed: out of memory' if killed else 'failed'}; see {log_path}.err)"
                walls, peak = [-wall], max(peak, rss)
                break
            if rep > 0 or runs == 1:
                walls.append(wall)
                peak = max(peak, rss)
            log(f"{n} contacts, parquet, audience run alone: {wall:.2f}s, {mib(rss)}")
            if runs == 1:
                break
        orders = re.search(r"orders\.parquet \((\d+) rows", data["summary"])
        out.append({"n": n, "data": data, "walls": walls, "rss": peak, "read": read,
                    "order_rows": int(orders.group(1)) if orders else 0})
    return out


def startup_checks(aud: str, args) -> dict:
    """`audience --help`, and `audience check --no-data` over 100 segment
    files (the sample segments copied 4 times, references renamed to the
    copies): medians of 10 runs after a warm-up, in milliseconds."""
    proj = os.path.join(args.work, "proj", "check-100")
    shutil.rmtree(proj, ignore_errors=True)
    seg_dst = os.path.join(proj, "segments")
    os.makedirs(seg_dst)
    shutil.copy(os.path.join(REPO, "audience.yaml"), proj)
    files = [(src, rel) for src, rel in bench_segment_files() if os.sep not in rel and rel.endswith((".yaml", ".yml"))]
    for copy in range(1, 5):
        for src, f in files:
            text = open(src, encoding="utf-8").read()
            text = re.sub(r"(segment:\s*)([a-z0-9_-]+)", lambda m: f"{m.group(1)}{m.group(2)}-{copy}", text)
            stem, ext = os.path.splitext(f)
            open(os.path.join(seg_dst, f"{stem}-{copy}{ext}"), "w", encoding="utf-8").write(text)

    def median_ms(cmd: list[str]) -> tuple[float, subprocess.CompletedProcess]:
        walls = []
        for _ in range(11):
            t = time.perf_counter()
            done = subprocess.run(cmd, cwd=proj, capture_output=True, text=True)
            walls.append(time.perf_counter() - t)
        return statistics.median(walls[1:]) * 1000, done

    help_ms, _ = median_ms([aud, "--help"])
    check_ms, done = median_ms([aud, "check", "--no-data"])
    said = (done.stdout.strip().splitlines() or ["(nothing)"])[-1]
    n_files = len(os.listdir(seg_dst))
    log(f"--help {help_ms:.1f} ms; check --no-data over {n_files} files {check_ms:.1f} ms: {said}")
    return {"help_ms": help_ms, "check_ms": check_ms, "files": n_files, "said": said, "status": done.returncode}


# ---------------------------------------------------------------- member check

def read_csv_rows(path: str) -> list[list[str]]:
    with open(path, newline="", encoding="utf-8-sig") as f:
        return list(csv.reader(f))


def norm_key(k: str) -> str:
    return k.strip().lower()


def same_cell(a: str, b: str) -> bool:
    if a == b:
        return True
    try:
        x, y = float(a), float(b)
    except ValueError:
        return False
    return abs(x - y) <= 1e-9 * max(1.0, abs(x), abs(y))


def compare_file(a_path: str, d_path: str) -> dict:
    """Members (first-column keys) of two exports, and their contents."""
    if not os.path.exists(a_path) or not os.path.exists(d_path):
        return {"ok": False, "problem": f"missing file: {a_path if not os.path.exists(a_path) else d_path}"}
    a, d = read_csv_rows(a_path), read_csv_rows(d_path)
    ka = [norm_key(r[0]) for r in a[1:] if r]
    kd = [norm_key(r[0]) for r in d[1:] if r]
    sa, sd = set(ka), set(kd)
    res = {"audience": len(sa), "duckdb": len(sd), "only_audience": sorted(sa - sd), "only_duckdb": sorted(sd - sa)}
    res["ok"] = sa == sd
    res["same_order"] = ka == kd
    res["same_header"] = a[:1] == d[:1]
    # Contents: same rows cell by cell, numbers equal up to float rounding
    # (audience sums amounts as doubles, the SQL as exact decimals).
    by_key = {norm_key(r[0]): r for r in d[1:] if r}
    res["rows_differing"] = sum(1 for r in a[1:] if r and norm_key(r[0]) in by_key and not (
        len(r) == len(by_key[norm_key(r[0])]) and all(same_cell(x, y) for x, y in zip(r, by_key[norm_key(r[0])]))))
    res["byte_identical"] = open(a_path, "rb").read() == open(d_path, "rb").read()
    return res


def member_check(paths: dict, aliases: list[str]) -> dict:
    per = {}
    for alias in aliases:
        per[alias] = compare_file(os.path.join(paths["out"], f"{alias}.csv"), os.path.join(paths["duck"], f"{alias}.csv"))
    # RFM: the contacts scored, and each one's score and class; the class
    # table's contacts and orders per class.
    scores = compare_file(os.path.join(paths["out"], "rfm_scores.csv"), os.path.join(paths["duck"], "rfm_scores.csv"))
    scores["rfm_differing"] = columns_differing(os.path.join(paths["out"], "rfm_scores.csv"), os.path.join(paths["duck"], "rfm_scores.csv"),
                                                ["rfm_score", "rfm_class"])
    per["rfm --scores"] = scores
    classes = compare_file(os.path.join(paths["out"], "rfm_classes.csv"), os.path.join(paths["duck"], "rfm_classes.csv"))
    classes["rfm_differing"] = columns_differing(os.path.join(paths["out"], "rfm_classes.csv"), os.path.join(paths["duck"], "rfm_classes.csv"),
                                                 ["contacts", "orders"])
    per["rfm classes"] = classes
    return per


def columns_differing(a_path: str, d_path: str, columns: list[str]) -> list[str]:
    """Keys (first column) whose COLUMNS differ between the two files."""
    if not os.path.exists(a_path) or not os.path.exists(d_path):
        return ["(file missing)"]
    def table(path):
        rows = read_csv_rows(path)
        head = rows[0]
        idx = [head.index(c) for c in columns if c in head]
        if len(idx) != len(columns):
            return None
        return {norm_key(r[0]): tuple(r[i] for i in idx) for r in rows[1:] if r}
    a, d = table(a_path), table(d_path)
    if a is None or d is None:
        return [f"(columns {columns} missing)"]
    return sorted(k for k in a.keys() & d.keys() if a[k] != d[k])


def check_summary(per: dict) -> tuple[bool, list[str]]:
    ok = all(r["ok"] and not r.get("rfm_differing") for r in per.values())
    lines = []
    for alias, r in per.items():
        if "problem" in r:
            lines.append(f"{alias}: {r['problem']}")
            continue
        if not r["ok"]:
            lines.append(f"{alias}: audience {r['audience']} members, DuckDB {r['duckdb']}; only in audience "
                         f"{len(r['only_audience'])} (e.g. {', '.join(r['only_audience'][:3]) or '-'}), only in DuckDB "
                         f"{len(r['only_duckdb'])} (e.g. {', '.join(r['only_duckdb'][:3]) or '-'})")
        elif r.get("rfm_differing"):
            lines.append(f"{alias}: same contacts, {len(r['rfm_differing'])} with another score, class or count "
                         f"(e.g. {', '.join(r['rfm_differing'][:3])})")
    return ok, lines


# ---------------------------------------------------------------- report

def write_section(report: str, begin: str, end: str, lines: list[str], what: str) -> None:
    """Writes `lines` (which start with `begin` and end with `end`) into the
    report in place of the text between those markers, or appends them."""
    section = "\n".join(lines) + "\n"
    old = open(report, encoding="utf-8").read() if os.path.exists(report) else ""
    if begin in old and end in old:
        new = old.split(begin, 1)[0] + section + old.split(end, 1)[1].lstrip("\n")
    else:
        new = old.rstrip("\n") + "\n\n" + section
    open(report, "w", encoding="utf-8").write(new)
    log(f"wrote the {what} section of {report}")


def machine() -> dict:
    model = "?"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = "?"
    try:
        for line in open("/proc/meminfo"):
            if line.startswith("MemTotal"):
                mem = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
                break
    except OSError:
        pass
    def out(cmd):
        try:
            return subprocess.run(cmd, capture_output=True, text=True, cwd=REPO).stdout.strip()
        except OSError:
            return "?"
    commit = out(["git", "rev-parse", "--short", "HEAD"])
    dirty = " (with uncommitted changes)" if out(["git", "status", "--porcelain", "--untracked-files=no"]) else ""
    return {"nproc": os.cpu_count(), "cpu": model, "memory": mem, "kernel": platform.release(),
            "python": platform.python_version(), "rustc": out(["rustc", "--version"]), "commit": commit + dirty}


def load_average() -> str:
    try:
        return " ".join(open("/proc/loadavg").read().split()[:3])
    except OSError:
        return "?"


def mib(kib: int) -> str:
    return f"{kib / 1024:,.0f} MiB"


def human_size(n: int) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:,.0f} {unit}" if unit == "B" else f"{n:,.1f} {unit}"
        n /= 1024
    return str(n)


def write_report(args, results: list[dict], alone: list[dict], startup: dict, info: dict, duckdb_version: str, n_segments: int, started: str, loads: tuple) -> str:
    cmd = "python3 " + shlex.join([os.path.relpath(os.path.abspath(sys.argv[0]), REPO)] + sys.argv[1:])
    if os.environ.get("CARGO_TARGET_DIR") and not args.bin_dir:
        cmd = f"CARGO_TARGET_DIR={shlex.quote(os.environ['CARGO_TARGET_DIR'])} " + cmd
    m = info
    lines = [
        "# Benchmarks",
        "",
        "`audience` against hand-written DuckDB SQL over the same generated files (issue #5).",
        "Generated by `bench/run.py`; see [bench/README.md](bench/README.md) for what is measured and how.",
        "",
        f"- Command: `{cmd}` (from the repository root)",
        f"- Date: {started} (UTC)",
        f"- Machine: {m['nproc']} CPUs ({m['cpu']}), {m['memory']} memory, Linux {m['kernel']}",
        f"- Load average before / after: {loads[0]} / {loads[1]}",
        f"- Software: audience {m['commit']} built with {m['rustc']} (`{args.audience_bin}`); "
        f"DuckDB {duckdb_version} (Python {m['python']})",
        f"- Data: `audience-gen --orders-per-contact {args.orders_per_contact:g} --seed {args.seed}`; as_of {args.as_of}",
        f"- Work: {n_segments} segments of `segments/` plus `audience rfm`; {args.runs} timed run(s) per contender "
        f"after one untimed warm-up, contenders alternating; medians shown",
    ]
    if "/debug/" in args.audience_bin or args.bin_dir:
        lines.append(f"- **Binaries from `{args.bin_dir or os.path.dirname(args.audience_bin)}`, not a fresh release build: "
                     "check they are optimised before quoting these figures.**")
    busy = max(float(x.split()[0]) if x != "?" else 0 for x in loads)
    if busy > (m["nproc"] or 1) / 2:
        lines.append(f"- **The machine was busy (load average up to {busy:.1f} on {m['nproc']} CPUs): "
                     "timings are inflated and noisy.**")
    lines += [
        "",
        "| contacts | format | audience: run + rfm | DuckDB | audience ÷ DuckDB | audience: run 1 segment | "
        f"{n_segments} segments ÷ 1 | members |",
        "| ---: | --- | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for r in results:
        med = r["median"]
        rss = r["rss"]
        verdict = "same" if r["ok"] else "**DIFFER: void**"
        lines.append(
            f"| {r['n']:,} | {r['format']} | {med['audience']:.2f} s, {mib(rss['audience'])} | "
            f"{med['duckdb']:.2f} s, {mib(rss['duckdb'])} | {med['audience'] / med['duckdb']:.1f}× time, "
            f"{rss['audience'] / max(rss['duckdb'], 1):.1f}× RSS | {med['audience-1']:.2f} s, {mib(rss['audience-1'])} | "
            f"{med['audience run'] / med['audience-1']:.1f}× | {verdict} |")
    lines += [
        "",
        "Times are wall-clock seconds (median); memory is peak RSS from `/usr/bin/time -v` (the largest over the runs; "
        "for audience, the larger of `run` and `rfm`). \"audience ÷ DuckDB\" above 1 means audience is slower. "
        f"\"{n_segments} segments ÷ 1\" compares `audience run` of every segment (without `rfm`) with `audience run` of one.",
        "",
        "## Details",
        "",
    ]
    for r in results:
        d = r["data"]
        lines += [f"### {r['n']:,} contacts, {r['format']}", ""]
        summary = d["summary"].splitlines()[-1] if d["summary"] else "?"
        summary = summary.replace(d["dir"] + "/", "")
        lines.append(f"- Generator: {summary}")
        lines.append("- Files: " + ", ".join(f"{k} {human_size(v)}" for k, v in d["files"].items() if k != "bench-stamp.json"))
        lines += ["", "| contender | median | min | max | runs (s) | peak RSS |", "| --- | ---: | ---: | ---: | --- | ---: |"]
        for name in ("audience", "audience run", "audience rfm", "duckdb", "audience-1"):
            ts = r["times"][name]
            label = {"audience": "audience run + rfm", "audience run": "… of which `run`", "audience rfm": "… of which `rfm`",
                     "duckdb": "DuckDB (bench/segments.sql)", "audience-1": f"audience run {args.one_segment}"}[name]
            rss = mib(r["rss"][name]) if name in r["rss"] else ""
            lines.append(f"| {label} | {statistics.median(ts):.2f} | {min(ts):.2f} | {max(ts):.2f} | "
                         f"{' '.join(f'{t:.2f}' for t in ts)} | {rss} |")
        lines += ["", f"Member check (warm-up and last run): {'every segment has the same members' if r['ok'] else 'MEMBERS DIFFER, the figures above are void'}."]
        for problem in r["problems"]:
            lines.append(f"- {problem}")
        same_content = [a for a, c in r["check"].items() if c.get("ok") and c.get("rows_differing") == 0]
        lines.append(f"- {len(same_content)} of {len(r['check'])} outputs have the same rows and cells "
                     f"(numbers compared up to float rounding); {sum(1 for c in r['check'].values() if c.get('byte_identical'))} are byte-identical.")
        cosmetic = [f"{a} ({c['rows_differing']} rows)" for a, c in r["check"].items() if c.get("ok") and c.get("rows_differing")]
        if cosmetic:
            lines.append("- Same members, some cells differ: " + ", ".join(cosmetic))
        lines.append("")
    if alone:
        lines += [
            "## `audience run` alone, Parquet",
            "",
            "Every segment of `segments/`, no DuckDB. Sizes up to 2M contacts: median of the timed runs after a warm-up; "
            "larger: one cold run.",
            "",
            "| contacts | order rows | runs | median wall | peak RSS | what it says it read |",
            "| ---: | ---: | ---: | ---: | ---: | --- |",
        ]
        for a in alone:
            lines.append(f"| {a['n']:,} | {a['order_rows']:,} | {len(a['walls'])} | {statistics.median(a['walls']):.2f} s | "
                         f"{mib(a['rss'])} | {a['read']} |")
        lines.append("")
    lines += [
        "## Start-up and checks",
        "",
        "Medians of 10 runs after a warm-up.",
        "",
        "| command | median wall | what it printed |",
        "| --- | ---: | --- |",
        f"| `audience --help` | {startup['help_ms']:.1f} ms | the help |",
        f"| `audience check --no-data`, {startup['files']} segment files (the sample ones copied 4 times, references renamed) "
        f"| {startup['check_ms']:.1f} ms | {startup['said']} (exit {startup['status']}) |",
        "",
    ]
    text = "\n".join(lines) + "\n"
    # The analysis written by hand under the marker survives a new run.
    if os.path.exists(args.report):
        old = open(args.report, encoding="utf-8").read()
        if HAND_MARKER in old:
            text += "\n" + HAND_MARKER + old.split(HAND_MARKER, 1)[1]
    open(args.report, "w", encoding="utf-8").write(text)
    return text


# ---------------------------------------------------------------- main

def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="*", default=[100_000, 1_000_000], help="contacts per data set (default: 100000 1000000)")
    ap.add_argument("--formats", nargs="+", choices=FORMATS, default=list(FORMATS), help="input formats (default: csv parquet)")
    ap.add_argument("--runs", type=int, default=5, help="timed runs per contender (default 5; the issue asks for at least 5)")
    ap.add_argument("--orders-per-contact", type=float, default=10)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--as-of", default="2025-11-30")
    ap.add_argument("--one-segment", default="loyal-100", help="the segment of the 1-segment run (default loyal-100)")
    ap.add_argument("--work", default=os.environ.get("AUDIENCE_BENCH_WORK", "/tmp/audience-bench"),
                    help="folder for data, projects and outputs (default /tmp/audience-bench; data is reused between runs)")
    ap.add_argument("--regenerate", action="store_true", help="generate the data again even if WORK holds it already")
    ap.add_argument("--bin-dir", help="folder holding audience and audience-gen (default: build them with cargo build --release)")
    ap.add_argument("--no-build", action="store_true", help="do not run cargo build; use the release binaries as they are")
    ap.add_argument("--duckdb-threads", type=int, help="DuckDB threads (default: DuckDB's, every core)")
    ap.add_argument("--alone", type=int, nargs="*", default=[],
                    help="also time `audience run` alone on Parquet data of these sizes (e.g. 600000 10100000: about 100M order rows)")
    ap.add_argument("--report", default=os.path.join(REPO, "BENCHMARKS.md"), help="the report to write (default BENCHMARKS.md)")
    args = ap.parse_args()
    if args.runs < 1:
        die("--runs must be at least 1")

    duckdb_version = check_prerequisites()
    aud, gen = binaries(args)
    args.audience_bin = aud
    args.work = os.path.abspath(args.work)
    aliases = segment_aliases()
    if args.one_segment not in aliases:
        die(f"--one-segment {args.one_segment}: no such segment in segments/")
    started = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M")
    load_before = load_average()
    info = machine()

    results = []
    for n in args.sizes:
        for fmt in args.formats:
            data = generate(gen, n, fmt, args)
            paths = write_project(n, fmt, data, args)
            runners = contenders(aud, paths, data, fmt, args)
            names = list(runners)
            log(f"{n} contacts, {fmt}: warm-up")
            for name in names:
                runners[name]("warmup")
            check = member_check(paths, aliases)
            ok, problems = check_summary(check)
            log(f"{n} contacts, {fmt}: members {'match' if ok else 'DIFFER'}" + "".join(f"\n  {p}" for p in problems))
            times = {k: [] for k in ("audience", "audience run", "audience rfm", "duckdb", "audience-1")}
            rss = {k: 0 for k in times}
            for rep in range(args.runs):
                order = names[rep % len(names):] + names[:rep % len(names)]
                for name in order:
                    wall, peak, parts = runners[name](f"run{rep + 1}")
                    times[name].append(wall)
                    rss[name] = max(rss[name], peak)
                    for part, (t, p) in parts.items():
                        times[f"audience {part}"].append(t)
                        rss[f"audience {part}"] = max(rss[f"audience {part}"], p)
                log(f"{n} contacts, {fmt}: run {rep + 1}/{args.runs}: " +
                    ", ".join(f"{k} {times[k][-1]:.2f}s" for k in names))
            # The same members on the last outputs too.
            last = member_check(paths, aliases)
            ok_last, problems_last = check_summary(last)
            ok = ok and ok_last
            problems += [p + " (last run)" for p in problems_last if p not in problems]
            results.append({"n": n, "format": fmt, "data": data, "times": times, "rss": rss,
                            "median": {k: statistics.median(v) for k, v in times.items()},
                            "ok": ok, "problems": problems, "check": check})
    alone = scale_runs(aud, gen, args)
    startup = startup_checks(aud, args)
    text = write_report(args, results, alone, startup, info, duckdb_version, len(aliases), started, (load_before, load_average()))
    log(f"wrote {args.report}")
    print()
    print(text)
    if not all(r["ok"] for r in results):
        die("members differ for some segment: those figures are void (see the report)")


if __name__ == "__main__":
    main()
