"""Storing statement batches: checked outside the store's lock, durable before the answer.

A POSTed batch is validated and its rows built by :func:`prepare_batch` with no store
held. :class:`StatementWriter` then stores it. On a DuckDB file store most batches are
judged against what is stored and journaled, appended to the statement journal and
answered once a shared sync makes them durable; a mover stores them in large
transactions. Other batches are committed in groups: batches that arrive while a commit
runs wait and share the next transaction, and each caller returns only once the
transaction holding its batch is committed. Either way a 200/204 means durable, and each
batch is judged on its own (id conflicts, voiding): a refused batch stores nothing and
does not affect the others.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from impactlens.domain.xapi import codec
from impactlens.domain.xapi.errors import XapiError
from impactlens.domain.xapi.formats import same_statement
from impactlens.domain.xapi.rows import pending_row
from impactlens.domain.xapi.signatures import CONTENT_TYPE, check_signature, signature_attachments
from impactlens.domain.xapi.validation import VOIDED, check_statement
from impactlens.services.lrs import authority, now
from impactlens.store.base import Store
from impactlens.store.duckdb_lrs import DuckDBLrs
from impactlens.store.lrs import Client, LrsStore, lrs_for
from impactlens.store.lrs_journal import Journal, journal_path
from impactlens.store.lrs_sql import NewStatements

_log = logging.getLogger(__name__)


@dataclass
class Batch:
    """A checked batch: the ids as sent (None: the LRS assigns one) and its rows as Arrow.

    Everything the commit needs is here and nothing more, so a batch checked in another
    process (:mod:`.lrs_checkers`) crosses back cheaply: the rows are Arrow (their
    ``statement`` text is the statement as stored, the stored time still a mark), and the
    attachments the statements declare are listed by position.
    """

    ids: list[str | None]
    new: NewStatements
    attachments: dict[int, list[tuple[str, str]]] = field(default_factory=dict)
    parts: dict[str, tuple[str, bytes]] = field(default_factory=dict)

    def statement(self, position: int) -> dict[str, Any]:
        """The statement at ``position`` as it will be stored (for conflict checks)."""
        st = codec.loads(self.new.statements["statement"][position].as_py())
        st.pop("stored", None)
        if self.new.statements["timestamp_pending"][position].as_py():
            st.pop("timestamp", None)
        return st


def prepare_batch(
    statements: list[Any],
    *,
    client: Client,
    parts: dict[str, tuple[str, bytes]] | None = None,
    version: str = "1.0.3",
) -> Batch:
    """Check a batch and build its rows; needs no store (raises :class:`XapiError`).

    One batch at a time per process: request threads checking at once only take the GIL
    from each other, and each switch costs (4 threads preparing bench/lrs_post.py's
    batches spent 1.8 times the CPU per statement of one thread).
    """
    with _CHECKING:
        return _prepare(statements, client=client, parts=parts or {}, version=version)


_CHECKING = threading.Lock()


def _prepare(
    statements: list[Any], *, client: Client, parts: dict[str, tuple[str, bytes]], version: str
) -> Batch:
    if not statements:
        raise XapiError("no statements in the request")
    checked = [check_statement(s, version=version) for s in statements]
    _check_attachments(checked, parts)
    ids = [str(s["id"]).lower() if "id" in s else None for s in checked]
    seen: set[str] = set()
    for i in ids:
        if i is None:
            continue
        if i in seen:
            raise XapiError(f"the batch has two statements with the id {i}")
        seen.add(i)
    who = authority(client)
    rows = [pending_row(st, authority=who) for st in checked]
    attachments = {
        n: [(a["sha2"], a["contentType"]) for a in st["attachments"]]
        for n, st in enumerate(checked)
        if st.get("attachments")
    }
    return Batch(ids, NewStatements.of(rows), attachments, parts)


def prepare_json(body: bytes, *, client: Client, version: str = "1.0.3") -> Batch:
    """Parse and check a POSTed application/json body: one statement or an array."""
    parsed = parse_json(body)
    return prepare_batch(
        parsed if isinstance(parsed, list) else [parsed], client=client, version=version
    )


def parse_json(body: bytes) -> Any:
    """A request body as JSON, or :class:`XapiError` saying why it is not."""
    try:
        return codec.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise XapiError(f"the body is not valid JSON: {exc}") from exc


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
        columns = [_Columns.of(b) for b in batches]
        wanted = [i for b in batches for i in b.ids if i is not None]
        wanted += [v for c in columns for v in c.voids if v]
        stored = lrs.find(wanted)
        # by id, what is stored or accepted earlier in the group: a statement, or where
        # to read it (parsed only when a batch sends the same id again)
        known: dict[str, dict[str, Any] | tuple[Batch, int]] = {
            i: codec.loads(s.text) for i, s in stored.items()
        }
        verbs = {i: st["verb"]["id"] for i, st in known.items() if isinstance(st, dict)}
        tables: list[NewStatements] = []
        voided: list[str] = []
        files: dict[str, str] = {}
        for batch, cols in zip(batches, columns, strict=True):
            try:
                positions, targets = _accept(batch, cols, known, verbs)
            except XapiError as exc:
                results.append(exc)
                continue
            for n in positions:
                known[cols.ids[n]] = (batch, n)
                verbs[cols.ids[n]] = cols.verbs[n]
                files.update((sha2, ctype) for sha2, ctype in batch.attachments.get(n, []))
            tables.append(batch.new.take(positions))
            voided += targets
            results.append(cols.ids)
        if tables:
            lrs.insert(NewStatements.concat(tables), _stored_time(lrs))
        lrs.void(voided)
        parts = {k: v for b in batches for k, v in b.parts.items()}
        lrs.put_attachments(
            {sha2: (ctype, parts[sha2][1]) for sha2, ctype in files.items() if sha2 in parts}
        )
    return results


@dataclass(frozen=True)
class _Columns:
    """The columns of a batch the commit reads, as Python lists."""

    ids: list[str]
    verbs: list[str]
    voids: list[str | None]

    @classmethod
    def of(cls, batch: Batch) -> _Columns:
        t = batch.new.statements
        return cls(t["statement_id"].to_pylist(), t["verb_id"].to_pylist(), t["voids"].to_pylist())


def _accept(
    batch: Batch,
    cols: _Columns,
    known: dict[str, dict[str, Any] | tuple[Batch, int]],
    verbs: dict[str, str],
) -> tuple[list[int], list[str]]:
    """The positions of a batch's rows to insert and the ids it voids, or :class:`XapiError`."""
    for n, i in enumerate(batch.ids):
        if i is None or i not in known:
            continue
        other = known[i]
        if isinstance(other, tuple):
            other = other[0].statement(other[1])
        if not same_statement(other, batch.statement(n)):
            raise XapiError(f"a different statement with the id {i} is stored already", 409)
    positions = [n for n, i in enumerate(batch.ids) if i is None or i not in known]
    in_batch = {cols.ids[n]: n for n in positions}
    targets = [v for n in positions if (v := cols.voids[n])]
    for target in targets:
        # voiding a voiding statement is refused (Data 2.3.2)
        inner = in_batch.get(target)
        if (inner is not None and cols.voids[inner]) or verbs.get(target) == VOIDED:
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


def _finished(pending: list[NewStatements]) -> NewStatements:
    """Journaled batches as one, each stamped with its stored time (see ``dated``)."""
    return NewStatements.concat([p.finished() for p in pending])


class StatementWriter:
    """Stores checked batches; each caller returns once its statements are durable.

    ``hold`` opens the store under whatever lock guards it (the dashboard's held
    store). With ``unsettled`` (the same store without storing journaled statements
    first) and a DuckDB file store, a batch that voids nothing and carries no
    attachment content is *judged* (its ids against the store and the statements
    accepted before it), appended to the statement journal
    (:mod:`impactlens.store.lrs_journal`) and answered once a shared ``fdatasync``
    covers it. Judging takes the writer's own lock, not the store's: it reads the
    store's id filter and, for the rare id the filter cannot rule out, a cursor of its
    own. A mover thread stores journaled statements in large transactions while new
    ones keep being judged (the journal switches files first). Every other use of the
    store goes through :meth:`settled` (``hold`` must use it): journaled statements are
    stored first and no batch is judged until the use ends, so a use that writes
    statements some other way cannot race a judge. Other batches (and every batch on
    PostgreSQL) go through a group commit: concurrent batches share one transaction,
    each answered after it.

    Locks are taken in one order: the store's, then the writer's.
    """

    MOVE_ROWS = 2000  # journaled statements that wake the mover at once
    MOVE_AFTER_S = 0.1  # the longest a statement waits to be moved when few arrive

    def __init__(
        self,
        hold: Callable[[], AbstractContextManager[Store]],
        unsettled: Callable[[], AbstractContextManager[Store]] | None = None,
    ) -> None:
        self._hold = hold
        self._unsettled = unsettled
        self._queue: list[_Pending] = []
        self._queue_lock = threading.Lock()
        self._commit_lock = threading.Lock()
        # judging, the journal and what it holds: changed only under _judge
        self._judge = threading.RLock()
        self._journal: Journal | None = None
        self._journal_off = unsettled is None
        self._view: DuckDBLrs | None = None  # the store seen by judges, on their cursor
        self._pending: list[NewStatements] = []
        self._pending_rows = 0
        self._pending_ids: dict[str, tuple[Batch, int]] = {}
        self._stuck = False  # a move failed: its rows are back in _pending, both files used
        self._wake = threading.Condition()
        self._mover: threading.Thread | None = None
        self._closed = False

    def write(self, batch: Batch) -> list[str]:
        """Store a prepared batch; return its ids once durable (or raise its error)."""
        if not self._journal_off and not batch.parts:
            ids = self._journaled(batch)
            if ids is not None:
                return ids
        return self._group_write(batch)

    # -- journal -------------------------------------------------------------------

    def _journaled(self, batch: Batch) -> list[str] | None:
        """Accept a batch into the journal; None when it must take the group commit."""
        cols = _Columns.of(batch)
        if any(cols.voids):
            return None  # voiding reads and updates stored rows: the group commit does it
        if self._journal is None and not self._start():
            return None
        with self._judge:
            journal, view = self._journal, self._view
            if journal is None or view is None:  # closed meanwhile
                return None
            given = [i for i in batch.ids if i is not None]
            known: dict[str, dict[str, Any] | tuple[Batch, int]] = {
                i: codec.loads(s.text)
                for i, s in view.find_by_filter(
                    [i for i in given if i not in self._pending_ids]
                ).items()
            }
            known.update((i, self._pending_ids[i]) for i in given if i in self._pending_ids)
            positions, _ = _accept(batch, cols, known, {})
            end = journal.written
            if positions:
                rows = batch.new.take(positions).dated(_stored_time(view))
                end = journal.append(rows)
                self._pending.append(rows)
                self._pending_rows += len(rows)
                self._pending_ids.update((cols.ids[n], (batch, n)) for n in positions)
        journal.sync(end)
        if self._pending_rows >= self.MOVE_ROWS:
            with self._wake:
                self._wake.notify()
        return cols.ids

    def _start(self) -> bool:
        """Open the journal, the judges' cursor and the id filter (False: no journal here)."""
        assert self._unsettled is not None
        with self._unsettled() as store, self._judge:
            if self._journal is not None or self._journal_off or self._closed:
                return self._journal is not None
            path = getattr(store, "path", None)
            if store.engine != "duckdb" or not isinstance(path, Path):
                self._journal_off = True
                return False
            lrs = DuckDBLrs(store)
            lrs.check_filter()
            _stored_time(lrs)  # the clock starts after the last stored statement
            self._view = lrs.on_cursor()
            self._journal = Journal(journal_path(path))
            self._mover = threading.Thread(target=self._move_loop, name="lrs-mover", daemon=True)
            self._mover.start()
            return True

    @contextmanager
    def settled(self, store: Store, read_only: bool = False) -> Iterator[None]:
        """Around a use of the store (under its lock): journaled statements stored first.

        No batch is judged until the use ends; then, unless the use was ``read_only``,
        the id filter is checked against the table (the use may have written statements,
        or failed after an insert the filter followed before the rollback).
        """
        with self._judge:
            self.settle(store)
            try:
                yield
            finally:
                if not read_only and self._journal is not None:
                    DuckDBLrs(store).check_filter()

    def settle(self, store: Store) -> None:
        """Store every journaled statement in ``store`` (under its lock and the writer's)."""
        with self._judge:
            if not self._pending:
                return
            assert self._journal is not None
            lrs = DuckDBLrs(store)
            with lrs.transaction():
                lrs.insert(_finished(self._pending), None)
            if self._stuck:
                lrs.check_filter()  # the failed move's insert may have moved it
            self._pending, self._pending_rows, self._pending_ids = [], 0, {}
            self._journal.clear()
            self._stuck = False

    def _move(self) -> None:
        """Store the journaled statements while new ones are judged (the mover's turn)."""
        assert self._unsettled is not None
        with self._unsettled() as store:
            with self._judge:
                if self._stuck or self._journal is None:
                    self.settle(store)  # judges wait: the simple way after a failure
                    return
                moving, self._pending, self._pending_rows = self._pending, [], 0
                if not moving:
                    return
                self._journal.switch()
            lrs = DuckDBLrs(store)
            try:
                with lrs.transaction():
                    lrs.insert(_finished(moving), None)
            except Exception:
                with self._judge:  # back in front; both files hold journaled rows now
                    self._pending = moving + self._pending
                    self._pending_rows = sum(len(p) for p in self._pending)
                    self._stuck = True
                raise
            with self._judge:  # committed
                for new in moving:
                    for i in new.statements["statement_id"].to_pylist():
                        self._pending_ids.pop(i, None)
                self._journal.retire()
                lrs.check_filter()  # judges trust it: it must have followed the insert

    def _move_loop(self) -> None:
        while True:
            with self._wake:
                self._wake.wait_for(
                    lambda: self._closed or self._pending_rows >= self.MOVE_ROWS,
                    timeout=self.MOVE_AFTER_S,
                )
                if self._closed:
                    return
            if self._pending_rows:
                try:
                    self._move()
                except Exception:  # the rows stay journaled; the next move tries again
                    _log.exception("moving journaled statements into the store failed")

    def close(self) -> None:
        """Stop the mover and store what is journaled (the server is stopping)."""
        with self._wake:
            self._closed = True
            self._wake.notify()
        if self._mover is not None:
            self._mover.join()
        if self._journal is not None:
            with self._hold():  # settles
                pass
            with self._judge:
                self._journal.close()
                if self._view is not None:
                    self._view.close_cursor()
                self._journal = self._view = None

    # -- group commit --------------------------------------------------------------

    def _group_write(self, batch: Batch) -> list[str]:
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
