"""The DuckDB side of bench/many.py: the statements `audience sql --dialect
duckdb --stage audience_stage -o DIR` printed, run over the generator's
files as they are, one CSV per segment.

    python3 bench/many_duckdb.py --data DIR --format csv|parquet --sql DIR --out DIR [--threads N]

The relations the statements read (`contacts`, `orders`, `tickets`,
`campaigns`) are views over the files, cleaned by hand the way `audience`
reads them (section 1 of the spec): text trimmed, an empty cell missing; in
CSV, dates and numbers typed as audience infers these columns (birth dates
DD/MM/YYYY, decimal commas with spaces between thousands, 0/1 flags); and
a repeated key keeps its first row in file order, as `run` keeps it. So
DuckDB parses the files itself, inside the timed run, as audience does.
"""
import argparse
import glob
import os

import duckdb

TEXT = "nullif(trim({c}), '')"

# Column -> how its CSV text becomes the type audience gives it. Columns
# not named are text.
CSV_TYPES = {
    "participants": {
        "birth_date": "CAST(try_strptime(nullif(trim(birth_date), ''), '%d/%m/%Y') AS DATE)",
        "signup_date": "try_cast(nullif(trim(signup_date), '') AS DATE)",
        "last_activity": "try_cast(nullif(trim(last_activity), '') AS TIMESTAMP)",
    },
    "orders": {
        "order_id": "try_cast(nullif(trim(order_id), '') AS BIGINT)",
        "edition_date": "try_cast(nullif(trim(edition_date), '') AS DATE)",
        "amount": "try_cast(replace(replace(replace(replace(nullif(trim(amount), ''), ' ', ''), chr(160), ''), chr(8239), ''), ',', '.') AS DOUBLE)",
        "ordered_at": "try_cast(nullif(trim(ordered_at), '') AS TIMESTAMP)",
    },
    "campaigns": {
        "sent_at": "try_cast(nullif(trim(sent_at), '') AS DATE)",
        "opened": "CASE trim(opened) WHEN '1' THEN TRUE WHEN '0' THEN FALSE END",
        "clicked": "CASE trim(clicked) WHEN '1' THEN TRUE WHEN '0' THEN FALSE END",
    },
}
DELIMS = {"participants": ",", "orders": ";", "campaigns": ","}
RELATIONS = {"contacts": "participants", "orders": "orders", "tickets": "orders", "campaigns": "campaigns"}


def source(con, data: str, fmt: str, file: str) -> str:
    path = os.path.join(data, f"{file}.{fmt}").replace("'", "''")
    if fmt == "parquet":
        cols = con.execute(f"DESCRIBE SELECT * FROM read_parquet('{path}')").fetchall()
        items = [TEXT.format(c=f'"{c}"') + f' AS "{c}"' if t == "VARCHAR" else f'"{c}"' for c, t, *_ in cols]
        return f"SELECT {', '.join(items)} FROM read_parquet('{path}')"
    raw = f"read_csv('{path}', header = true, delim = '{DELIMS[file]}', quote = '\"', all_varchar = true)"
    cols = [c for c, *_ in con.execute(f"DESCRIBE SELECT * FROM {raw}").fetchall()]
    typed = CSV_TYPES[file]
    items = [f'{typed.get(c, TEXT.format(c=chr(34) + c + chr(34)))} AS "{c}"' for c in cols]
    return f"SELECT {', '.join(items)} FROM {raw}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True)
    ap.add_argument("--format", required=True, choices=["csv", "parquet"])
    ap.add_argument("--sql", required=True, help="the folder `audience sql --stage audience_stage -o` wrote")
    ap.add_argument("--out", required=True)
    ap.add_argument("--threads", type=int)
    args = ap.parse_args()
    con = duckdb.connect()
    if args.threads:
        con.execute(f"SET threads = {args.threads}")
    for rel, file in RELATIONS.items():
        if rel == "contacts":
            # One row per key, the first in file order, as `run` keeps it
            # (the SQL's own rule, the first by every column, would pick
            # another row of a repeated key).
            con.execute(f'CREATE TEMP TABLE contacts_file AS {source(con, args.data, args.format, file)}')
            con.execute('CREATE VIEW contacts AS SELECT * FROM contacts_file WHERE rowid IN '
                        '(SELECT min(rowid) FROM contacts_file GROUP BY lower(trim(email)))')
        else:
            con.execute(f'CREATE VIEW "{rel}" AS {source(con, args.data, args.format, file)}')
    stage = glob.glob(os.path.join(args.sql, "*.stage.sql"))
    if len(stage) != 1:
        raise SystemExit(f"{args.sql}: expected one *.stage.sql file, found {len(stage)}")
    con.execute(open(stage[0], encoding="utf-8").read())
    os.makedirs(args.out, exist_ok=True)
    for f in sorted(glob.glob(os.path.join(args.sql, "*.sql"))):
        if f.endswith(".stage.sql"):
            continue
        alias = os.path.basename(f)[:-4]
        stmt = open(f, encoding="utf-8").read().strip().rstrip(";")
        out = os.path.join(args.out, f"{alias}.csv").replace("'", "''")
        con.execute(f"COPY ({stmt}) TO '{out}' (FORMAT csv, HEADER)")


if __name__ == "__main__":
    main()
