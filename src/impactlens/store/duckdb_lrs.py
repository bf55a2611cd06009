"""The LRS tables in DuckDB, over the connection of a :class:`DuckDBStore`."""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import duckdb

from impactlens.store.base import Store
from impactlens.store.lrs import (
    LrsStore,
    StatementQuery,
    StoredStatement,
    batched,
)
from impactlens.store.lrs_sql import (
    COLUMNS,
    NewStatements,
    SharedLrsSql,
    page_sql,
)
from impactlens.store.statement_ids import KEY_SQL

_COLUMNS = ", ".join(COLUMNS)


class DuckDBLrs(SharedLrsSql, LrsStore):
    """The LRS over a DuckDB store (the caller serialises access, e.g. under a lock)."""

    def __init__(self, store: Store, con: duckdb.DuckDBPyConnection | None = None) -> None:
        """The LRS of ``store``, over its connection or ``con`` (a cursor of it)."""
        from impactlens.store.duckdb import DuckDBStore

        if not isinstance(store, DuckDBStore):
            raise NotImplementedError(f"the LRS needs the DuckDB engine, not {store.engine}")
        self._store: DuckDBStore = store
        self._con: duckdb.DuckDBPyConnection = store._con if con is None else con
        self._seen: tuple[int, int] | None = None  # (rows, last seq) as find() read them

    def on_cursor(self) -> DuckDBLrs:
        """The same LRS on a cursor of its own, for a thread reading while another writes.

        Close it with :meth:`close_cursor`.
        """
        return DuckDBLrs(self._store, self._con.cursor())

    def close_cursor(self) -> None:
        """Close the cursor of an :meth:`on_cursor` LRS."""
        assert self._con is not self._store._con, "only a cursor of the store is closed here"
        self._con.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """The store's transaction (all or nothing)."""
        self._seen = None
        try:
            with self._store.transaction():
                yield
        finally:
            self._seen = None

    # -- statements --------------------------------------------------------------

    def _version(self) -> tuple[int, int]:
        """The table's (rows, last seq).

        When the id filter knows a version, whether anything was appended since is asked
        of the last row group only (``seq >= last`` skips the others by their min/max):
        0.7 against 6 ms for the full count and max over 1,000,000 statements.
        """
        known = self._store.statement_ids.version
        if known is not None and known[1] > 0:
            row = self._con.execute(
                "SELECT max(seq) FROM xapi_statements WHERE seq >= ?", [known[1]]
            ).fetchone()
            if row is not None and row[0] == known[1]:
                return known
        row = self._con.execute(
            "SELECT count(*), coalesce(max(seq), 0) FROM xapi_statements"
        ).fetchone()
        assert row is not None
        return int(row[0]), int(row[1])

    def _maybe_stored(self, ids: list[str]) -> list[str]:
        """The ids the store's id filter cannot rule out (reloaded when the table moved)."""
        known = self._store.statement_ids
        version = self._seen = self._version()
        if known.version != version:
            keys = self._con.execute(f"SELECT {KEY_SQL} AS k FROM xapi_statements").fetchnumpy()
            known.load(keys["k"], version)
        return known.candidates(ids)

    def check_filter(self) -> None:
        """Reload the id filter if the table changed since the filter last followed it."""
        self._maybe_stored([])

    def find(self, ids: Sequence[str]) -> dict[str, StoredStatement]:
        """Stored statements by (lower-case) id."""
        return self._lookup(self._maybe_stored(list(dict.fromkeys(ids))))

    def find_by_filter(self, ids: Sequence[str]) -> dict[str, StoredStatement]:
        """As :meth:`find`, taking the id filter as current without asking the table.

        For a caller that keeps the filter current itself (the statement writer: every
        insert follows it, and :meth:`check_filter` after any other use of the store);
        it may run on a cursor while another thread inserts on the store's connection.
        """
        if self._store.statement_ids.version is None:
            return self.find(ids)
        return self._lookup(self._store.statement_ids.candidates(list(dict.fromkeys(ids))))

    def _lookup(self, ids: list[str]) -> dict[str, StoredStatement]:
        found: dict[str, StoredStatement] = {}
        for chunk in batched(ids):
            marks = ", ".join("?" for _ in chunk)
            # the seqs from the narrow id column first, then only those rows' JSON
            seqs = self._con.execute(
                f"SELECT seq FROM xapi_statements WHERE statement_id IN ({marks})", list(chunk)
            ).fetchall()
            if not seqs:
                continue
            for r in self._con.execute(_fetch_sql([int(n[0]) for n in seqs])).fetchall():
                found[r[1]] = StoredStatement(int(r[0]), r[1], r[2], bool(r[3]), r[4])
        return found

    def insert(self, new: NewStatements, stored: datetime | None = None) -> None:
        """Append statements in order (``seq`` continues) with their references.

        ``stored`` is the stored time of pending rows; None keeps the rows' own.
        """
        if not len(new):
            return
        # the version read by this transaction's find(): no other writer since (one process)
        first = (self._seen or self._version())[1] + 1
        table, refs = new.numbered(first, stored)
        # one chunk each: DuckDB scans an Arrow table of many small chunks (a group of
        # batches) at twice the cost per row
        table, refs = table.combine_chunks(), refs.combine_chunks()
        self._con.register("_lrs_new", table)
        self._con.register("_lrs_refs", refs)
        try:
            self._con.execute(
                f"INSERT INTO xapi_statements ({_COLUMNS}) SELECT {_COLUMNS} FROM _lrs_new"
            )
            if refs.num_rows:
                self._con.execute(
                    "INSERT INTO xapi_statement_refs (seq, kind, ref, related) "
                    "SELECT seq, kind, ref, related FROM _lrs_refs"
                )
        finally:
            self._con.unregister("_lrs_new")
            self._con.unregister("_lrs_refs")
        known = self._store.statement_ids
        if known.version is not None and known.version[1] == first - 1:
            # still describes the table just before this insert: follow it
            last = first + len(new) - 1
            known.add(table["statement_id"].to_pylist(), (known.version[0] + len(new), last))
        if self._seen is not None:
            self._seen = (self._seen[0] + len(new), first + len(new) - 1)

    def void(self, ids: Sequence[str]) -> None:
        """Mark statements voided (voiding statements themselves are never voided)."""
        for chunk in batched(list(ids)):
            marks = ", ".join("?" for _ in chunk)
            self._con.execute(
                f"UPDATE xapi_statements SET voided = true WHERE statement_id IN ({marks}) "
                "AND voids IS NULL",
                list(chunk),
            )

    def query(self, q: StatementQuery) -> list[StoredStatement]:
        """Statements matching ``q``, voided ones left out, at most ``q.limit + 1``."""
        # two steps: the page's seqs from the narrow columns, then only those rows' JSON
        # (a join would otherwise read every statement's text)
        sql, params = page_sql(q)
        seqs = [int(r[0]) for r in self._con.execute(sql, params).fetchall()]
        if not seqs:
            return []
        rows = self._con.execute(_fetch_sql(seqs)).fetchall()
        by_seq = {int(r[0]): StoredStatement(int(r[0]), r[1], r[2], bool(r[3]), r[4]) for r in rows}
        return [by_seq[n] for n in seqs]

    def last_stored(self) -> datetime | None:
        """The latest ``stored`` time (None: no statements)."""
        value = self._one("SELECT max(stored) FROM xapi_statements")
        return value if isinstance(value, datetime) else None

    # -- attachments -------------------------------------------------------------

    def put_attachments(self, parts: dict[str, tuple[str, bytes]]) -> None:
        """Store attachment content by sha2 (content type, bytes); known ones are kept."""
        known = self.attachments(list(parts))
        for sha2, (content_type, content) in parts.items():
            if sha2 not in known:
                self._con.execute(
                    "INSERT INTO xapi_attachments VALUES (?, ?, ?)", [sha2, content_type, content]
                )

    def attachments(self, hashes: Sequence[str]) -> dict[str, tuple[str, bytes]]:
        """Stored attachment content by sha2."""
        found: dict[str, tuple[str, bytes]] = {}
        for chunk in batched(list(hashes)):
            marks = ", ".join("?" for _ in chunk)
            for sha2, content_type, content in self._con.execute(
                f"SELECT sha2, content_type, content FROM xapi_attachments WHERE sha2 IN ({marks})",
                list(chunk),
            ).fetchall():
                found[sha2] = (content_type, bytes(content))
        return found

    def _rows(self, sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
        return self._con.execute(sql, list(params)).fetchall()


def _fetch_sql(seqs: list[int]) -> str:
    """SQL reading the rows of ``seqs``: a range scan per cluster of nearby seqs.

    A range on ``seq`` is pushed into DuckDB's scan, which then decodes the JSON column
    only where rows match; an IN list is not, and reads every statement's text. Widely
    scattered pages (many clusters) fall back to the IN list.
    """
    cols = "SELECT seq, statement_id, statement, voided, stored FROM xapi_statements"
    ordered = sorted(seqs)
    clusters: list[list[int]] = []
    for n in ordered:
        if clusters and n - clusters[-1][-1] <= 2048:
            clusters[-1].append(n)
        else:
            clusters.append([n])
    if len(clusters) > 40:
        return f"{cols} WHERE seq IN ({', '.join(str(n) for n in ordered)})"
    return " UNION ALL ".join(
        f"{cols} WHERE seq BETWEEN {c[0]} AND {c[-1]} AND seq IN ({', '.join(map(str, c))})"
        for c in clusters
    )


def move_in_journal(store: Store) -> int:
    """Store what the statement journal of a DuckDB store still holds; return how many.

    A server that stopped (or crashed) before moving its journaled statements into the
    store left them in the journal's files (:mod:`.lrs_journal`). They are appended in
    the order accepted, each one unless its id is stored already (moved before the
    stop), in one transaction; then the files are emptied.
    """
    from impactlens.store.duckdb import DuckDBStore
    from impactlens.store.lrs_journal import journal_path, other_file, read_journal

    assert isinstance(store, DuckDBStore)
    path = journal_path(store.path)
    files = [f for f in (path, other_file(path)) if f.exists() and f.stat().st_size]
    if not files:
        return 0
    lrs = DuckDBLrs(store)
    moved = 0
    with lrs.transaction():
        for new in read_journal(path):
            ids = new.statements["statement_id"].to_pylist()
            stored = lrs.find(ids)
            keep = [n for n, i in enumerate(ids) if i not in stored]
            lrs.insert(new.take(keep).finished(), None)
            moved += len(keep)
    for file in files:
        with file.open("r+b") as f:
            f.truncate(0)
            os.fsync(f.fileno())
    return moved
