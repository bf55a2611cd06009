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

Each worker has its own pipe, and the request's thread writes the body to it and reads
the answer itself: no queue-feeding or result thread in between, whose wake-ups and
hand-offs (a ``ProcessPoolExecutor``'s: 14% of the server process's samples in a
profile) cost CPU the checks need (the server with its workers spent ~10% less per
statement without them, docs/performance.md). A worker that dies (killed, out of
memory) is replaced and its body checked in the server, so the request still gets its
answer.

Workers are started (``spawn``: no copy of the server's DuckDB threads) at the first
large body, so a server that only sees small requests never starts one.
"""

from __future__ import annotations

import gc
import logging
import multiprocessing
import os
import pickle
import queue
import threading
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

from impactlens.services.lrs_batches import Batch, prepare_json
from impactlens.store.lrs import Client

ENV = "IMPACTLENS_XAPI_CHECKERS"
MIN_BYTES = 16 * 1024  # smaller bodies (about 25 statements) are checked in the request
_CONTEXT = multiprocessing.get_context("spawn")
_log = logging.getLogger(__name__)


def default_workers() -> int:
    """``IMPACTLENS_XAPI_CHECKERS``, else one per core (at most 4)."""
    value = os.environ.get(ENV, "")
    if value.isdigit():
        return int(value)
    return max(1, min(4, os.cpu_count() or 1))


@dataclass
class _Refused:
    """What a worker sends back when the body is refused (the exception, raised as is)."""

    error: BaseException


class _Worker:
    """One checking process and the server's end of its pipe."""

    def __init__(self) -> None:
        self.conn, child = _CONTEXT.Pipe()
        self.process = _CONTEXT.Process(
            target=_serve, args=(child,), name="impactlens-xapi-checker", daemon=True
        )
        self.process.start()
        child.close()

    def exchange(self, body: bytes, client: Client, version: str) -> Batch | _Refused:
        """Send a body, return the worker's answer (raises ``EOFError`` if it died)."""
        self.conn.send_bytes(pickle.dumps((client, version), protocol=pickle.HIGHEST_PROTOCOL))
        self.conn.send_bytes(body)
        answer = pickle.loads(self.conn.recv_bytes())
        assert isinstance(answer, Batch | _Refused)
        return answer

    def stop(self) -> None:
        self.conn.close()  # the worker sees the end of its pipe and returns
        self.process.join(timeout=5)
        if self.process.is_alive():
            self.process.kill()
            self.process.join()


def _serve(conn: Connection) -> None:
    """A checking process: a body in, its batch (or why it is refused) out, until EOF."""
    # a batch's parsed statements hold no cycles: the collector only costs time here (5% of
    # a batch's preparing at the default threshold); what was loaded is never collected
    gc.freeze()
    gc.set_threshold(50_000, 20, 20)
    while True:
        try:
            client, version = pickle.loads(conn.recv_bytes())
            body = conn.recv_bytes()
        except (EOFError, OSError):
            return
        try:
            answer: Any = prepare_json(body, client=client, version=version)
        except Exception as exc:  # sent back and raised in the server, as in-request
            answer = _Refused(exc)
        try:
            data = pickle.dumps(answer, protocol=pickle.HIGHEST_PROTOCOL)
        except Exception as exc:  # an exception that does not pickle: its message does
            data = pickle.dumps(_Refused(RuntimeError(f"{type(exc).__name__}: {exc}")))
        conn.send_bytes(data)


class Checkers:
    """A pool of processes preparing large POST bodies (``workers`` 0: none, in-request)."""

    def __init__(self, workers: int | None = None) -> None:
        self.workers = default_workers() if workers is None else workers
        self.used = 0  # bodies checked by a worker
        self._idle: queue.SimpleQueue[_Worker] | None = None  # None: not started, or closed
        self._lock = threading.Lock()

    def wanted(self, body: bytes) -> bool:
        """Whether a body is worth a round trip to a worker."""
        return self.workers > 0 and len(body) >= MIN_BYTES

    def prepare(self, body: bytes, client: Client, version: str) -> Batch:
        """The checked batch of a JSON body (raises its :class:`XapiError` as in-request).

        Waits for a free worker when all are busy (checks in here when there are none).
        """
        if self.workers < 1:
            return prepare_json(body, client=client, version=version)
        with self._lock:
            if self._idle is None:
                self._idle = queue.SimpleQueue()
                for _ in range(self.workers):
                    self._idle.put(_Worker())
            idle = self._idle
            self.used += 1
        worker = idle.get()
        try:
            answer = worker.exchange(body, client, version)
        except (EOFError, OSError):  # the process died with the body: check it in here
            _log.warning("an xAPI checking process stopped; starting another")
            self._give_back(worker, idle, broken=True)
            return prepare_json(body, client=client, version=version)
        except BaseException:  # interrupted mid-exchange: the pipe may hold a stale answer
            self._give_back(worker, idle, broken=True)
            raise
        self._give_back(worker, idle, broken=False)
        if isinstance(answer, _Refused):
            raise answer.error
        return answer

    def _give_back(self, worker: _Worker, idle: queue.SimpleQueue[_Worker], broken: bool) -> None:
        """Return a worker to the pool; a broken one is replaced, any is stopped if closed."""
        with self._lock:
            open_ = self._idle is idle
        if broken or not open_:
            worker.stop()
            if not open_:
                return
            worker = _Worker()
        idle.put(worker)

    def close(self) -> None:
        """Stop the idle workers; a busy one stops when its body is done (shutting down)."""
        with self._lock:
            idle, self._idle = self._idle, None
        while idle is not None:
            try:
                idle.get_nowait().stop()
            except queue.Empty:
                break
