"""The statement journal: acknowledged statements durable before DuckDB has them.

A batch the writer journals is answered once the journal is synced; a mover stores it
later, and whoever takes the held store first stores what is still journaled. After a
crash the next writable open of the store moves the journal in.
"""

from __future__ import annotations

import json
import signal
import threading
import time
import urllib.request
import uuid
from base64 import b64encode
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.ingest.xapi_statements import write_lines
from tests.served import start_server
from tests.services.test_lrs_batches import VOIDED, batch, st

from impactlens.domain.settings import WorkspaceSettings
from impactlens.domain.xapi.errors import XapiError
from impactlens.domain.xapi.values import iso
from impactlens.ingest.xapi import import_statements
from impactlens.services import lrs_batches as batches
from impactlens.services.lrs import create_client
from impactlens.services.portfolio import HeldWorkspace
from impactlens.services.workspace import Workspace
from impactlens.store.duckdb import DuckDBStore
from impactlens.store.duckdb_lrs import DuckDBLrs
from impactlens.store.lrs import StatementQuery, lrs_for
from impactlens.store.lrs_journal import journal_path, other_file, read_records


@pytest.fixture
def held(tmp_path: Path) -> Iterator[tuple[HeldWorkspace, batches.StatementWriter]]:
    """A held DuckDB workspace and its writer, the mover too slow to run in a test."""
    Workspace.create(tmp_path / "ws", WorkspaceSettings())
    ws = HeldWorkspace(tmp_path / "ws")
    writer = batches.StatementWriter(ws.store, ws.unsettled_store)
    writer.MOVE_AFTER_S = 3600
    writer.MOVE_ROWS = 10**9
    ws.settled = writer.settled
    yield ws, writer
    writer.close()
    ws.close()


def store_file(workspace: Path) -> Path:
    return Path(Workspace(workspace).store_url.removeprefix("duckdb://"))


def stored_ids(ws: HeldWorkspace) -> list[str]:
    with ws.unsettled_store() as store:
        return [
            s.statement_id for s in lrs_for(store).query(StatementQuery(limit=1000, ascending=True))
        ]


def test_journaled_batches_wait_in_the_journal_until_the_store_is_read(held: Any) -> None:
    ws, writer = held
    assert writer.write(batch(st(1), st(2))) == [str(uuid.UUID(int=n)) for n in (1, 2)]
    writer.write(batch(st(3)))
    path = journal_path(store_file(ws.path))
    assert [len(r) for r in read_records(path)] == [2, 1]  # durable, not stored yet
    assert stored_ids(ws) == []
    with ws.store() as store:  # any reader settles first
        rows = lrs_for(store).query(StatementQuery(limit=10, ascending=True))
    assert [r.statement_id for r in rows] == [str(uuid.UUID(int=n)) for n in (1, 2, 3)]
    assert [r.seq for r in rows] == [1, 2, 3]
    assert rows[0].stored <= rows[2].stored
    assert json.loads(rows[0].text)["stored"].endswith("Z")
    assert path.stat().st_size == 0


def test_ids_are_judged_against_journaled_statements_too(held: Any) -> None:
    ws, writer = held
    writer.write(batch(st(1)))
    assert writer.write(batch(st(1))) == [str(uuid.UUID(int=1))]  # the same: a no-op
    with pytest.raises(XapiError) as refused:
        writer.write(batch(st(1, verb={"id": "http://example.com/other"}), st(4)))
    assert refused.value.status == 409
    # voiding a journaled statement takes the group commit, after the journal is stored
    writer.write(
        batch(
            {
                **st(5),
                "verb": {"id": VOIDED},
                "object": {"objectType": "StatementRef", "id": str(uuid.UUID(int=1))},
            }
        )
    )
    with ws.store() as store:
        found = lrs_for(store).find([str(uuid.UUID(int=n)) for n in (1, 4, 5)])
    assert found[str(uuid.UUID(int=1))].voided and str(uuid.UUID(int=4)) not in found
    assert found[str(uuid.UUID(int=5))].seq == 2


def test_a_crash_loses_no_acknowledged_statement(held: Any) -> None:
    ws, writer = held
    writer.write(batch(st(1), st(2)))
    with ws.store():
        pass  # these two are stored
    writer.write(batch(st(3)))
    path = store_file(ws.path)
    # the same record journaled twice (stored before a crash, journal not yet emptied)
    # and a torn append at the end (never acknowledged)
    writer.write(batch(st(4)))
    data = journal_path(path).read_bytes()
    # crash: the connection goes away, nothing settles
    with ws.unsettled_store() as store:
        store.close()
    ws._held = None
    ws.settled = None
    journal_path(path).write_bytes(data + data + b"ILJ1\xff\xff")
    reopened = DuckDBStore(path, read_only=True)  # a reader too: opened for writing once
    try:
        rows = lrs_for(reopened).query(StatementQuery(limit=10, ascending=True))
    finally:
        reopened.close()
    assert [r.statement_id for r in rows] == [str(uuid.UUID(int=n)) for n in (1, 2, 3, 4)]
    assert journal_path(path).stat().st_size == 0


def test_a_killed_server_keeps_what_it_acknowledged(tmp_path: Path) -> None:
    """The real thing: ``impactlens serve`` killed right after its answers, then reopened."""
    ws = Workspace.create(tmp_path / "ws", WorkspaceSettings())
    client = create_client(ws, "crash", "all")
    token = b64encode(f"{client.key}:{client.secret}".encode()).decode()
    proc, base = start_server(
        ws.path, ready="/xapi/about", env={"IMPACTLENS_XAPI_MOVE_MS": "60000"}
    )  # the mover never runs
    sent: list[str] = []
    try:
        for b in range(5):
            body = [st(b * 10 + n) for n in range(1, 11)]
            req = urllib.request.Request(
                f"{base}/xapi/statements",
                data=json.dumps(body).encode(),
                headers={
                    "Authorization": f"Basic {token}",
                    "Content-Type": "application/json",
                    "X-Experience-API-Version": "1.0.3",
                },
            )
            with urllib.request.urlopen(req, timeout=30) as answer:
                sent += json.loads(answer.read())
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        if proc.stderr is not None:
            proc.stderr.close()
    path = store_file(ws.path)
    assert sum(len(r) for r in read_records(journal_path(path))) == 50  # only journaled
    with ws.store() as store:
        rows = lrs_for(store).query(StatementQuery(limit=100, ascending=True))
    assert [r.statement_id for r in rows] == sent
    # the server journaled its rows unstamped, with its own mark: stamped here on moving in
    for row in rows:
        text = json.loads(row.text)
        assert text["stored"] == iso(row.stored) and "stored-pending" not in row.text
        assert text["timestamp"] == text["stored"]  # st() sends no timestamp


class _Blocked:
    """DuckDBLrs.insert held at its start in the mover's thread until released."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, fail: bool = False) -> None:
        self.entered, self.release = threading.Event(), threading.Event()
        inner = DuckDBLrs.insert

        def insert(lrs: DuckDBLrs, *args: Any, **kwargs: Any) -> None:
            if threading.current_thread().name == "lrs-mover":
                self.entered.set()
                assert self.release.wait(30)
                if fail:
                    raise OSError("disk full")
            inner(lrs, *args, **kwargs)

        monkeypatch.setattr(DuckDBLrs, "insert", insert)


def move_in_background(writer: batches.StatementWriter) -> threading.Thread:
    """Wake the mover (the fixture's never wakes by itself) and return its thread."""
    assert writer._mover is not None
    writer.MOVE_ROWS = 1
    with writer._wake:
        writer._wake.notify()
    return writer._mover


def test_batches_are_judged_and_journaled_while_a_move_runs(
    held: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    ws, writer = held
    writer.write(batch(st(1), st(2)))
    blocked = _Blocked(monkeypatch)
    move_in_background(writer)
    assert blocked.entered.wait(30)  # the mover holds the store, inserting 1 and 2
    writer.MOVE_ROWS = 10**9
    # judged without the store: new ids accepted, the moving ones known, 409 on a change
    assert writer.write(batch(st(3))) == [str(uuid.UUID(int=3))]
    assert writer.write(batch(st(1), st(4))) == [str(uuid.UUID(int=n)) for n in (1, 4)]
    with pytest.raises(XapiError) as refused:
        writer.write(batch(st(2, verb={"id": "http://example.com/other"})))
    assert refused.value.status == 409
    path = journal_path(store_file(ws.path))
    assert [len(r) for r in read_records(path)] == [2]  # the moving rows, synced
    assert [len(r) for r in read_records(other_file(path))] == [1, 1]  # 3; 4 (1 is known)
    blocked.release.set()
    for _ in range(300):  # the move commits, then empties the file it moved
        if path.stat().st_size == 0:
            break
        time.sleep(0.01)
    assert path.stat().st_size == 0 and other_file(path).stat().st_size > 0
    assert stored_ids(ws) == [str(uuid.UUID(int=n)) for n in (1, 2)]
    with ws.store() as store:  # the reader stores 3 and 4 after them
        rows = lrs_for(store).query(StatementQuery(limit=10, ascending=True))
    assert [r.statement_id for r in rows] == [str(uuid.UUID(int=n)) for n in (1, 2, 3, 4)]
    assert [r.seq for r in rows] == [1, 2, 3, 4]
    assert other_file(path).stat().st_size == 0
    assert writer.write(batch(st(2))) == [str(uuid.UUID(int=2))]  # stored: still a no-op
    with ws.store():
        pass
    assert len(stored_ids(ws)) == 4


def fail_a_move(writer: batches.StatementWriter, monkeypatch: pytest.MonkeyPatch) -> Any:
    """Statements 1 and 2 in a move that fails, 3 judged meanwhile; return the mover."""
    writer.write(batch(st(1), st(2)))
    blocked = _Blocked(monkeypatch, fail=True)
    mover = move_in_background(writer)
    assert blocked.entered.wait(30)
    writer.MOVE_ROWS = 10**9
    writer.write(batch(st(3)))
    blocked.release.set()
    for _ in range(300):
        if writer._stuck:
            break
        time.sleep(0.01)
    return mover


def test_a_crash_during_a_move_loses_nothing(held: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    ws, writer = held
    fail_a_move(writer, monkeypatch)  # the move never commits
    path, store_path = journal_path(store_file(ws.path)), store_file(ws.path)
    older, newer = path.read_bytes(), other_file(path).read_bytes()
    assert older and newer
    with ws.unsettled_store() as store:  # crash: the connection goes away, nothing settles
        store.close()
    ws._held = None
    ws.settled = None
    # which file is older is read from the records: swapped, the order holds
    path.write_bytes(newer)
    other_file(path).write_bytes(older)
    reopened = DuckDBStore(store_path)
    try:
        rows = lrs_for(reopened).query(StatementQuery(limit=10, ascending=True))
    finally:
        reopened.close()
    assert [r.statement_id for r in rows] == [str(uuid.UUID(int=n)) for n in (1, 2, 3)]
    assert [r.seq for r in rows] == [1, 2, 3]
    assert path.stat().st_size == 0 and other_file(path).stat().st_size == 0


def test_a_failed_move_keeps_the_rows_journaled(
    held: Any, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    ws, writer = held
    mover = fail_a_move(writer, monkeypatch)
    assert writer._stuck and mover.is_alive()
    assert "moving journaled statements into the store failed" in caplog.text
    monkeypatch.undo()
    # judged against the rows the failed move gave back: a no-op, then a conflict
    assert writer.write(batch(st(1))) == [str(uuid.UUID(int=1))]
    with pytest.raises(XapiError):
        writer.write(batch(st(3, verb={"id": "http://example.com/other"})))
    with ws.store() as store:
        rows = lrs_for(store).query(StatementQuery(limit=10, ascending=True))
    assert [r.statement_id for r in rows] == [str(uuid.UUID(int=n)) for n in (1, 2, 3)]
    assert not writer._stuck
    assert writer.write(batch(st(2), st(5))) == [str(uuid.UUID(int=n)) for n in (2, 5)]
    with ws.store():
        pass
    assert stored_ids(ws) == [str(uuid.UUID(int=n)) for n in (1, 2, 3, 5)]


def test_statements_written_by_another_use_of_the_store_are_judged(
    held: Any, tmp_path: Path
) -> None:
    """An import through the held store (no filter follows it) is seen by the next judge."""
    ws, writer = held
    writer.write(batch(st(1)))  # the writer is judging: its filter is loaded
    # an id whose first 64 bits (the filter's key) no other id of these tests shares
    imported = "7f3e2d1c-0b0a-4999-8888-777766665555"
    other = st(7, id=imported, verb={"id": "http://example.com/imported"})
    with ws.store() as store:
        import_statements(store, [write_lines(tmp_path / "s.jsonl", [other])])
    assert writer.write(batch(other)) == [imported]  # the same: a no-op
    with pytest.raises(XapiError) as refused:
        writer.write(batch(st(7, id=imported)))  # another statement with the imported id
    assert refused.value.status == 409
    with ws.store():
        pass
    assert stored_ids(ws) == [str(uuid.UUID(int=1)), imported]
