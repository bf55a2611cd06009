"""Where ``import xapi`` spends its time: the staging query taken apart, phase by phase.

Writes N realistic statements (those of ``bench/import_xapi.py``) as JSON Lines, then
times in one in-memory DuckDB (4 GB memory limit, the machine's threads): the bare
read (the baseline), the staging the import runs (the typed reader alone: written
columns and checks; then the keys), with ``--old`` the former staging taken apart
(the typed read positionally joined to the objects reader, the path columns, the
derived columns, the 98 checks), and the whole ``import_statements`` into a store.
Each figure is also given per statement.

Run: .venv/bin/python bench/import_xapi_phases.py [--statements 300000] [--memory-limit 1GB]
"""

from __future__ import annotations

import argparse
import os
import random
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

from impactlens.domain.xapi import codec
from impactlens.ingest.xapi import import_statements
from impactlens.store import xapi_bulk
from impactlens.store.duckdb import DuckDBStore
from impactlens.store.xapi_checks import CHECKS
from impactlens.store.xapi_fast import keys_sql, lines_table_sql, narrow_sql, probe_sql
from impactlens.store.xapi_stage import WRITTEN, path_columns, stage_sql, typed_source
from import_xapi import statement


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--statements", type=int, default=300_000)
    parser.add_argument("--memory-limit", default="1GB", help="the store's (default 1GB)")
    parser.add_argument("--old", action="store_true", help="also time the former staging")
    args = parser.parse_args()
    n = args.statements
    folder = Path(tempfile.mkdtemp())
    path = folder / "statements.jsonl"
    rng, start = random.Random(1), datetime(2024, 1, 1, tzinfo=UTC)
    with path.open("wb") as out:
        for i in range(n):
            out.write(codec.dumps(statement(rng, i, start)).encode() + b"\n")
    con = duckdb.connect()
    con.execute("SET memory_limit = '4GB'")
    literal = f"'{path}'"
    source = typed_source(literal, "newline_delimited")

    def timed(label: str, sql: str) -> float:
        began = time.perf_counter()
        con.execute(sql)
        spent = time.perf_counter() - began
        print(f"{label:<58} {spent:6.2f} s {spent / n * 1e6:6.1f} us/statement", flush=True)
        return spent

    objects = f"read_json_objects({literal}, format='newline_delimited')"
    base = timed("baseline: objects reader, count", f"SELECT count(*) FROM {objects}")
    staged = timed("staging: the lines (CSV reader, parallel)", lines_table_sql(literal, "lines"))
    staged += timed("  the probe (blank lines, shapes, nulls, keys)", probe_sql("lines"))
    staged += timed(
        "  each line parsed: written columns + checks + text",
        narrow_sql(literal, "newline_delimited", "fast", lines="lines"),
    )
    typed = timed(
        "the typed reader instead (arrays, padded lines)",
        narrow_sql(literal, "newline_delimited", "typed"),
    )
    typed += timed("  the statements' keys and nulls (objects reader)", keys_sql(objects))
    if args.old:
        timed(
            "former: typed + objects readers, positional join, count",
            f"SELECT count(*) FROM ({source})",
        )
        timed(
            "  the same, materialised (STRUCT columns)",
            f"CREATE TEMP TABLE joined AS SELECT * FROM ({source})",
        )
        timed(
            "  its path columns (value and JSON type per path)",
            f"CREATE TEMP TABLE q AS SELECT ln, line, jt, keys, {path_columns()} FROM joined",
        )
        con.execute(stage_sql(source, "st", typed=True))
        timed(
            "  staging view materialised (the former import)",
            "CREATE TEMP TABLE s AS SELECT * FROM st_src",
        )
        any_bad = " OR ".join(f"({cond})" for _, _, cond in CHECKS)
        timed(
            f"  the {len(CHECKS)} checks ORed, narrow table",
            f"CREATE TEMP TABLE narrow AS SELECT {', '.join(WRITTEN)}, "
            f"({any_bad}) IS TRUE AS bad FROM s",
        )
    spent = _timing(["stage", "conflicts", "write", "_append", "_apply_voiding"])
    with DuckDBStore(folder / "store.duckdb", memory_limit=args.memory_limit) as store:
        began = time.perf_counter()
        import_statements(store, [path], user="bench")
        whole = time.perf_counter() - began
    print(
        f"{'import_statements, whole (stage, check, write, commit)':<58} {whole:6.2f} s "
        f"{whole / n * 1e6:6.1f} us/statement: {n / whole:,.0f} statements/s"
    )
    rest = whole - spent["stage"] - spent["conflicts"] - spent["write"]
    for label, s in [*spent.items(), ("the rest (commit, log, drop)", rest)]:
        print(f"  {label:<56} {s:6.2f} s {s / n * 1e6:6.1f} us/statement")
    print(
        f"staging / baseline read: {staged / base:.0f}x (the typed reader's {typed / base:.0f}x); "
        f"load average {os.getloadavg()}"
    )


def _timing(names: list[str]) -> dict[str, float]:
    """Time the calls of these ``xapi_bulk`` functions (``_append`` by table)."""
    spent: dict[str, float] = {}

    def wrap(name: str) -> None:
        inner = getattr(xapi_bulk, name)

        def timed(*args: Any, **kwargs: Any) -> Any:
            began = time.perf_counter()
            try:
                return inner(*args, **kwargs)
            finally:
                key = f"{name} {args[1]}" if name == "_append" else name
                spent[key] = spent.get(key, 0.0) + time.perf_counter() - began

        setattr(xapi_bulk, name, timed)

    for name in names:
        wrap(name)
        if name != "_append":
            spent[name] = 0.0
    return spent


if __name__ == "__main__":
    main()
