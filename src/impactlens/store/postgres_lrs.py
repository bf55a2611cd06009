"""The LRS tables in PostgreSQL, shared by several ``impactlens serve`` workers.

Every LRS write runs in a transaction that first takes one advisory lock, so writers
in different processes take turns: the id-conflict look-up, the ``seq`` numbering,
the insert and the commit of one group happen with no other writer in between, which
keeps the LRS's rules (same id and content: no-op; same id, other content: 409;
``seq`` and ``stored`` in arrival order). The unique indexes on ``statement_id`` and
``seq`` (made by :class:`~impactlens.store.postgres.PostgresStore`) back this up: a
writer that skipped the lock would fail rather than store a duplicate. Readers take
no lock.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from impactlens.store.base import Store
from impactlens.store.lrs import (
    LrsStore,
    StatementQuery,
    StoredStatement,
)
from impactlens.store.lrs_sql import NewStatements, SharedLrsSql, page_sql

WRITE_LOCK = 0x1A9AC8  # pg_advisory_xact_lock key of LRS writes (migrations use ...C7)
_ROW = "SELECT seq, statement_id, statement, voided, stored FROM xapi_statements"


class PostgresLrs(SharedLrsSql, LrsStore):
    """The LRS over a PostgreSQL store (one connection; the caller serialises its use)."""

    shared = True  # other processes write too: ask the store, not a cache
    _mark = "%s"

    def __init__(self, store: Store) -> None:
        from impactlens.store.postgres import PostgresStore

        if not isinstance(store, PostgresStore):
            raise NotImplementedError(
                f"PostgresLrs needs the PostgreSQL engine, not {store.engine}"
            )
        self._store: PostgresStore = store
        self._pg = store._pg

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """A transaction holding the LRS write lock until it commits or rolls back."""
        with self._store.transaction():
            lock_writes(self._pg)
            yield

    def _statements(self, sql: str, params: Sequence[Any]) -> list[StoredStatement]:
        return [
            StoredStatement(int(r[0]), r[1], r[2], bool(r[3]), r[4])
            for r in self._pg.execute(sql, list(params)).fetchall()
        ]

    # -- statements --------------------------------------------------------------

    def find(self, ids: Sequence[str]) -> dict[str, StoredStatement]:
        """Stored statements by (lower-case) id (one indexed look-up)."""
        if not ids:
            return {}
        found = self._statements(f"{_ROW} WHERE statement_id = ANY(%s)", [list(set(ids))])
        return {s.statement_id: s for s in found}

    def insert(self, new: NewStatements, stored: datetime | None = None) -> None:
        """Append statements in order (``seq`` continues) with their references.

        ``stored`` is the stored time of pending rows; None keeps the rows' own.
        """
        if not len(new):
            return
        table, refs = new.numbered(self.last_seq() + 1, stored)
        self._store.copy_arrow("xapi_statements", table)
        if refs.num_rows:
            self._store.copy_arrow("xapi_statement_refs", refs)

    def void(self, ids: Sequence[str]) -> None:
        """Mark statements voided (voiding statements themselves are never voided)."""
        if ids:
            self._pg.execute(
                "UPDATE xapi_statements SET voided = true "
                "WHERE statement_id = ANY(%s) AND voids IS NULL",
                [list(ids)],
            )

    def query(self, q: StatementQuery) -> list[StoredStatement]:
        """Statements matching ``q``, voided ones left out, at most ``q.limit + 1``."""
        sql, params = page_sql(q, "%s")
        seqs = [int(r[0]) for r in self._pg.execute(sql, params).fetchall()]
        if not seqs:
            return []
        by_seq = {s.seq: s for s in self._statements(f"{_ROW} WHERE seq = ANY(%s)", [seqs])}
        return [by_seq[n] for n in seqs]

    def last_stored(self) -> datetime | None:
        """The ``stored`` time of the last statement (``stored`` follows ``seq``)."""
        value = self._one("SELECT stored FROM xapi_statements ORDER BY seq DESC LIMIT 1")
        return value if isinstance(value, datetime) else None

    # -- attachments -------------------------------------------------------------

    def put_attachments(self, parts: dict[str, tuple[str, bytes]]) -> None:
        """Store attachment content by sha2 (content type, bytes); known ones are kept."""
        for sha2, (content_type, content) in parts.items():
            self._pg.execute(
                "INSERT INTO xapi_attachments (sha2, content_type, content) VALUES (%s, %s, %s) "
                "ON CONFLICT (sha2) DO NOTHING",
                [sha2, content_type, content],
            )

    def attachments(self, hashes: Sequence[str]) -> dict[str, tuple[str, bytes]]:
        """Stored attachment content by sha2."""
        if not hashes:
            return {}
        rows = self._pg.execute(
            "SELECT sha2, content_type, content FROM xapi_attachments WHERE sha2 = ANY(%s)",
            [list(hashes)],
        ).fetchall()
        return {r[0]: (r[1], bytes(r[2])) for r in rows}

    def _rows(self, sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
        cur = self._pg.execute(sql, list(params))
        return cur.fetchall() if cur.description else []


def lock_writes(connection: Any) -> None:
    """Take the LRS write lock for the rest of the current transaction."""
    connection.execute(f"SELECT pg_advisory_xact_lock({WRITE_LOCK})")
