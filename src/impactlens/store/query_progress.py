"""The progress of a run of long DuckDB queries, as one share for a progress bar.

A bulk import is a few SQL statements of seconds each. :class:`QueryMeter` knows the
steps of the run in order, with the share of the time each takes, is told when the next
begins (:meth:`QueryMeter.step`), and meanwhile polls DuckDB's progress of the query in
flight (``query_progress``, read from a thread of its own while the query runs) to move
within the step. DuckDB reports no progress for some queries (the import's check scan
stays at 0: its long ``IN`` lists become joins); there the time the steps before took
per share gives the expected length of the step, and the bar moves with the clock, up
to 90% of the step. It reports ``(label, done, total)`` with ``total`` 100, never going
back.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from types import TracebackType

import duckdb

Report = Callable[[str, int, int], None]


class QueryMeter:
    """Steps ``(label, share)`` of queries on ``con``, reported to ``report`` as they go.

    Use it as a context manager: it turns on DuckDB's progress tracking (never its
    printing) and polls every ``every`` seconds until the block ends, then reports 100.

    Examples:
        >>> import duckdb
        >>> seen = []
        >>> con = duckdb.connect()
        >>> with QueryMeter(con, lambda *r: seen.append(r), [("count", 1), ("sum", 3)]) as m:
        ...     m.step("count")
        ...     _ = con.execute("SELECT count(*) FROM range(1000)").fetchall()
        ...     m.step("sum")
        ...     _ = con.execute("SELECT sum(range) FROM range(1000)").fetchall()
        >>> seen[0], seen[-1]
        (('count', 0, 100), ('sum', 100, 100))
    """

    def __init__(
        self,
        con: duckdb.DuckDBPyConnection,
        report: Report,
        steps: Sequence[tuple[str, float]],
        every: float = 0.25,
    ) -> None:
        total = sum(share for _, share in steps) or 1.0
        self._con, self._report, self._every = con, report, every
        self._steps = [(label, share / total) for label, share in steps]
        self._at = -1  # the step in flight
        self._before = 0.0  # the share of the steps before it
        self._in_step = 0.0  # how far into it (0-1), the most seen
        self._began = self._step_began = time.monotonic()
        self._shown = -1
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._poller = threading.Thread(target=self._poll, name="query-meter", daemon=True)

    def step(self, label: str) -> None:
        """The step named ``label`` begins; every step before it is done.

        A path that skips a step moves straight on; a label that is not ahead (unknown, or
        a step already passed) changes nothing.
        """
        with self._lock:
            ahead = [i for i in range(self._at + 1, len(self._steps)) if self._steps[i][0] == label]
            if not ahead:
                return
            for i in range(self._at, ahead[0]):
                if i >= 0:
                    self._before += self._steps[i][1]
            self._at, self._in_step = ahead[0], 0.0
            self._step_began = time.monotonic()
            self._send()

    def _poll(self) -> None:
        while not self._stop.wait(self._every):
            # percent of the query in flight; -1 when none runs
            percent = self._con.query_progress()
            with self._lock:
                if self._at < 0:
                    continue
                seen = min(percent, 100.0) / 100 if percent > 0 else 0.0
                if self._before > 0:  # the clock against what the steps before took
                    now, share = time.monotonic(), self._steps[self._at][1]
                    expected = share * (self._step_began - self._began) / self._before
                    seen = max(seen, min(0.9, (now - self._step_began) / max(expected, 1e-9)))
                if seen > self._in_step:
                    self._in_step = seen
                    self._send()

    def _send(self) -> None:
        label, share = self._steps[self._at]
        done = min(99, int((self._before + share * self._in_step) * 100))
        if done > self._shown or self._in_step == 0.0:
            self._shown = max(self._shown, done)
            self._report(label, self._shown, 100)

    def __enter__(self) -> QueryMeter:
        self._began = self._step_began = time.monotonic()
        self._con.execute("SET enable_progress_bar_print = false")
        self._con.execute("SET enable_progress_bar = true")  # tracking, for query_progress
        self._poller.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._poller.join()
        try:
            self._con.execute("SET enable_progress_bar = false")
        except duckdb.Error:
            # a failed import may leave the connection mid-rollback; the setting only
            # tracks progress (nothing is printed), so leaving it on is harmless
            if kind is None:
                raise
        if kind is None and self._at >= 0:
            self._report(self._steps[self._at][0], 100, 100)
