"""Storing statement batches: checked outside the store's lock, committed in groups.

A POSTed batch is validated and its rows built by :func:`prepare_batch` with no store
held. :class:`StatementWriter` then commits it: batches that arrive while a commit runs
wait and share the next transaction (group commit), and each caller returns only once
the transaction holding its batch is committed, so a 200/204 still means durable.
Within a group each batch is judged on its own (id conflicts, voiding): a refused batch
stores nothing and does not affect the others.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from impactlens.domain.xapi import codec
from impactlens.domain.xapi.errors import XapiError
from impactlens.domain.xapi.formats import same_statement
from impactlens.domain.xapi.rows import StatementRow, pending_row
from impactlens.domain.xapi.signatures import CONTENT_TYPE, check_signature, signature_attachments
from impactlens.domain.xapi.validation import VOIDED, check_statement
from impactlens.services.lrs import authority, now
from impactlens.store.base import Store
from impactlens.store.lrs import Client, LrsStore, lrs_for
from impactlens.store.lrs_sql import NewStatements


@dataclass
class Batch:
    """A checked batch: its ids in request order (None: the LRS assigns one) and rows.

    ``new`` holds the rows as Arrow, built here so that the committing thread, which
    holds the store, only numbers and appends them.
    """

    ids: list[str | None]
    given: dict[str, dict[str, Any]]  # the checked statements that came with an id
    rows: list[StatementRow]  # one per statement, in order, stored time still to set
    new: NewStatements
    parts: dict[str, tuple[str, bytes]] = field(default_factory=dict)


def prepare_batch(
    statements: list[Any],
    *,
    client: Client,
    parts: dict[str, tuple[str, bytes]] | None = None,
    version: str = "1.0.3",
) -> Batch:
    """Check a batch and build its rows; needs no store (raises :class:`XapiError`)."""
    parts = parts or {}
    if not statements:
        raise XapiError("no statements in the request")
    checked = [check_statement(s, version=version) for s in statements]
    _check_attachments(checked, parts)
    ids = [str(s["id"]).lower() if "id" in s else None for s in checked]
    given: dict[str, dict[str, Any]] = {}
    for i, st in zip(ids, checked, strict=True):
        if i is None:
            continue
        if i in given:
            raise XapiError(f"the batch has two statements with the id {i}")
        given[i] = st
    who = authority(client)
    rows = [pending_row(st, authority=who) for st in checked]
    return Batch(ids, given, rows, NewStatements.of(rows), parts)


def store_statements(
    lrs: LrsStore,
    statements: list[Any],
    *,
    client: Client,
    parts: dict[str, tuple[str, bytes]] | None = None,
    version: str = "1.0.3",
) -> list[str]:
    """Check and store one batch in one transaction; return the ids in order.

    A statement whose id is stored with the same content is a no-op; with other
    content the batch is refused (409). ``parts`` are the attachment contents the
    request carried, by sha2.
    """
    batch = prepare_batch(statements, client=client, parts=parts, version=version)
    result = commit_batches(lrs, [batch])[0]
    if isinstance(result, XapiError):
        raise result
    return result


def commit_batches(lrs: LrsStore, batches: Sequence[Batch]) -> list[list[str] | XapiError]:
    """Store batches in one transaction, each accepted or refused on its own.

    Returns per batch its statement ids, or the :class:`XapiError` that refused it.
    """
    results: list[list[str] | XapiError] = []
    with lrs.transaction():
        # the ids the batches give and those they void: one look-up for the group
        wanted = [i for b in batches for i in b.given]
        wanted += [r.voids for b in batches for r in b.rows if r.voids]
        stored = lrs.find(wanted)
        known = {i: codec.loads(s.text) for i, s in stored.items()}
        verbs = {i: st["verb"]["id"] for i, st in known.items()}  # of stored and accepted
        rows: list[StatementRow] = []
        tables: list[NewStatements] = []
        voided: list[str] = []
        for batch in batches:
            try:
                positions, targets = _accept(batch, known, verbs)
            except XapiError as exc:
                results.append(exc)
                continue
            for row in (batch.rows[p] for p in positions):
                known[row.statement_id] = row.statement
                verbs[row.statement_id] = row.verb_id
                rows.append(row)
            tables.append(batch.new.take(positions))
            voided += targets
            results.append(
                [
                    i if i is not None else r.statement_id
                    for i, r in zip(batch.ids, batch.rows, strict=True)
                ]
            )
        if tables:
            lrs.insert(NewStatements.concat(tables), _stored_time(lrs))
        lrs.void(voided)
        parts = {k: v for b in batches for k, v in b.parts.items()}
        lrs.put_attachments(
            {
                a["sha2"]: (a["contentType"], parts[a["sha2"]][1])
                for r in rows
                for a in r.statement.get("attachments", [])
                if a["sha2"] in parts
            }
        )
    return results


def _accept(
    batch: Batch, known: dict[str, dict[str, Any]], verbs: dict[str, str]
) -> tuple[list[int], list[str]]:
    """The positions of a batch's rows to insert and the ids it voids, or :class:`XapiError`."""
    for i, st in batch.given.items():
        if i in known and not same_statement(known[i], st):
            raise XapiError(f"a different statement with the id {i} is stored already", 409)
    positions = [n for n, i in enumerate(batch.ids) if i is None or i not in known]
    new = [batch.rows[n] for n in positions]
    in_batch = {r.statement_id: r for r in new}
    targets = [r.voids for r in new if r.voids]
    for target in targets:
        # voiding a voiding statement is refused (Data 2.3.2)
        inner = in_batch.get(target)
        if (inner is not None and inner.voids) or verbs.get(target) == VOIDED:
            raise XapiError(
                f"statement {target} is itself a voiding statement: it cannot be voided"
            )
    return positions, targets


_clock: dict[str, datetime | None] = {"last": None}
_clock_lock = threading.Lock()


def _stored_time(lrs: LrsStore) -> datetime:
    """Now at millisecond precision, always after the last ``stored``.

    `stored` must follow arrival order (``seq``) even if the wall clock steps back; the
    store is asked once per process, then the last time set is remembered (each time
    when other processes write the store too: it runs under their shared write lock).
    """
    with _clock_lock:
        t = now()
        at = t.replace(microsecond=t.microsecond // 1000 * 1000)
        last = _clock["last"]
        if last is None or lrs.shared:
            stored = lrs.last_stored()
            if stored is not None and (last is None or stored > last):
                last = stored
        if last is not None and at <= last:
            at = last + timedelta(milliseconds=1)
        _clock["last"] = at
        return at


def _check_attachments(
    statements: list[dict[str, Any]], parts: dict[str, tuple[str, bytes]]
) -> None:
    """Each attachment without fileUrl has its part; each part belongs to an attachment."""
    declared: set[str] = set()
    for st in statements:
        for att in st.get("attachments", []):
            declared.add(att["sha2"])
            if "fileUrl" not in att and att["sha2"] not in parts:
                raise XapiError(
                    f"attachment {att['sha2'][:12]}... has no fileUrl and its content is not "
                    "in the request (send multipart/mixed with one part per attachment)"
                )
        for att in signature_attachments(st):
            if att["contentType"] != CONTENT_TYPE:
                raise XapiError(f"a signature attachment must have contentType {CONTENT_TYPE}")
            if att["sha2"] not in parts:
                raise XapiError("the signature attachment's content is not in the request")
            check_signature(st, parts[att["sha2"]][1])
    extra = sorted(set(parts) - declared)
    if extra:
        raise XapiError(f"the request has a part ({extra[0][:12]}...) no attachment declares")


class _Pending:
    """A batch waiting for its group's commit."""

    def __init__(self, batch: Batch) -> None:
        self.batch = batch
        self.done = False
        self.result: list[str] | BaseException = []


class StatementWriter:
    """Group commit: concurrent batches share one transaction, each answered after it.

    ``hold`` opens the store under whatever lock guards it (the dashboard's held
    store); it is taken only for the conflict checks, the insert and the commit.
    """

    def __init__(self, hold: Callable[[], AbstractContextManager[Store]]) -> None:
        self._hold = hold
        self._queue: list[_Pending] = []
        self._queue_lock = threading.Lock()
        self._commit_lock = threading.Lock()

    def write(self, batch: Batch) -> list[str]:
        """Store a prepared batch; return its ids once committed (or raise its error)."""
        mine = _Pending(batch)
        with self._queue_lock:
            self._queue.append(mine)
        # whoever holds the commit lock next commits every batch queued by then; a
        # caller whose batch an earlier committer took finds it done and returns
        with self._commit_lock:
            if not mine.done:
                with self._queue_lock:
                    group, self._queue = self._queue, []
                self._commit(group)
        if isinstance(mine.result, BaseException):
            raise mine.result
        return mine.result

    def _commit(self, group: list[_Pending]) -> None:
        try:
            with self._hold() as store:
                results: Sequence[list[str] | BaseException] = commit_batches(
                    lrs_for(store), [p.batch for p in group]
                )
        except Exception as exc:  # the transaction rolled back: each batch on its own
            if len(group) > 1:
                for pending in group:
                    self._commit([pending])
                return
            results = [exc]
        for pending, result in zip(group, results, strict=True):
            pending.result = result
            pending.done = True
