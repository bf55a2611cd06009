"""Benchmark: rows into PostgreSQL, Arrow-written CSV through COPY vs one Python row at a time.

The PostgreSQL store sends every import's rows (and ``import xapi``'s statements) with
``PostgresStore.copy_arrow``; the baseline is what it did before: psycopg's
``write_row`` per row. Both fill the same 7-column table of N activity-like rows, three
times each, in the same process; the ratio of the best times is printed.

Run: .venv/bin/python bench/postgres_copy.py --url postgresql://USER@HOST/EMPTY_DB [--rows 200000]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import time

import pyarrow as pa

from impactlens.store.postgres import PostgresStore

COLUMNS = (
    "person_id TEXT, program TEXT, verb TEXT, asset_id TEXT, timestamp TIMESTAMP, "
    "duration_min DOUBLE PRECISION, score DOUBLE PRECISION"
)


def rows(n: int) -> pa.Table:
    """N activity-like rows (a third of the scores present)."""
    start = dt.datetime(2024, 1, 1)
    return pa.table(
        {
            "person_id": pa.array([f"p_{i:024x}" for i in range(n)]),
            "program": pa.array(["onboarding"] * n),
            "verb": pa.array(["completed"] * n),
            "asset_id": pa.array([f"a{i % 50}" for i in range(n)]),
            "timestamp": pa.array(
                [start + dt.timedelta(minutes=i) for i in range(n)], pa.timestamp("us")
            ),
            "duration_min": pa.array([float(i % 90) for i in range(n)]),
            "score": pa.array([0.5 if i % 3 == 0 else None for i in range(n)], pa.float64()),
        }
    )


def by_rows(store: PostgresStore, name: str, table: pa.Table) -> None:
    """The baseline: one ``write_row`` per row."""
    cols = ", ".join(table.column_names)
    with store._pg.cursor() as cur, cur.copy(f"COPY {name} ({cols}) FROM STDIN") as copy:
        for batch in table.to_batches(max_chunksize=50_000):
            for row in zip(*(c.to_pylist() for c in batch.columns), strict=True):
                copy.write_row(row)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True, help="an empty PostgreSQL database's URL")
    parser.add_argument("--rows", type=int, default=200_000)
    args = parser.parse_args()
    table = rows(args.rows)
    times: dict[str, list[float]] = {"python rows": [], "arrow csv": []}
    with PostgresStore(args.url) as store:
        for _ in range(3):
            for kind in times:
                name = "bench_copy_" + kind.replace(" ", "_")
                store._pg.execute(f"DROP TABLE IF EXISTS {name}")
                store._pg.execute(f"CREATE TABLE {name} ({COLUMNS})")
                start = time.perf_counter()
                if kind == "arrow csv":
                    store.copy_arrow(name, table)
                else:
                    by_rows(store, name, table)
                times[kind].append(time.perf_counter() - start)
        counts = {
            store._pg.execute(f"SELECT count(*), count(score) FROM {n}").fetchone()
            for n in ("bench_copy_python_rows", "bench_copy_arrow_csv")
        }
        assert len(counts) == 1, counts  # both wrote the same rows and nulls
        for kind in times:
            store._pg.execute(f"DROP TABLE {'bench_copy_' + kind.replace(' ', '_')}")
    for kind, spent in times.items():
        print(f"{kind}: {', '.join(f'{t:.2f}' for t in spent)} s for {args.rows:,} rows")
    ratio = min(times["python rows"]) / min(times["arrow csv"])
    print(f"arrow csv is {ratio:.1f}x faster (best of 3); load average {os.getloadavg()}")


if __name__ == "__main__":
    main()
