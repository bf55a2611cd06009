"""Benchmark: small commits of statement rows under DuckDB's checkpoint threshold and ours.

The LRS's mover stores journaled statements in transactions of about 2,000 rows; the
dashboard and the document resources commit a few rows at a time. DuckDB checkpoints
when its write-ahead log passes ``checkpoint_threshold`` (16 MB by default), and each
checkpoint compresses the table's last, still-filling row group again. This stores N
statements (those of ``bench/import_xapi.py``, as POST's rows) in transactions of
``--rows`` through ``DuckDBLrs.insert`` (the mover's own call) into a fresh store,
once with DuckDB's default and once with the store's ``CHECKPOINT_THRESHOLD``,
alternated ``--rounds`` times in this process, and prints per row: wall and CPU time
(the closing checkpoint included) and the file's size. Then what the threshold costs
after a crash: a child process stores the same rows and exits without closing, and
the next open replays the log.

Run: .venv/bin/python bench/duckdb_checkpoints.py [--statements 300000] [--rows 2000]
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from impactlens.domain.xapi.rows import pending_row
from impactlens.domain.xapi.validation import check_statement
from impactlens.store.duckdb import CHECKPOINT_THRESHOLD, DuckDBStore
from impactlens.store.duckdb_lrs import DuckDBLrs
from impactlens.store.lrs_sql import NewStatements
from import_xapi import statement

DEFAULT = "16MB"  # DuckDB's own
AUTHORITY = {"objectType": "Agent", "account": {"homePage": "https://x.org", "name": "bench"}}


def chunks(n: int, rows: int) -> list[NewStatements]:
    """N statements as POST's checked rows, in transactions of ``rows``."""
    rng, start = random.Random(1), datetime(2024, 1, 1, tzinfo=UTC)
    out, batch = [], []
    for i in range(n):
        batch.append(pending_row(check_statement(statement(rng, i, start)), authority=AUTHORITY))
        if len(batch) == rows or i == n - 1:
            out.append(NewStatements.of(batch))
            batch = []
    return out


def store_all(path: Path, parts: list[NewStatements], threshold: str, *, close: bool) -> None:
    store = DuckDBStore(path)
    store._con.execute(f"SET checkpoint_threshold = '{threshold}'")
    lrs, stored = DuckDBLrs(store), datetime(2024, 6, 1)
    for part in parts:
        with lrs.transaction():
            lrs.insert(part, stored)
    if close:
        store.close()
    else:  # a crash: the log is left for the next open
        os._exit(0)


def timed(parts: list[NewStatements], threshold: str) -> tuple[float, float, float]:
    """(wall, CPU, file bytes) per statement of storing ``parts`` and closing."""
    folder = Path(tempfile.mkdtemp())
    n = sum(len(p) for p in parts)
    wall, cpu = time.perf_counter(), time.process_time()
    store_all(folder / "s.duckdb", parts, threshold, close=True)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return wall / n * 1e6, cpu / n * 1e6, (folder / "s.duckdb").stat().st_size / n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--statements", type=int, default=300_000)
    parser.add_argument("--rows", type=int, default=2000, help="statements per transaction")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--crash", help=argparse.SUPPRESS)  # the child: store, then exit
    args = parser.parse_args()
    parts = chunks(args.statements, args.rows)
    if args.crash:
        store_all(Path(args.crash), parts, CHECKPOINT_THRESHOLD, close=False)
    print(f"{args.statements:,} statements in transactions of {args.rows:,}:")
    results: dict[str, list[tuple[float, float, float]]] = {DEFAULT: [], CHECKPOINT_THRESHOLD: []}
    for _ in range(args.rounds):
        for threshold in results:
            results[threshold].append(timed(parts, threshold))
            wall, cpu, size = results[threshold][-1]
            print(
                f"  checkpoint_threshold {threshold:>6}: {wall:5.1f} us wall, {cpu:5.1f} us CPU, "
                f"{size:4.0f} bytes per statement",
                flush=True,
            )
    mean = {t: [sum(r[k] for r in rs) / len(rs) for k in range(3)] for t, rs in results.items()}
    ours, theirs = mean[CHECKPOINT_THRESHOLD], mean[DEFAULT]
    print(
        f"ours / DuckDB's default: wall {ours[0] / theirs[0]:.2f}, CPU {ours[1] / theirs[1]:.2f}, "
        f"file {ours[2] / theirs[2]:.2f}"
    )
    path = Path(tempfile.mkdtemp()) / "s.duckdb"
    cmd = [sys.executable, __file__, "--crash", str(path), "--statements", str(args.statements)]
    subprocess.run([*cmd, "--rows", str(args.rows)], check=True)
    wal = path.with_name(path.name + ".wal")
    log = wal.stat().st_size if wal.exists() else 0
    began = time.perf_counter()
    DuckDBStore(path).close()
    print(
        f"after a crash: {log / 2**20:,.0f} MB of log, replayed by the next open in "
        f"{time.perf_counter() - began:.2f} s"
    )


if __name__ == "__main__":
    main()
