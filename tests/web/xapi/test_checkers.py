"""Large POST bodies are checked in worker processes, with the same answers as in-request."""

from __future__ import annotations

import json
import os
import pickle
import threading
import time
import uuid
from typing import Any

import pytest

from impactlens.domain.xapi.errors import XapiError
from impactlens.services.lrs_batches import Batch
from impactlens.services.lrs_checkers import ENV, MIN_BYTES, Checkers, default_workers
from impactlens.store.lrs import Client

from .conftest import Lrs


def _st(n: int, **extra: Any) -> dict[str, Any]:
    return {
        "id": str(uuid.UUID(int=n)),
        "actor": {"mbox": f"mailto:learner{n}@example.com", "name": f"Learner {n}"},
        "verb": {"id": "http://adlnet.gov/expapi/verbs/completed", "display": {"en-US": "did"}},
        "object": {"id": f"http://example.com/course/{n % 7}"},
        "result": {"score": {"scaled": 0.5}, "completion": True, "duration": "PT5M"},
        **extra,
    }


def _checkers(lrs: Lrs) -> Checkers:
    checkers = lrs.http.app.state.xapi.state.checkers  # type: ignore[attr-defined]
    assert isinstance(checkers, Checkers)
    return checkers


def test_a_large_batch_is_checked_by_a_worker_and_stored_as_sent(lrs: Lrs) -> None:
    checkers = _checkers(lrs)
    checkers.workers = 1
    batch = [_st(n) for n in range(1, 201)]
    batch[7] = {k: v for k, v in batch[7].items() if k != "id"}  # the LRS gives it an id
    answer = lrs.http.post("/xapi/statements", json=batch, headers=lrs.headers())
    assert answer.status_code == 200, answer.text
    assert checkers.used == 1
    ids = answer.json()
    assert len(ids) == 200 and ids[0] == str(uuid.UUID(int=1)) and uuid.UUID(ids[7])
    for n in (0, 7, 199):
        got = lrs.http.get(
            "/xapi/statements", params={"statementId": ids[n]}, headers=lrs.headers()
        ).json()
        assert got["actor"]["mbox"] == batch[n]["actor"]["mbox"]
        assert got["result"]["duration"] == "PT5M" and got["stored"].endswith("Z")
        assert got["timestamp"] == got["stored"]  # none was sent
    # the same batch again is a no-op; one changed statement makes it a 409
    again = lrs.http.post("/xapi/statements", json=batch[8:], headers=lrs.headers())
    assert again.status_code == 200 and checkers.used == 2
    changed = [*batch[8:150], {**batch[150], "verb": {"id": "http://example.com/other"}}]
    refused = lrs.http.post("/xapi/statements", json=changed, headers=lrs.headers())
    assert refused.status_code == 409 and str(uuid.UUID(int=151)) in refused.json()["message"]


def test_a_worker_refuses_a_batch_with_the_in_request_message(lrs: Lrs) -> None:
    checkers = _checkers(lrs)
    batch = [_st(n) for n in range(1, 201)]
    batch[150]["verb"] = {"id": "not an iri"}
    answers = []
    for workers in (1, 0):
        checkers.workers = workers
        answers.append(lrs.http.post("/xapi/statements", json=batch, headers=lrs.headers()))
    assert checkers.used == 1
    assert [a.status_code for a in answers] == [400, 400]
    assert answers[0].json() == answers[1].json()
    assert "verb" in answers[0].json()["message"]
    broken = lrs.http.post(
        "/xapi/statements",
        content=b"[" + b" " * MIN_BYTES + b"{",
        headers=lrs.headers(**{"Content-Type": "application/json"}),
    )
    assert broken.status_code == 400 and "not valid JSON" in broken.json()["message"]
    stored = lrs.http.get("/xapi/statements", headers=lrs.headers()).json()["statements"]
    assert stored == []


def test_an_xapi_error_keeps_its_status_across_processes() -> None:
    error = pickle.loads(pickle.dumps(XapiError("too large", 413)))
    assert isinstance(error, XapiError) and error.status == 413 and str(error) == "too large"


def test_a_body_waits_for_a_busy_worker_instead_of_being_checked_in_the_server() -> None:
    checkers = Checkers(1)
    client = Client("k", "test", "all", "-")
    large = json.dumps([_st(n) for n in range(1, 3001)]).encode()
    small = json.dumps([_st(n) for n in range(5001, 5201)]).encode()
    first: list[Batch] = []
    try:
        thread = threading.Thread(
            target=lambda: first.append(checkers.prepare(large, client, "1.0.3"))
        )
        thread.start()
        while checkers.used == 0:  # the first body is with the (only) worker
            time.sleep(0.001)
        second = checkers.prepare(small, client, "1.0.3")
        thread.join()
    finally:
        checkers.close()
    assert checkers.used == 2  # both went to the worker: the server process checked none
    assert second.ids == [str(uuid.UUID(int=n)) for n in range(5001, 5201)]
    assert len(first) == 1 and len(first[0].ids) == 3000


def test_by_default_one_worker_per_core(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV, raising=False)
    for cores, workers in ((1, 1), (2, 2), (8, 4)):
        monkeypatch.setattr(os, "cpu_count", lambda c=cores: c)
        assert default_workers() == workers
    monkeypatch.setenv(ENV, "0")
    assert default_workers() == 0


def _workers(checkers: Checkers) -> list[Any]:
    """The idle workers (taken out of the pool and put back)."""
    idle = checkers._idle
    assert idle is not None
    found = []
    while not idle.empty():
        found.append(idle.get())
    for worker in found:
        idle.put(worker)
    return found


def test_a_worker_that_died_is_replaced_and_its_body_checked_in_the_server() -> None:
    checkers = Checkers(1)
    client = Client("k", "test", "all", "-")
    body = json.dumps([_st(n) for n in range(1, 201)]).encode()
    try:
        assert len(checkers.prepare(body, client, "1.0.3").ids) == 200
        (first,) = _workers(checkers)
        first.process.kill()
        first.process.join()
        again = checkers.prepare(body, client, "1.0.3")  # answered all the same
        assert again.ids == [str(uuid.UUID(int=n)) for n in range(1, 201)]
        (fresh,) = _workers(checkers)
        assert fresh is not first and fresh.process.is_alive()
        assert len(checkers.prepare(body, client, "1.0.3").ids) == 200
        assert fresh.process.is_alive() and checkers.used == 3
    finally:
        checkers.close()
    assert not fresh.process.is_alive()  # close stops the workers


def test_a_refusal_leaves_the_worker_ready_for_the_next_body() -> None:
    checkers = Checkers(1)
    client = Client("k", "test", "all", "-")
    bad = [_st(n) for n in range(1, 201)]
    bad[3]["verb"] = {"id": "not an iri"}
    good = json.dumps([_st(n) for n in range(1, 201)]).encode()
    try:
        with pytest.raises(XapiError, match="verb"):
            checkers.prepare(json.dumps(bad).encode(), client, "1.0.3")
        (worker,) = _workers(checkers)
        assert len(checkers.prepare(good, client, "1.0.3").ids) == 200
        assert _workers(checkers) == [worker]
    finally:
        checkers.close()


def test_without_workers_a_body_is_checked_in_the_server() -> None:
    checkers = Checkers(0)
    body = json.dumps([_st(n) for n in range(1, 201)]).encode()
    batch = checkers.prepare(body, Client("k", "test", "all", "-"), "1.0.3")
    assert len(batch.ids) == 200 and checkers.used == 0
    checkers.close()
