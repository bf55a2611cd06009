"""What the LRS engines share: the rows of a statement batch as Arrow, the page query.

Both :mod:`.duckdb_lrs` and :mod:`.postgres_lrs` store statements in the same columns
(``xapi_statements``, ``xapi_statement_refs``) and answer GET /statements with the same
SQL; only the parameter marks differ (``?`` for DuckDB, ``%s`` for psycopg). What is
the same SQL on both (documents, clients, a few look-ups) is :class:`SharedLrsSql`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from impactlens.domain.xapi import codec
from impactlens.domain.xapi.rows import STORED_MARK, StatementRow
from impactlens.domain.xapi.values import iso
from impactlens.store.lrs import Client, Document, DocumentKey, StatementQuery

COLUMNS = (
    "seq", "statement_id", "stored", "timestamp", "actor_ifi", "verb_id", "object_type",
    "object_id", "registration", "voided", "voids", "result_score_scaled", "result_score_raw",
    "result_score_min", "result_score_max", "result_success", "result_completion",
    "result_duration_s", "context_activities", "version", "statement",
)  # fmt: skip
REF_COLUMNS = ("seq", "kind", "ref", "related")
# the statements that mention an agent or activity anywhere (xapi_statement_refs)
MENTIONS = "seq IN (SELECT seq FROM xapi_statement_refs WHERE kind = '{kind}' AND ref = ?)"


def ipc_bytes(table: pa.Table) -> bytes:
    """``table`` as one Arrow IPC stream (see :func:`ipc_table`)."""
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return bytes(sink.getvalue())


def ipc_table(data: bytes | memoryview) -> pa.Table:
    """The table of one Arrow IPC stream (no copy of ``data``'s buffers)."""
    return pa.ipc.open_stream(pa.py_buffer(data)).read_all()


def _times(stored: datetime, n: int) -> pa.Array:
    """``stored`` ``n`` times as a microsecond timestamp column (one scalar repeated)."""
    return pa.repeat(pa.scalar(stored, pa.timestamp("us")), n)


def _unpickled(statements: bytes, refs: bytes, mark: str) -> NewStatements:
    return NewStatements(ipc_table(statements), ipc_table(refs), mark)


@dataclass(frozen=True)
class NewStatements:
    """Statements to append, as Arrow, built before any store lock is taken.

    ``statements`` has the ``xapi_statements`` columns but ``seq``, plus
    ``timestamp_pending``; the JSON text of a :func:`pending_row` carries
    :data:`STORED_MARK` where the stored time goes. ``refs`` has ``pos`` (the
    statement's row in ``statements``) instead of ``seq``. :meth:`numbered` fills in
    what only the store knows.
    """

    statements: pa.Table
    refs: pa.Table
    # the stored mark in the texts: random per process, so it travels with rows built
    # in another one (a checking process)
    mark: str = STORED_MARK

    @classmethod
    def of(cls, rows: Sequence[StatementRow]) -> NewStatements:
        """The pending rows of checked statements (:func:`pending_row`)."""
        refs = [(i, kind, ref, rel) for i, r in enumerate(rows) for kind, ref, rel in r.refs]
        statements = pa.table(
            {
                "statement_id": pa.array([r.statement_id for r in rows], pa.string()),
                "stored": pa.array([r.stored for r in rows], pa.timestamp("us")),
                "timestamp": pa.array([r.timestamp for r in rows], pa.timestamp("us")),
                "timestamp_pending": pa.array([r.timestamp_pending for r in rows], pa.bool_()),
                "actor_ifi": pa.array([r.actor_ifi for r in rows], pa.string()),
                "verb_id": pa.array([r.verb_id for r in rows], pa.string()),
                "object_type": pa.array([r.object_type for r in rows], pa.string()),
                "object_id": pa.array([r.object_id for r in rows], pa.string()),
                "registration": pa.array([r.registration for r in rows], pa.string()),
                "voided": pa.array([False] * len(rows), pa.bool_()),
                "voids": pa.array([r.voids for r in rows], pa.string()),
                **{
                    f"result_score_{k}": pa.array([r.score[k] for r in rows], pa.float64())
                    for k in ("scaled", "raw", "min", "max")
                },
                "result_success": pa.array([r.success for r in rows], pa.bool_()),
                "result_completion": pa.array([r.completion for r in rows], pa.bool_()),
                "result_duration_s": pa.array([r.duration_s for r in rows], pa.float64()),
                "context_activities": pa.array(
                    [codec.dumps(r.context_activities) for r in rows], pa.string()
                ),
                "version": pa.array([r.version for r in rows], pa.string()),
                "statement": pa.array([r.text for r in rows], pa.string()),
            }
        )
        return cls(statements, _refs(refs))

    def __len__(self) -> int:
        return self.statements.num_rows

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickled as two Arrow IPC streams (a checking process sends its batch back this way).

        Several times cheaper than pickling the tables column by column (1.4-2.9 us per
        statement each way against 3.7-7.9 us for ``bench/lrs_post.py``'s statements).
        """
        return (_unpickled, (ipc_bytes(self.statements), ipc_bytes(self.refs), self.mark))

    def take(self, positions: Sequence[int]) -> NewStatements:
        """Only the statements at ``positions`` (in that order) and their references."""
        if len(positions) == len(self) and list(positions) == list(range(len(self))):
            return self
        new_pos = {p: i for i, p in enumerate(positions)}
        keep = [new_pos.get(p) for p in self.refs["pos"].to_pylist()]
        mask = pa.array([k is not None for k in keep])
        refs = self.refs.filter(mask).set_column(
            0, "pos", pa.array([k for k in keep if k is not None], pa.int64())
        )
        return NewStatements(self.statements.take(pa.array(positions, pa.int64())), refs, self.mark)

    @staticmethod
    def concat(parts: Sequence[NewStatements]) -> NewStatements:
        """Several batches as one, in order."""
        if len(parts) == 1:
            return parts[0]
        offsets, at = [], 0
        for part in parts:
            offsets.append(at)
            at += len(part)
        refs = [
            p.refs.set_column(0, "pos", pc.add(p.refs["pos"], off))
            for p, off in zip(parts, offsets, strict=True)
        ]
        mark = parts[0].mark
        statements = [p.statements if p.mark == mark else p._marked(mark) for p in parts]
        return NewStatements(pa.concat_tables(statements), pa.concat_tables(refs), mark)

    def _marked(self, mark: str) -> pa.Table:
        """The statements with ``mark`` for this batch's stored mark."""
        at = self.statements.column_names.index("statement")
        text = pc.replace_substring(self.statements["statement"], self.mark, mark)
        return self.statements.set_column(at, "statement", text)

    def dated(self, stored: datetime) -> NewStatements:
        """The same rows with their stored time set, the text still carrying the mark.

        Cheap (no pass over the text): the statement writer dates a batch while it holds
        its lock and :meth:`finished` stamps the text later, before the rows are stored.
        """
        t = self.statements
        at = _times(stored, len(self))
        return NewStatements(
            t.set_column(t.column_names.index("stored"), "stored", at), self.refs, self.mark
        )

    def finished(self) -> NewStatements:
        """Rows of one :meth:`dated` batch stamped with their stored time (as :meth:`stamped`)."""
        if not len(self):
            return self
        return self.stamped(self.statements["stored"][0].as_py())

    def stamped(self, stored: datetime) -> NewStatements:
        """The same rows with their stored time set (and the timestamp of those without)."""
        t = self.statements
        at = _times(stored, len(self))
        text = pc.replace_substring(t["statement"], f'"{self.mark}"', f'"{iso(stored)}"')
        for name, column in (
            ("stored", at),
            ("timestamp", pc.if_else(t["timestamp_pending"], at, t["timestamp"])),
            ("timestamp_pending", pa.array([False] * len(self), pa.bool_())),
            ("statement", text),
        ):
            t = t.set_column(t.column_names.index(name), name, column)
        return NewStatements(t, self.refs)

    def numbered(self, first: int, stored: datetime | None) -> tuple[pa.Table, pa.Table]:
        """The ``xapi_statements`` and ``xapi_statement_refs`` rows: ``seq`` from ``first``,
        the stored time set (and the timestamp of statements that had none); ``None``
        keeps each row's own stored time (rows of statements stored elsewhere)."""
        n = len(self)
        t = self.statements if stored is None else self.stamped(stored).statements
        seq = pa.array(range(first, first + n), pa.int64())
        table = pa.table({c: seq if c == "seq" else t[c] for c in COLUMNS})
        refs = self.refs
        return table, refs.set_column(0, "seq", pc.add(refs["pos"], first))


def _refs(refs: list[tuple[int, str, str, bool]]) -> pa.Table:
    return pa.table(
        {
            "pos": pa.array([r[0] for r in refs], pa.int64()),
            "kind": pa.array([r[1] for r in refs], pa.string()),
            "ref": pa.array([r[2] for r in refs], pa.string()),
            "related": pa.array([r[3] for r in refs], pa.bool_()),
        }
    )


def page_sql(q: StatementQuery, mark: str = "?") -> tuple[str, list[Any]]:
    """SQL selecting the ``seq`` of the statements of one page (at most limit + 1).

    The statements themselves are read afterwards by ``seq``: a join here would read
    every statement's text.
    """
    where, params = _filters(q)
    outer, outer_params = _given(
        ("x.stored > ?", q.since),
        ("x.stored <= ?", q.until),
        ("x.seq <= ?", q.through_seq),
        ("x.seq > ?" if q.ascending else "x.seq < ?", q.after_seq),
    )
    outer.insert(0, "NOT x.voided")
    order = "ASC" if q.ascending else "DESC"
    if where:
        # a statement also matches through the statement its StatementRef targets
        # (Communication 2.1.3 "Filter Conditions for StatementRefs"), to any depth;
        # the recursion walks the StatementRef statements only, carrying the columns
        # the page filters need (joining back to every statement costs ~4x more)
        cols = "seq, statement_id, voided, stored"
        source = f"""WITH RECURSIVE r AS (
            SELECT {cols}, object_id FROM xapi_statements WHERE object_type = 'StatementRef'
        ), m({cols}) AS (
            SELECT {cols} FROM xapi_statements WHERE {" AND ".join(where)}
            UNION
            SELECT r.seq, r.statement_id, r.voided, r.stored
            FROM r JOIN m ON r.object_id = m.statement_id)
        SELECT x.seq FROM m x"""
    else:
        source = "SELECT x.seq FROM xapi_statements x"
    sql = f"{source} WHERE {' AND '.join(outer)} ORDER BY x.seq {order} LIMIT {q.limit + 1}"
    return sql.replace("?", mark), params + outer_params


def _given(*conditions: tuple[str, Any]) -> tuple[list[str], list[Any]]:
    """The conditions whose one parameter is given (not None), and those parameters."""
    given = [(sql, value) for sql, value in conditions if value is not None]
    return [sql for sql, _ in given], [value for _, value in given]


def _filters(q: StatementQuery) -> tuple[list[str], list[Any]]:
    """The conditions a statement itself must meet (before the StatementRef closure)."""
    where, params = _given(
        ("verb_id = ?", q.verb),
        ("registration = ?", q.registration.lower() if q.registration is not None else None),
    )
    if q.agent is not None:
        if q.related_agents:
            where.append(MENTIONS.format(kind="agent"))
            params.append(q.agent)
        else:
            where.append("(actor_ifi = ? OR (object_type IN ('Agent', 'Group') AND object_id = ?))")
            params += [q.agent, q.agent]
    if q.activity is not None:
        if q.related_activities:
            where.append(MENTIONS.format(kind="activity"))
        else:
            where.append("(object_type = 'Activity' AND object_id = ?)")
        params.append(q.activity)
    return where, params


_KEY = "kind = ? AND activity_id = ? AND agent_ifi = ? AND registration = ?"


class SharedLrsSql:
    """The LRS methods whose SQL every engine runs as is; ``?`` marks parameters.

    An engine mixes this in before :class:`~impactlens.store.lrs.LrsStore` and says how
    to run a statement (:meth:`_rows`) and which mark its driver wants (``_mark``).
    """

    _mark = "?"

    def _rows(self, sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
        """Run ``sql`` (with ``?`` marks) and return its rows ([] for statements without)."""
        raise NotImplementedError

    def _run(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return self._rows(sql if self._mark == "?" else sql.replace("?", self._mark), params)

    def _one(self, sql: str, params: Sequence[Any] = ()) -> Any:
        rows = self._run(sql, params)
        return rows[0][0] if rows else None

    # -- statements --------------------------------------------------------------

    def last_seq(self) -> int:
        """The highest ``seq`` stored (0: none)."""
        return int(self._one("SELECT coalesce(max(seq), 0) FROM xapi_statements"))

    def activity_statements(self, activity_id: str, limit: int) -> list[str]:
        """The JSON of the latest statements mentioning an activity, oldest first."""
        rows = self._run(
            f"SELECT statement FROM xapi_statements WHERE {MENTIONS.format(kind='activity')} "
            "ORDER BY seq DESC LIMIT ?",
            [activity_id, limit],
        )
        return [r[0] for r in reversed(rows)]

    # -- documents ---------------------------------------------------------------

    def document(self, key: DocumentKey, document_id: str) -> Document | None:
        """One document, or None."""
        rows = self._run(
            f"SELECT document_id, content_type, content, etag, updated FROM xapi_documents "
            f"WHERE {_KEY} AND document_id = ?",
            [*_key(key), document_id],
        )
        return (
            Document(r[0], r[1], bytes(r[2]), r[3], r[4]) if (r := next(iter(rows), None)) else None
        )

    def document_ids(self, key: DocumentKey, since: datetime | None) -> list[str]:
        """The ids of the documents under ``key`` (updated after ``since``)."""
        sql = f"SELECT document_id FROM xapi_documents WHERE {_KEY}"
        params: list[Any] = list(_key(key))
        if since is not None:
            sql += " AND updated > ?"
            params.append(since)
        return [r[0] for r in self._run(sql + " ORDER BY document_id", params)]

    def put_document(self, key: DocumentKey, doc: Document) -> None:
        """Create or replace a document."""
        self.delete_documents(key, doc.document_id)
        self._run(
            "INSERT INTO xapi_documents (kind, activity_id, agent_ifi, registration, document_id, "
            "content_type, content, etag, updated) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [*_key(key), doc.document_id, doc.content_type, doc.content, doc.etag, doc.updated],
        )

    def delete_documents(self, key: DocumentKey, document_id: str | None) -> None:
        """Delete one document, or every document under ``key`` (None)."""
        sql = f"DELETE FROM xapi_documents WHERE {_KEY}"
        params: list[Any] = list(_key(key))
        if document_id is not None:
            sql += " AND document_id = ?"
            params.append(document_id)
        self._run(sql, params)

    # -- clients -----------------------------------------------------------------

    def add_client(self, client: Client, at: datetime) -> None:
        """Record new credentials."""
        self._run(
            "INSERT INTO lrs_clients (key, name, scope, secret_hash, created_at) "
            "VALUES (?, ?, ?, ?, ?)",
            [client.key, client.name, client.scope, client.secret_hash, at],
        )

    def client(self, key: str) -> Client | None:
        """Live (not revoked) credentials by key."""
        rows = self._run(
            "SELECT key, name, scope, secret_hash, revoked_at FROM lrs_clients WHERE key = ? "
            "ORDER BY created_at DESC LIMIT 1",
            [key],
        )
        if not rows or rows[0][4] is not None:
            return None
        return Client(rows[0][0], rows[0][1], rows[0][2], rows[0][3])


def _key(key: DocumentKey) -> tuple[str, str, str, str]:
    return (key.kind, key.activity_id, key.agent_ifi, key.registration)
