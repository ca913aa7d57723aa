"""Runs `audience sql` on real engines and compares each segment's
recipients, key for key, and the counts, with what `audience run` and
`audience count` give on the same project. tests/engines/run.sh installs
the engines and calls this; see tests/engines/README.md.

    python3 tests/engines/compare.py --audience target/debug/audience duckdb postgres

The relations are those `audience sql --relations` writes: the exports as
`audience` read them (typed, trimmed, one row per key), so both sides see
the same values. A segment the dialect cannot express is listed with the
reason `audience sql` gave; any difference, or an engine that cannot be
started, fails the run.
"""
import argparse
import csv
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
COUNT_KEYS = ["members", "recipients", "suppressed", "no_consent", "invalid_email"]


def die(msg: str) -> None:
    print(f"engines: {msg}", file=sys.stderr)
    sys.exit(1)


def sh(cmd, cwd=None, ok=(0,), **kw):
    res = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, **kw)
    if res.returncode not in ok:
        die(f"{' '.join(cmd)} exited {res.returncode}:\n{res.stdout}{res.stderr}")
    return res


# ---------------------------------------------------------------- engines

class DuckDB:
    name = "duckdb"

    def __init__(self, rel_dir: str):
        try:
            import duckdb
        except ImportError:
            die("the Python package duckdb is missing (pip install duckdb); tests/engines/run.sh installs it")
        self.version = duckdb.__version__
        self.con = duckdb.connect()
        for f in sorted(glob.glob(os.path.join(rel_dir, "*.parquet"))):
            name = os.path.basename(f)[: -len(".parquet")]
            self.con.execute(f"CREATE TABLE \"{name}\" AS SELECT * FROM read_parquet('{f}')")

    def query(self, sql: str) -> list[tuple]:
        return self.con.execute(sql).fetchall()

    def close(self):
        self.con.close()


class Postgres:
    """A throwaway cluster on a local socket, run as the `postgres` user
    when started as root (initdb refuses root)."""
    name = "postgres"

    def __init__(self, rel_dir: str, work: str):
        bins = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
        if not bins:
            die("PostgreSQL is not installed (apt-get install postgresql postgresql-contrib); tests/engines/run.sh installs it")
        self.bin = os.path.dirname(bins[-1])
        if not glob.glob("/usr/share/postgresql/*/extension/unaccent.control"):
            die("the contrib extension unaccent is missing (apt-get install postgresql-contrib)")
        self.dir = os.path.join(work, "pg")
        os.makedirs(self.dir)
        self.as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if self.as_user:
            shutil.chown(work, "postgres")
            shutil.chown(self.dir, "postgres")
            os.chmod(work, 0o755)
            for root, dirs, files in os.walk(rel_dir):
                for f in files:
                    os.chmod(os.path.join(root, f), 0o644)
            os.chmod(rel_dir, 0o755)
        data = os.path.join(self.dir, "data")
        self.socket = self.dir
        self.port = "54329"
        sh(self.as_user + [os.path.join(self.bin, "initdb"), "-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8"])
        sh(self.as_user + [os.path.join(self.bin, "pg_ctl"), "-D", data, "-l", os.path.join(self.dir, "log"), "-w",
                           "-o", f"-k {self.socket} -p {self.port} -c listen_addresses=''", "start"])
        self.data = data
        res = self.psql("SELECT version();")
        self.version = res.strip().split(" on ")[0]
        self.psql("CREATE EXTENSION IF NOT EXISTS unaccent;")
        import duckdb
        con = duckdb.connect()
        types = {"VARCHAR": "TEXT", "DATE": "DATE", "TIMESTAMP": "TIMESTAMP", "BIGINT": "BIGINT", "INTEGER": "BIGINT",
                 "DOUBLE": "DOUBLE PRECISION", "FLOAT": "DOUBLE PRECISION", "BOOLEAN": "BOOLEAN"}
        for f in sorted(glob.glob(os.path.join(rel_dir, "*.parquet"))):
            name = os.path.basename(f)[: -len(".parquet")]
            cols = con.execute(f"DESCRIBE SELECT * FROM read_parquet('{f}')").fetchall()
            ddl = ", ".join(f"\"{c[0]}\" {types.get(c[1].split('(')[0], 'TEXT')}" for c in cols)
            csv_path = os.path.join(work, f"{name}.csv")
            con.execute(f"COPY (SELECT * FROM read_parquet('{f}')) TO '{csv_path}' (HEADER, DELIMITER ',')")
            os.chmod(csv_path, 0o644)
            self.psql(f"CREATE TABLE \"{name}\" ({ddl});")
            self.psql(f"\\copy \"{name}\" FROM '{csv_path}' WITH (FORMAT csv, HEADER true)")

    def psql(self, sql: str) -> str:
        res = subprocess.run(self.as_user + ["psql", "-h", self.socket, "-p", self.port, "-U", "postgres", "-d", "postgres",
                                             "-v", "ON_ERROR_STOP=1", "-X", "-q", "-A", "-t", "-F", "\t"],
                             input=sql, capture_output=True, text=True)
        if res.returncode != 0:
            raise RuntimeError(res.stderr.strip())
        return res.stdout

    def query(self, sql: str) -> list[tuple]:
        out = self.psql(sql)
        return [tuple(line.split("\t")) for line in out.splitlines() if line != ""]

    def close(self):
        sh(self.as_user + [os.path.join(self.bin, "pg_ctl"), "-D", self.data, "-m", "fast", "-w", "stop"], ok=(0, 1))


class ClickHouse:
    """chdb: ClickHouse's engine in process, the relations read from Parquet."""
    name = "clickhouse"

    def __init__(self, rel_dir: str, work: str):
        try:
            from chdb import session
        except ImportError:
            die("the Python package chdb is missing (pip install chdb); tests/engines/run.sh installs it")
        import chdb
        self.version = f"chdb {chdb.__version__}"
        self.s = session.Session(os.path.join(work, "chdb"))
        # A --counts statement of hundreds of segments is larger than the
        # parser's default 256 KiB; clickhouse-client takes --max_query_size.
        self.s.query("SET max_query_size = 100000000")
        self.s.query("CREATE DATABASE IF NOT EXISTS audience ENGINE = Atomic")
        for f in sorted(glob.glob(os.path.join(rel_dir, "*.parquet"))):
            name = os.path.basename(f)[: -len(".parquet")]
            self.s.query(f"CREATE TABLE audience.\"{name}\" ENGINE = Memory AS SELECT * FROM file('{f}', Parquet)")
        self.s.query("USE audience")

    def query(self, sql: str) -> list[tuple]:
        out = self.s.query(sql.rstrip().rstrip(";"), "TabSeparated")
        text = out.bytes().decode("utf-8") if hasattr(out, "bytes") else str(out)
        return [tuple(line.split("\t")) for line in text.splitlines() if line != ""]

    def close(self):
        self.s.close()


class Spark:
    """A local Spark session (pyspark with a Java 17 runtime); the relations
    are temporary views over the Parquet files."""
    name = "spark"

    def __init__(self, rel_dir: str, work: str):
        try:
            from pyspark.sql import SparkSession
        except ImportError:
            die("the Python package pyspark is missing (pip install pyspark); tests/engines/run.sh installs it")
        if not shutil.which("java"):
            die("no Java runtime for Spark (apt-get install openjdk-17-jre-headless)")
        self.spark = (SparkSession.builder.master("local[2]").appName("audience-engines")
                      .config("spark.sql.session.timeZone", "UTC").config("spark.ui.enabled", "false")
                      .config("spark.sql.shuffle.partitions", "2").config("spark.driver.memory", "4g")
                      # 323 segments make a statement of some 50 first/last picks, each a
                      # window and a join: with broadcasts, building one ran out of driver
                      # memory; with sort-merge joins, each sorter took its 64 MB page
                      # until the task had none left. Small pages fit them all.
                      .config("spark.sql.autoBroadcastJoinThreshold", "-1").config("spark.buffer.pageSize", "2m")
                      # The stage table's files go to the throwaway folder, not the checkout.
                      .config("spark.sql.warehouse.dir", os.path.join(work, "spark-warehouse"))
                      .getOrCreate())
        self.spark.sparkContext.setLogLevel("OFF")  # codegen fallbacks are logged as errors, and are none
        self.version = f"Spark {self.spark.version}"
        for f in sorted(glob.glob(os.path.join(rel_dir, "*.parquet"))):
            name = os.path.basename(f)[: -len(".parquet")]
            self.spark.read.parquet(f).createOrReplaceTempView(name)

    def query(self, sql: str) -> list[tuple]:
        return [tuple(r) for r in self.spark.sql(sql.rstrip().rstrip(";")).collect()]

    def close(self):
        self.spark.stop()


def check_dbt(aud: str, proj: str, work: str) -> int:
    """`audience sql --dbt` inside a dbt project on DuckDB: `dbt build` runs
    the models and their tests, then each model's table is compared with
    the list `run` wrote. Returns the number of differences."""
    import duckdb
    dbt = shutil.which("dbt")
    if not dbt:
        die("dbt is not installed (pip install 'dbt-core<1.11' 'dbt-duckdb<1.11'); tests/engines/run.sh installs it")
    root = os.path.join(work, "dbt")
    rel_dir = os.path.join(work, "rel-dbt")
    res = sh([aud, "sql", "--dialect", "duckdb", "--dbt", root, "--relations", rel_dir], cwd=proj, ok=(0, 1))
    db_path = os.path.join(work, "dbt.duckdb")
    con = duckdb.connect(db_path)
    for f in sorted(glob.glob(os.path.join(rel_dir, "*.parquet"))):
        con.execute(f"CREATE TABLE \"{os.path.basename(f)[:-8]}\" AS SELECT * FROM read_parquet('{f}')")
    con.close()
    open(os.path.join(root, "dbt_project.yml"), "w").write(
        "name: audience_check\nversion: '1.0'\nconfig-version: 2\nprofile: audience_check\nmodel-paths: [models]\nmacro-paths: [macros]\n")
    open(os.path.join(root, "profiles.yml"), "w").write(
        f"audience_check:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n      path: {db_path}\n      threads: 2\n")
    build = subprocess.run([dbt, "build", "--project-dir", root, "--profiles-dir", root], capture_output=True, text=True, cwd=root)
    if build.returncode != 0:
        die(f"dbt build failed:\n{build.stdout[-6000:]}{build.stderr[-2000:]}")
    summary = re.findall(r"PASS=\d+ WARN=\d+ ERROR=\d+ SKIP=\d+(?: NO-OP=\d+)? TOTAL=\d+", build.stdout)
    con = duckdb.connect(db_path, read_only=True)
    failures, same = 0, 0
    models = sorted(os.path.basename(f)[:-4] for f in glob.glob(os.path.join(root, "models", "audience", "*.sql")))
    for model in models:
        text = open(os.path.join(root, "models", "audience", f"{model}.sql"), encoding="utf-8").read()
        alias = re.search(r"audience segment `([^`]+)`", text).group(1)
        got = sorted(str(r[0]) for r in con.execute(f"SELECT * FROM main.\"{model}\"").fetchall())
        want = list_keys(os.path.join(proj, "out"), alias)
        if got != want:
            print(f"  dbt: {alias}: {len(got)} keys from the model, {len(want or [])} from run")
            failures += 1
        else:
            same += 1
    con.close()
    version = subprocess.run([dbt, "--version"], capture_output=True, text=True).stdout.splitlines()
    core = next((l.strip(" -") for l in version if "installed" in l.lower()), "dbt")
    print(f"dbt ({core}): `dbt build` {summary[-1] if summary else '(no summary)'}; {same} of {len(models)} models give run's recipients")
    return failures


# ---------------------------------------------------------------- comparison

def check_stage(db, engine: str, aud: str, proj: str, work: str, compiled: list[str]) -> int:
    """`audience sql --stage`: the stage table created once, then every
    segment's statement over it; returns how many give run's recipients."""
    stage_dir = os.path.join(work, f"stage-{engine}")
    sh([aud, "sql", "--dialect", engine, "--stage", "audience_stage", "-o", stage_dir, *compiled], cwd=proj)
    text = open(os.path.join(stage_dir, "audience_stage.stage.sql"), encoding="utf-8").read()
    # A dialect may drop the old table first: one statement at a time.
    for stmt in re.split(r";\n(?=CREATE )", text.strip().rstrip(";")):
        db.query(stmt)
    same = 0
    for alias in compiled:
        rows = db.query(open(os.path.join(stage_dir, f"{alias}.sql"), encoding="utf-8").read())
        got = sorted(str(r[0]) for r in rows)
        if got != list_keys(os.path.join(proj, "out"), alias):
            print(f"  {engine}: {alias}: through --stage, {len(got)} keys differ from run's list")
        else:
            same += 1
    return same


def split_files(out: str, alias: str) -> dict[str, str]:
    """For a list split in files (`split_by`, `groups`): key -> file stem."""
    found = {}
    for f in sorted(glob.glob(os.path.join(out, alias, "*.csv"))):
        with open(f, newline="", encoding="utf-8-sig") as fh:
            for r in list(csv.reader(fh))[1:]:
                found[r[0]] = os.path.splitext(os.path.basename(f))[0]
    return found


def list_keys(out: str, alias: str) -> list[str] | None:
    """The first column of the list `run` wrote (every file of a split)."""
    files = [os.path.join(out, f"{alias}.csv")] + sorted(glob.glob(os.path.join(out, alias, "*.csv")))
    files = [f for f in files if os.path.exists(f)]
    if not files:
        return None
    keys = []
    for f in files:
        with open(f, newline="", encoding="utf-8-sig") as fh:
            keys.extend(r[0] for r in list(csv.reader(fh))[1:])
    return sorted(keys)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("engines", nargs="+", choices=["duckdb", "postgres", "clickhouse", "spark", "dbt"])
    ap.add_argument("--random", type=int, default=300, help="random segments added to the sample's (default 300)")
    ap.add_argument("--seed", type=int, default=20261203)
    ap.add_argument("--stage-only", action="store_true",
                    help="run the segments through `--stage` alone, not also as standalone statements (for slow engines: Spark)")
    ap.add_argument("--audience", default=os.path.join(os.environ.get("CARGO_TARGET_DIR", os.path.join(REPO, "target")), "debug", "audience"))
    args = ap.parse_args()
    aud = os.path.abspath(args.audience)
    if not os.access(aud, os.X_OK):
        die(f"{aud}: no audience binary (cargo build, or pass --audience)")
    work = tempfile.mkdtemp(prefix="audience-engines-")
    os.chmod(work, 0o755)  # the postgres user reads the relations' files under it
    proj = os.path.join(work, "project")
    os.makedirs(proj)
    for p in ("audience.yaml", "segments", "sample-data"):
        src = os.path.join(REPO, p)
        (shutil.copytree if os.path.isdir(src) else shutil.copy)(src, os.path.join(proj, p))
    # One suppress file kept as a relation (`warehouse.lists`), the other
    # inlined as keys: both ways are compared on every engine.
    with open(os.path.join(proj, "audience.yaml"), "a", encoding="utf-8") as f:
        f.write("warehouse:\n  lists: {sample-data/bounces.csv: bounce_list}\n")
    if args.random:
        sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
        import random_segments
        rel0 = os.path.join(work, "rel-catalogue")
        sh([aud, "sql", "--dialect", "duckdb", "loyal-100", "--relations", rel0], cwd=proj)
        fields = json.loads(sh([aud, "fields", "--format", "json"], cwd=proj).stdout)
        cat = random_segments.Catalogue(fields, rel0)
        random_segments.write(os.path.join(proj, "segments", "random"), cat, args.random, args.seed)
        check = sh([aud, "check"], cwd=proj, ok=(0, 1))
        if check.returncode != 0:
            die(f"the random segments (seed {args.seed}) do not pass `audience check`: a generator bug\n{check.stderr[-4000:]}")
    sh([aud, "run"], cwd=proj)
    counts = {c["alias"]: c for c in json.loads(sh([aud, "count", "--format", "json"], cwd=proj).stdout)}
    failures = 0
    for engine in args.engines:
        if engine == "dbt":
            failures += check_dbt(aud, proj, work)
            continue
        sql_dir = os.path.join(work, f"sql-{engine}")
        rel_dir = os.path.join(work, f"rel-{engine}")
        res = sh([aud, "sql", "--dialect", engine, "-o", sql_dir, "--relations", rel_dir], cwd=proj, ok=(0, 1))
        refused = re.findall(r"segment `([^`]+)` cannot be compiled for \w+: (.*)", res.stderr)
        compiled = sorted(os.path.basename(f)[:-4] for f in glob.glob(os.path.join(sql_dir, "*.sql")))
        server = os.path.join(work, f"{engine}-server")
        db = {"duckdb": lambda: DuckDB(rel_dir), "postgres": lambda: Postgres(rel_dir, server),
              "clickhouse": lambda: ClickHouse(rel_dir, work), "spark": lambda: Spark(rel_dir, work)}[engine]()
        try:
            same = 0
            for alias in ([] if args.stage_only else compiled):
                sql = open(os.path.join(sql_dir, f"{alias}.sql"), encoding="utf-8").read()
                try:
                    rows = db.query(sql)
                    got = sorted(str(r[0]) for r in rows)
                except Exception as e:  # noqa: BLE001 - the engine's message is the report
                    print(f"  {engine}: {alias}: the engine refused the statement: {e}")
                    failures += 1
                    continue
                want = list_keys(os.path.join(proj, "out"), alias)
                if want is None:
                    print(f"  {engine}: {alias}: `run` wrote no list to compare with")
                    failures += 1
                elif got != want:
                    only_sql, only_run = sorted(set(got) - set(want)), sorted(set(want) - set(got))
                    print(f"  {engine}: {alias}: {len(got)} keys from SQL, {len(want)} from run; only SQL {only_sql[:5]}, only run {only_run[:5]}")
                    failures += 1
                else:
                    # A split list: some column of the SQL must name each key's file.
                    split = split_files(os.path.join(proj, "out"), alias)
                    if split and not any(all(str(r[i]) == split[str(r[0])] for r in rows) for i in range(1, len(rows[0]) if rows else 1)):
                        print(f"  {engine}: {alias}: no column of the SQL gives the file `run` put each key in")
                        failures += 1
                        continue
                    same += 1
            # The counts of every compiled segment, in one statement.
            res = sh([aud, "sql", "--dialect", engine, "--counts", *compiled], cwd=proj)
            rows = db.query(res.stdout)
            counted = 0
            for row in rows:
                alias, values = str(row[0]), [int(x) for x in row[1:]]
                want = [counts[alias][k] for k in COUNT_KEYS]
                if values != want:
                    print(f"  {engine}: counts of {alias}: SQL {dict(zip(COUNT_KEYS, values))}, count {dict(zip(COUNT_KEYS, want))}")
                    failures += 1
                else:
                    counted += 1
            if len(rows) != len(compiled):
                print(f"  {engine}: --counts gave {len(rows)} row(s) for {len(compiled)} segment(s)")
                failures += 1
            staged = check_stage(db, engine, aud, proj, work, compiled)
            failures += len(compiled) - staged
            randoms = sum(1 for a in compiled if a.startswith("random-"))
            alone = "not run (--stage-only)" if args.stage_only else f"{same} of {len(compiled)} give run's recipients"
            print(f"{engine} ({db.version}): {len(compiled)} compiled segment(s) ({len(compiled) - randoms} of the sample's, "
                  f"{randoms} random with seed {args.seed}); standalone statements: {alone}; "
                  f"through --stage: {staged} give run's recipients; counts agree for {counted}; not compiled: {len(refused)}")
            for alias, why in refused:
                print(f"  not compiled for {engine}: {alias}: {why}")
        finally:
            db.close()
    shutil.rmtree(work, ignore_errors=True)
    if failures:
        die(f"{failures} difference(s)")


if __name__ == "__main__":
    main()
