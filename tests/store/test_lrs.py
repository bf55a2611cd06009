"""The LRS tables on DuckDB and PostgreSQL: append order, the StatementRef closure,
documents, clients."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from impactlens.domain.xapi.rows import index_row, prepare
from impactlens.store.base import Store
from impactlens.store.lrs import Client, Document, DocumentKey, StatementQuery, lrs_for
from impactlens.store.lrs_sql import NewStatements

AUTH = {"objectType": "Agent", "mbox": "mailto:lrs@example.com"}
T0 = datetime(2024, 1, 1)


def _st(n: int, actor: str, verb: str = "http://v/did", **extra: Any) -> dict[str, Any]:
    return {
        "id": f"00000000-0000-4000-8000-{n:012d}",
        "actor": {"mbox": f"mailto:{actor}@example.com"},
        "verb": {"id": verb},
        "object": {"id": f"http://example.com/act/{n % 2}"},
        **extra,
    }


def _rows(statements: list[dict[str, Any]], start: int = 0) -> NewStatements:
    return NewStatements.of(
        [
            index_row(prepare(s, stored=T0 + timedelta(seconds=start + i), authority=AUTH))
            for i, s in enumerate(statements)
        ]
    )


def test_insert_continues_seq_and_queries_filter(writable_store: Store) -> None:
    store = writable_store
    lrs = lrs_for(store)
    with lrs.transaction():
        lrs.insert(_rows([_st(i, "ann" if i % 2 else "bob") for i in range(6)]))
    with lrs.transaction():
        lrs.insert(_rows([_st(6, "ann")], start=6))
    assert lrs.last_seq() == 7
    everything = lrs.query(StatementQuery(limit=100))
    assert [s.seq for s in everything] == [7, 6, 5, 4, 3, 2, 1]  # newest first
    ann = lrs.query(StatementQuery(agent="mbox:mailto:ann@example.com", ascending=True))
    assert [s.seq for s in ann] == [2, 4, 6, 7]
    act = lrs.query(StatementQuery(activity="http://example.com/act/0", limit=100))
    assert {s.statement_id[-1] for s in act} == {"0", "2", "4", "6"}
    later = lrs.query(StatementQuery(since=T0 + timedelta(seconds=4), limit=100))
    assert [s.seq for s in later] == [7, 6]
    page = lrs.query(StatementQuery(limit=2, after_seq=5))
    assert [s.seq for s in page] == [4, 3, 2]  # limit + 1: the caller knows there is more
    # the bulk import's reader sees the same rows
    refs = store.table("xapi_statement_refs").count().to_pyarrow().as_py()
    assert refs == 7 * 3  # actor, object activity, authority


def test_statement_refs_match_through_their_target_and_voiding(writable_store: Store) -> None:
    store = writable_store
    lrs = lrs_for(store)
    target = _st(1, "ann")
    ref = _st(2, "bob", object={"objectType": "StatementRef", "id": target["id"]})
    with lrs.transaction():
        lrs.insert(_rows([target, ref]))
        lrs.void([target["id"]])
    found = lrs.query(StatementQuery(agent="mbox:mailto:ann@example.com"))
    # the target is voided (left out); the statement pointing at it still matches
    assert [s.statement_id for s in found] == [ref["id"]]
    assert lrs.find([target["id"]])[target["id"]].voided


def test_documents_and_clients(writable_store: Store) -> None:
    store = writable_store
    lrs = lrs_for(store)
    key = DocumentKey("state", "http://example.com/a", "mbox:mailto:a@x.org")
    lrs.put_document(key, Document("s1", "application/json", b"{}", '"e1"', T0))
    lrs.put_document(key, Document("s1", "application/json", b"[]", '"e2"', T0))
    lrs.put_document(key, Document("s2", "text/plain", b"x", '"e3"', T0 + timedelta(1)))
    found = lrs.document(key, "s1")
    assert found is not None and found.content == b"[]" and found.etag == '"e2"'
    assert lrs.document_ids(key, None) == ["s1", "s2"]
    assert lrs.document_ids(key, T0) == ["s2"]
    lrs.delete_documents(key, None)
    assert lrs.document_ids(key, None) == []
    lrs.add_client(Client("k1", "suite", "read", "h"), T0)
    assert lrs.client("k1") == Client("k1", "suite", "read", "h")
    assert lrs.client("nope") is None
