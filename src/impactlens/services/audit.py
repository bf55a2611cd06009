"""The audit log: who viewed or exported what, and when.

Page views are recorded in memory first and written to the store's ``audit_log``
table in batches, so a page never waits for a long analysis that holds the store.
"""

from __future__ import annotations

import threading
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime

import pyarrow as pa

from impactlens.store.base import Store

BATCH, BATCH_SECONDS = 20, 5.0
_SCHEMA = pa.schema(
    [
        ("at", pa.timestamp("us")),
        ("user", pa.string()),
        ("role", pa.string()),
        ("method", pa.string()),
        ("route", pa.string()),
        ("program", pa.string()),
        ("action", pa.string()),
        ("status", pa.int32()),
    ]
)


@dataclass(frozen=True)
class AuditEntry:
    """One request worth recording."""

    at: datetime
    user: str
    role: str
    method: str
    route: str
    program: str | None
    action: str  # view, export, import, login, logout, manage
    status: int


class AuditLog:
    """A buffer of entries and the store table they end up in.

    Examples:
        >>> import tempfile
        >>> from pathlib import Path
        >>> from impactlens.store.duckdb import DuckDBStore
        >>> log = AuditLog()
        >>> log.record("ann", "viewer", "GET", "/programs/x", "x", "view", 200)
        >>> with DuckDBStore(Path(tempfile.mkdtemp()) / "s.duckdb") as store:
        ...     log.flush(store)
        ...     [e["route"] for e in log.recent(store)]
        1
        ['/programs/x']
    """

    def __init__(self) -> None:
        self._pending: list[AuditEntry] = []
        self._guard = threading.Lock()
        self._flushed = time.monotonic()

    def due(self) -> bool:
        """Whether enough has piled up (20 entries or 5 seconds) to be worth a write."""
        return len(self._pending) >= BATCH or (
            bool(self._pending) and time.monotonic() - self._flushed > BATCH_SECONDS
        )

    def record(
        self,
        user: str,
        role: str,
        method: str,
        route: str,
        program: str | None,
        action: str,
        status: int,
    ) -> None:
        """Remember one entry until the next flush."""
        now = datetime.now(UTC).replace(tzinfo=None)
        entry = AuditEntry(now, user, role, method, route, program, action, status)
        with self._guard:
            self._pending.append(entry)

    def flush(self, store: Store) -> int:
        """Write pending entries to the store; return how many."""
        with self._guard:
            pending, self._pending = self._pending, []
            self._flushed = time.monotonic()
        if not pending:
            return 0
        frame = pa.Table.from_pylist([asdict(e) for e in pending], schema=_SCHEMA)
        store.table("audit_log").get_backend().insert("audit_log", frame)
        return len(pending)

    def recent(self, store: Store, limit: int = 100) -> list[dict]:
        """The latest entries in the store, newest first."""
        table = store.table("audit_log")
        rows = table.order_by(table.at.desc()).limit(limit).to_pyarrow().to_pylist()
        for row in rows:
            row["at"] = row["at"].isoformat(timespec="seconds")
        return rows
