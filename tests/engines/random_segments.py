"""Random segment files over a project's data, for the engine comparison:
every operator on every kind of field, table conditions with every
aggregate, scopes, references, include/exclude and both purposes, nested
all/any/not. The same seed gives the same files.

The field catalogue comes from the relations `audience sql --relations`
writes (column types and sampled values), plus the project's built-in
metrics, metrics and RFM fields.
"""
import glob
import os
import random
import unicodedata

import duckdb

class Catalogue:
    """Every field a condition may use (from `audience fields --format json`)
    with its type, and for columns a sample of their values."""

    def __init__(self, fields: list[dict], rel_dir: str, skip: tuple[str, ...] = ("cluster",)):
        con = duckdb.connect()
        samples: dict[str, list] = {}
        for f in sorted(glob.glob(os.path.join(rel_dir, "*.parquet"))):
            name = os.path.basename(f)[: -len(".parquet")]
            for c, *_ in con.execute(f"DESCRIBE SELECT * FROM read_parquet('{f}')").fetchall():
                values = [r[0] for r in con.execute(
                    f"SELECT \"{c}\" FROM read_parquet('{f}') WHERE \"{c}\" IS NOT NULL USING SAMPLE 40 ROWS (reservoir, 7)").fetchall()]
                samples[c if name == "contacts" else f"{name}.{c}"] = values
        self.fields: dict[str, tuple[str, list]] = {}
        self.tables: dict[str, dict[str, tuple[str, list]]] = {}
        for f in fields:
            name, k = f["field"], f["type"].split(" ")[0]
            if name in skip:
                continue
            values = samples.get(name, [])
            if name == "rfm_class":
                values = ["Champions", "Loyal Customers", "Potential Loyalist", "At Risk", "Lost", "No purchase", "Others"]
            if "." in name:
                table, column = name.split(".", 1)
                self.tables.setdefault(table, {})[column] = (k, values)
            else:
                self.fields[name] = (k, values)
        key = fields[0]["field"]
        self.keys = sorted({str(v).strip().lower() for v in samples.get(key, [])})
        # Columns whose value cannot differ between rows of one contact at
        # one instant: `first`/`last` over them mean the same whatever the
        # order of tied rows (file order in `run`, column order in SQL).
        self.tie_safe: dict[str, set[str]] = {}
        for table, cols in self.tables.items():
            f = os.path.join(rel_dir, f"{table}.parquet")
            dates = [c for c, (k, _) in cols.items() if k in ("date", "datetime")]
            safe = set()
            for c in cols:
                groups = ", ".join([f"lower(trim(\"{key}\"))"] + [f"\"{d}\"" for d in dates])
                clash = con.execute(
                    f"SELECT count(*) FROM (SELECT count(DISTINCT coalesce(CAST(\"{c}\" AS VARCHAR), chr(0))) AS n "
                    f"FROM read_parquet('{f}') GROUP BY {groups}) WHERE n > 1").fetchone()[0]
                if clash == 0:
                    safe.add(c)
            self.tie_safe[table] = safe


def fold_variant(rng: random.Random, s: str) -> str:
    """The same text as a marketer might type it: other case, no accents."""
    choice = rng.random()
    if choice < 0.3:
        return s.upper()
    if choice < 0.5:
        return "".join(c for c in unicodedata.normalize("NFD", s) if unicodedata.category(c) != "Mn")
    return s


def quote(v) -> str:
    """A YAML scalar: text always quoted, so that YAML never retypes it."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    s = str(v).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{s}"'


def number_values(rng: random.Random, values: list, k: str) -> float | int:
    if values:
        v = rng.choice(values)
        v = v if isinstance(v, (int, float)) else 0
    else:
        v = rng.choice([0, 1, 2, 3, 5, 10, 50, 100, 250, 500])
    return int(v) if k == "int" else round(float(v) + rng.choice([0, 0.5, -0.25]), 2)


def date_value(rng: random.Random, values: list) -> str:
    if values and rng.random() < 0.5:
        return str(rng.choice(values))[:10]
    return rng.choice(["-30d", "-6m", "-1y", "-2y", "today", "-3m", "+1m", "2024-06-15", "2025-01-01"])


def leaf(rng: random.Random, name: str, k: str, values: list, ranks: bool = True) -> str:
    """One `op, value` body of a test of `name`; `ranks`: top/bottom allowed
    (not inside a table's `where`)."""
    if k in ("int", "float"):
        ops = ["lt", "lte", "gt", "gte", "eq", "neq", "between", "in", "is_empty", "is_not_empty"] + (["top", "bottom"] if ranks else [])
        op = rng.choice(ops)
        if op in ("is_empty", "is_not_empty"):
            return f"op: {op}"
        if op == "between":
            a, b = sorted([number_values(rng, values, k), number_values(rng, values, k)])
            return f"op: between, value: [{quote(a)}, {quote(b)}]"
        if op == "in":
            return f"op: in, value: [{', '.join(quote(number_values(rng, values, 'int')) for _ in range(3))}]"
        if op in ("top", "bottom"):
            return f"op: {op}, value: {quote(rng.choice(['10%', '25%', '50%', 20, 100]))}"
        return f"op: {op}, value: {quote(number_values(rng, values, k))}"
    if k in ("date", "datetime"):
        op = rng.choice(["before", "after", "on", "in_last", "between", "is_empty", "lt", "gte"])
        if op == "is_empty":
            return "op: is_empty"
        if op == "in_last":
            return f"op: in_last, value: {quote(rng.choice(['30d', '6m', '1y', '2w', '3y']))}"
        if op == "between":
            return f"op: between, value: [{quote('-2y')}, {quote(rng.choice(['today', '-6m', '-1y']))}]"
        return f"op: {op}, value: {quote(date_value(rng, values))}"
    if k == "bool":
        return f"op: {rng.choice(['is_true', 'is_false', 'is_empty'])}"
    texts = [str(v) for v in values] or ["x"]
    v = rng.choice(texts)
    op = rng.choice(["eq", "neq", "in", "not_in", "contains", "not_contains", "starts_with", "ends_with", "matches",
                     "is_empty", "is_not_empty", "is_true", "is_false"])
    cs = ", case_sensitive: true" if rng.random() < 0.15 else ""
    if op in ("is_empty", "is_not_empty", "is_true", "is_false"):
        return f"op: {op}"
    if op in ("in", "not_in"):
        return f"op: {op}, value: [{', '.join(quote(fold_variant(rng, rng.choice(texts))) for _ in range(rng.randint(1, 4)))}]{cs}"
    if op in ("contains", "not_contains", "starts_with", "ends_with"):
        n = max(1, min(len(v), rng.randint(1, 4)))
        part = v[:n] if op == "starts_with" else v[-n:] if op == "ends_with" else v[len(v) // 3: len(v) // 3 + n]
        return f"op: {op}, value: {quote(fold_variant(rng, part) or 'a')}{cs}"
    if op == "matches":
        letters = "".join(c for c in v if c.isalnum())[:3] or "a"
        return f"op: matches, value: {quote(rng.choice(['^', '', '']) + letters)}{cs}"
    return f"op: {op}, value: {quote(fold_variant(rng, v))}{cs}"


def table_cond(rng: random.Random, cat: Catalogue) -> str:
    table = rng.choice(sorted(cat.tables))
    cols = {c: v for c, v in cat.tables[table].items()}
    parts = [f"table: {table}"]
    if rng.random() < 0.7:
        c = rng.choice(sorted(cols))
        parts.append(f"where: {{field: {c}, {leaf(rng, c, *cols[c], ranks=False)}}}")
    has_date = any(k in ("date", "datetime") for k, _ in cols.values())
    aggs = ["count", "count_distinct", "sum", "avg", "min", "max"] + (["first", "last"] if has_date else [])
    agg = rng.choice(aggs)
    if agg == "count":
        if rng.random() < 0.5:
            parts.append(f"op: {rng.choice(['gte', 'gt', 'eq', 'lt'])}, value: {rng.choice([0, 1, 2, 3, 5])}")
        return "{" + ", ".join(parts) + "}"
    numeric = [c for c, (k, _) in cols.items() if k in ("int", "float")]
    if agg in ("sum", "avg"):
        if not numeric:
            return "{" + ", ".join(parts) + "}"
        c = rng.choice(numeric)
    elif agg in ("first", "last"):
        c = rng.choice(sorted(cat.tie_safe[table] or cols))
    else:
        c = rng.choice(sorted(cols))
    parts.append(f"agg: {agg}, field: {c}")
    k, values = cols[c]
    if agg == "count_distinct":
        parts.append(f"op: {rng.choice(['gte', 'eq', 'lt'])}, value: {rng.choice([1, 2, 3])}")
    elif agg in ("sum", "avg"):
        parts.append(leaf(rng, c, "float", values))
    else:
        body = leaf(rng, c, k, values)
        # top/bottom rank contacts; a table aggregate may use them too.
        parts.append(body)
    return "{" + ", ".join(parts) + "}"


def cond(rng: random.Random, cat: Catalogue, depth: int, earlier: list[str]) -> str:
    r = rng.random()
    if depth < 3 and r < 0.35:
        form = rng.choice(["all", "any"])
        items = [cond(rng, cat, depth + 1, earlier) for _ in range(rng.randint(0 if depth else 1, 3))]
        return f"{{{form}: [{', '.join(items)}]}}"
    if depth < 3 and r < 0.42:
        return f"{{not: {cond(rng, cat, depth + 1, earlier)}}}"
    if earlier and r < 0.47:
        return f"{{segment: {rng.choice(earlier)}}}"
    if r < 0.65:
        return table_cond(rng, cat)
    name = rng.choice(sorted(cat.fields))
    k, values = cat.fields[name]
    return f"{{field: {name}, {leaf(rng, name, k, values)}}}"


def write(seg_dir: str, cat: Catalogue, n: int, seed: int) -> list[str]:
    """Writes n segment files random-NNN.yaml; returns their aliases."""
    rng = random.Random(seed)
    os.makedirs(seg_dir, exist_ok=True)
    aliases = []
    for i in range(n):
        alias = f"random-{i:03d}"
        lines = [f"name: Random {i}"]
        if rng.random() < 0.2:
            lines.append("purpose: informational")
        if rng.random() < 0.12:
            table = rng.choice(sorted(cat.tables))
            c = rng.choice(sorted(cat.tables[table]))
            lines.append(f"scope: {{table: {table}, where: {{field: {c}, {leaf(rng, c, *cat.tables[table][c], ranks=False)}}}}}")
        lines.append(f"where: {cond(rng, cat, 0, aliases[-20:])}")
        if rng.random() < 0.1:
            lines.append(f"include: [{', '.join(quote(k) for k in rng.sample(cat.keys, 2))}]")
        if rng.random() < 0.1:
            lines.append(f"exclude: [{', '.join(quote(k) for k in rng.sample(cat.keys, 3))}]")
        lines.append("export: {columns: [email]}")
        open(os.path.join(seg_dir, f"{alias}.yaml"), "w", encoding="utf-8").write("\n".join(lines) + "\n")
        aliases.append(alias)
    return aliases
