"""Benchmark: the LRS's storage path alone, journal against group commit (no HTTP, no checks).

Prepares N batches of 100 statements (those of ``bench/lrs_post.py``) ahead, then C
threads hand them to a :class:`StatementWriter` over a held DuckDB workspace, as the
server's request threads do: first with the statement journal (the server's default on
DuckDB), then, as the baseline in the same process, with the group commit alone (one
DuckDB commit per group of concurrent batches). Each run ends with every statement stored
in the store; the count is checked. Prints statements/s, CPU per statement and the ratio.

Run: .venv/bin/python bench/lrs_store.py [--batches 400] [--threads 4]
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import threading
import time
from pathlib import Path

from impactlens.domain.settings import WorkspaceSettings
from impactlens.services.lrs_batches import Batch, StatementWriter, prepare_json
from impactlens.services.portfolio import HeldWorkspace
from impactlens.services.workspace import Workspace
from impactlens.store.lrs import Client
from lrs_post import statement

CLIENT = Client("bench", "bench", "all", "-")


def run(batches: list[Batch], threads: int, *, journal: bool) -> tuple[float, float]:
    """Store every batch from ``threads`` threads; (seconds, CPU seconds) until stored."""
    path = Path(tempfile.mkdtemp()) / "ws"
    Workspace.create(path, WorkspaceSettings())
    ws = HeldWorkspace(path)
    writer = StatementWriter(ws.store, ws.unsettled_store if journal else None)
    ws.settled = writer.settled
    with ws.store():
        pass  # opened before the clock starts
    queue = iter(batches)
    lock = threading.Lock()

    def work() -> None:
        while True:
            with lock:
                batch = next(queue, None)
            if batch is None:
                return
            writer.write(batch)

    start, cpu = time.perf_counter(), time.process_time()
    workers = [threading.Thread(target=work) for _ in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    writer.close()  # stores what is still journaled
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    with ws.store() as store:
        stored = store.statements_version()[0]
    ws.close()
    expected = sum(len(b.ids) for b in batches)
    if stored != expected:
        raise SystemExit(f"{stored} statements stored, {expected} sent")
    return elapsed, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=400)
    parser.add_argument("--threads", type=int, default=4)
    args = parser.parse_args()
    batches = [
        prepare_json(
            json.dumps([statement(b * 100 + i) for i in range(100)]).encode(), client=CLIENT
        )
        for b in range(args.batches)
    ]
    total = args.batches * 100
    figures = {}
    for name, journal in (("journal", True), ("group commit (baseline)", False)):
        elapsed, cpu = run(batches, args.threads, journal=journal)
        figures[name] = total / elapsed
        print(
            f"{name}: {total:,} statements in {elapsed:.2f} s, {total / elapsed:,.0f}/s, "
            f"CPU {cpu / total * 1e6:.0f} us per statement"
        )
    ratio = figures["journal"] / figures["group commit (baseline)"]
    print(f"journal / group commit = {ratio:.2f}; load average {os.getloadavg()}")


if __name__ == "__main__":
    main()
