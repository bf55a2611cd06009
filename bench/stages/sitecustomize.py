"""Stage timings of a POSTing ``impactlens serve``: where a request's time goes.

``bench/lrs_post.py --stages`` starts the server with this directory first on
``PYTHONPATH`` and ``IMPACTLENS_BENCH_STAGES`` naming a file. Python imports this module
at start-up; in the server it wraps the functions of a POST's path (checking, judging
and journaling, syncing, moving) and the held store's two ways in (the wait for its
lock, settling included, and how long it was held), and writes calls and seconds per
stage to that file every second. Anything else that starts with this path does nothing.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

OUT = os.environ.get("IMPACTLENS_BENCH_STAGES")
_stats: dict[str, list[float]] = {}
_lock = threading.Lock()


def _record(name: str, seconds: float) -> None:
    with _lock:
        entry = _stats.setdefault(name, [0, 0.0])
        entry[0] += 1
        entry[1] += seconds


def _timed(owner: Any, attr: str, name: str) -> None:
    inner: Callable[..., Any] = getattr(owner, attr)

    def timed(*args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return inner(*args, **kwargs)
        finally:
            _record(name, time.perf_counter() - start)

    setattr(owner, attr, timed)


def _locked(owner: Any, attr: str) -> None:
    inner = getattr(owner, attr)

    @contextmanager
    def timed(self: Any, *args: Any, **kwargs: Any) -> Iterator[Any]:
        start = time.perf_counter()
        with inner(self, *args, **kwargs) as value:
            got = time.perf_counter()
            _record(f"{attr}: waited (and settled)", got - start)
            try:
                yield value
            finally:
                _record(f"{attr}: held", time.perf_counter() - got)

    setattr(owner, attr, timed)


def _dump() -> None:
    assert OUT is not None
    while True:
        time.sleep(1)
        with _lock:
            text = json.dumps(_stats)
        with open(OUT + ".tmp", "w") as f:
            f.write(text)
        os.replace(OUT + ".tmp", OUT)


def _install() -> None:
    from impactlens.services import lrs_batches, lrs_checkers, portfolio
    from impactlens.store import duckdb_lrs, lrs_journal, lrs_sql
    from impactlens.web.xapi import statements

    for attr in ("unsettled_store", "store"):
        _locked(portfolio.HeldWorkspace, attr)
        _stats.update({f"{attr}: waited (and settled)": [0, 0.0], f"{attr}: held": [0, 0.0]})
    for owner, attr, name in [
        (statements, "write", "request (checked, journaled, synced)"),
        (lrs_batches, "prepare_batch", "check in the server (lock wait included)"),
        (lrs_checkers.Checkers, "prepare", "check in a worker (queue wait included)"),
        (lrs_batches.StatementWriter, "_journaled", "judge, journal, sync"),
        (duckdb_lrs.DuckDBLrs, "find", "  find stored ids"),
        (duckdb_lrs.DuckDBLrs, "_version", "    probe the table version"),
        (lrs_sql.NewStatements, "dated", "  date the batch"),
        (lrs_journal.Journal, "append", "  journal append"),
        (lrs_journal.Journal, "sync", "  journal sync"),
        (lrs_batches.StatementWriter, "_move", "move journaled rows (judging goes on)"),
        (lrs_batches.StatementWriter, "settle", "store journaled rows (judging waits)"),
        (lrs_sql.NewStatements, "stamped", "  stamp a batch's text (moving or storing)"),
    ]:
        _timed(owner, attr, name)
        _stats[name] = [0, 0.0]
    threading.Thread(target=_dump, name="bench-stages", daemon=True).start()


if OUT and "serve" in sys.argv:
    _install()
