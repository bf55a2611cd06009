"""Checking large statement batches in other processes, beside the one holding the store.

The server holds the store in one process, and Python runs one thread at a time: the
checks and rows of one batch (about 100 us per statement) then wait for those of the
others and for the commits. Large JSON bodies are therefore parsed, checked and turned
into Arrow rows by :func:`.lrs_batches.prepare_json` in worker processes, which send
back only the :class:`.lrs_batches.Batch` (the rows as Arrow); the server process keeps
HTTP, judging, the journal and the mover. When every worker is busy a body waits for
one: the server process's single running thread is what limits the LRS (its CPU stays
near one core while the machine has cores idle), so checking there would only slow the
rest. Answers are the same either way, refusals included.

Workers are started (``spawn``: no copy of the server's DuckDB threads) at the first
large body, so a server that only sees small requests never starts one.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
from concurrent.futures import ProcessPoolExecutor

from impactlens.services.lrs_batches import Batch, prepare_json
from impactlens.store.lrs import Client

ENV = "IMPACTLENS_XAPI_CHECKERS"
MIN_BYTES = 16 * 1024  # smaller bodies (about 25 statements) are checked in the request


def default_workers() -> int:
    """``IMPACTLENS_XAPI_CHECKERS``, else one per core (at most 4)."""
    value = os.environ.get(ENV, "")
    if value.isdigit():
        return int(value)
    return max(1, min(4, os.cpu_count() or 1))


class Checkers:
    """A pool of processes preparing large POST bodies (``workers`` 0: none, in-request)."""

    def __init__(self, workers: int | None = None) -> None:
        self.workers = default_workers() if workers is None else workers
        self.used = 0  # bodies checked by a worker
        self._pool: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()

    def wanted(self, body: bytes) -> bool:
        """Whether a body is worth a round trip to a worker."""
        return self.workers > 0 and len(body) >= MIN_BYTES

    def prepare(self, body: bytes, client: Client, version: str) -> Batch:
        """The checked batch of a JSON body (raises its :class:`XapiError` as in-request).

        Waits for a free worker when all are busy (the pool queues the body).
        """
        with self._lock:
            if self._pool is None:
                self._pool = ProcessPoolExecutor(
                    self.workers, mp_context=multiprocessing.get_context("spawn")
                )
            pool = self._pool
            self.used += 1
        return pool.submit(prepare_json, body, client=client, version=version).result()

    def close(self) -> None:
        """Stop the workers (the server is shutting down)."""
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(cancel_futures=True)
