#!/usr/bin/env python3
"""Run bench/segments.sql with DuckDB over one generated data set.

    python3 bench/duckdb_run.py --data DIR --format csv|parquet --out DIR [--as-of 2025-11-30] [--threads N]

This is the "DuckDB side" of the benchmark: bench/run.py times this process
(import, reading, the feature table, one COPY per segment) as a whole, the way
it times `audience run` + `audience rfm`. It writes OUT/ALIAS.csv for each
sample segment, OUT/rfm_scores.csv and OUT/rfm_classes.csv.
"""

import argparse
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SQL_FILE = os.path.join(HERE, "segments.sql")

# Every contact column, in the order of the generator's participants file: the
# default export of a segment (the key column holds the normalised key).
ALL_COLUMNS = (
    "k AS email, first_name, last_name, civility, birth_date, postal_code, city, region, "
    "country, language, device, newsletter, signup_date, last_activity, mobile, sms_optin"
)
CSV_OPTIONS = "FORMAT csv, HEADER, DATEFORMAT '%Y-%m-%d', TIMESTAMPFORMAT '%Y-%m-%dT%H:%M:%S'"


def render(fmt: str, data: str, out: str, as_of: str, threads: int | None) -> str:
    """segments.sql with the placeholders filled and the other format's source block removed."""
    text = open(SQL_FILE, encoding="utf-8").read()
    kept, skipping = [], False
    for line in text.splitlines():
        m = re.match(r"--\s*@@\s*sources:(\w+)", line)
        if m:
            skipping = m.group(1) != fmt
            continue
        if re.match(r"--\s*@@\s*end", line):
            skipping = False
            continue
        if not skipping:
            kept.append(line)
    sql = "\n".join(kept)
    def lit(path: str) -> str:
        return os.path.abspath(path).replace("'", "''")
    for name, value in {
        "DATA": lit(data),
        "OUT": lit(out),
        "AS_OF": as_of,
        "THREADS": f"SET threads = {threads};" if threads else "",
        "ALL_COLUMNS": ALL_COLUMNS,
        "CSV_OPTIONS": CSV_OPTIONS,
    }.items():
        sql = sql.replace("{{" + name + "}}", value)
    left = re.findall(r"\{\{\w+\}\}", sql)
    if left:
        sys.exit(f"segments.sql: unknown placeholder(s) {sorted(set(left))}")
    return sql


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True, help="folder written by audience-gen")
    ap.add_argument("--format", required=True, choices=["csv", "parquet"])
    ap.add_argument("--out", required=True, help="folder for the CSV outputs (created)")
    ap.add_argument("--as-of", default="2025-11-30")
    ap.add_argument("--threads", type=int, default=None, help="DuckDB threads (default: DuckDB's, every core)")
    ap.add_argument("--print-sql", action="store_true", help="print the SQL that would run, and stop")
    args = ap.parse_args()

    sql = render(args.format, args.data, args.out, args.as_of, args.threads)
    if args.print_sql:
        print(sql)
        return
    import duckdb  # imported here so that the import is part of the timed process, as audience's start-up is

    os.makedirs(args.out, exist_ok=True)
    con = duckdb.connect()  # in-memory: nothing is cached between runs
    con.execute(sql)
    con.close()


if __name__ == "__main__":
    main()
