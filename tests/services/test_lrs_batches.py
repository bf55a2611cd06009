"""Statement batches: checked outside the store, judged one by one in a group commit."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from impactlens.domain.xapi.errors import XapiError
from impactlens.services import lrs_batches as batches
from impactlens.store.base import Store
from impactlens.store.lrs import Client, StatementQuery, lrs_for

CLIENT = Client("k1", "bench", "all", "x")
VOIDED = "http://adlnet.gov/expapi/verbs/voided"


def st(n: int, **extra: Any) -> dict[str, Any]:
    return {
        "id": str(uuid.UUID(int=n)),
        "actor": {"mbox": f"mailto:l{n}@example.com"},
        "verb": {"id": "http://example.com/did"},
        "object": {"id": f"http://example.com/a{n}"},
        **extra,
    }


def batch(*statements: dict[str, Any]) -> batches.Batch:
    return batches.prepare_batch(list(statements), client=CLIENT)


@pytest.fixture
def store(writable_store: Store) -> Store:
    """DuckDB, then PostgreSQL."""
    return writable_store


def test_rows_are_built_ahead_and_stamped_at_commit(store: Store) -> None:
    ready = batch(st(1), {k: v for k, v in st(2).items() if k != "id"})
    texts = ready.new.statements["statement"].to_pylist()
    assert all("stored-pending-" in t for t in texts)  # no store touched yet
    ids = batches.commit_batches(lrs_for(store), [ready])[0]
    assert isinstance(ids, list) and ids[0] == str(uuid.UUID(int=1))
    found = lrs_for(store).find(ids)
    for sid in ids:
        saved = json.loads(found[sid].text)
        assert saved["stored"].endswith("Z") and "stored-pending-" not in found[sid].text
        assert found[sid].stored.isoformat(timespec="milliseconds") + "Z" == saved["stored"]
    no_timestamp = json.loads(found[ids[1]].text)
    assert no_timestamp["timestamp"] == no_timestamp["stored"]  # defaulted to the stored time


def test_a_group_judges_each_batch_on_its_own(store: Store) -> None:
    lrs = lrs_for(store)
    first = batch(st(1), st(2))
    same_id = batch({**st(1), "verb": {"id": "http://example.com/other"}}, st(3))
    repeat = batch(st(2))  # same id and content as in `first`: a no-op, accepted
    voids = batch(st(4, verb={"id": VOIDED}, object={"objectType": "StatementRef",
                                                     "id": str(uuid.UUID(int=2))}))  # fmt: skip
    void_void = batch(st(5, verb={"id": VOIDED}, object={"objectType": "StatementRef",
                                                         "id": str(uuid.UUID(int=4))}))  # fmt: skip
    results = batches.commit_batches(lrs, [first, same_id, repeat, voids, void_void])
    assert results[0] == [str(uuid.UUID(int=1)), str(uuid.UUID(int=2))]
    assert isinstance(results[1], XapiError) and results[1].status == 409
    assert "a different statement with the id" in str(results[1])
    assert results[2] == [str(uuid.UUID(int=2))]
    assert results[3] == [str(uuid.UUID(int=4))]
    assert isinstance(results[4], XapiError) and "itself a voiding statement" in str(results[4])
    stored = lrs.find([str(uuid.UUID(int=n)) for n in range(1, 6)])
    assert sorted(stored) == [str(uuid.UUID(int=n)) for n in (1, 2, 4)]  # 3 went with its batch
    assert stored[str(uuid.UUID(int=2))].voided
    assert lrs.last_seq() == 3


def test_concurrent_writers_share_commits_and_all_land(store: Store) -> None:
    lock = threading.Lock()
    commits = []

    @contextmanager
    def hold() -> Iterator[Store]:
        with lock:
            commits.append(1)
            yield store

    writer = batches.StatementWriter(hold)
    answers: dict[int, list[str]] = {}

    def work(c: int) -> None:
        for b in range(10):
            n = c * 1000 + b * 10
            answers[n] = writer.write(batch(*(st(n + i + 1) for i in range(10))))

    threads = [threading.Thread(target=work, args=(c,)) for c in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(answers) == 40 and all(len(ids) == 10 for ids in answers.values())
    assert lrs_for(store).last_seq() == 400
    page = lrs_for(store).query(StatementQuery(limit=500, ascending=True))
    assert len(page) == 400 and len(commits) <= 40
    with pytest.raises(XapiError, match="a different statement with the id"):
        writer.write(batch({**st(1), "verb": {"id": "http://example.com/other"}}))
