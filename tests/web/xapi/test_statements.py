"""The statements resource over HTTP: store, conflicts, voiding, queries, paging, formats."""

from __future__ import annotations

import hashlib
import json
import uuid
from typing import Any
from urllib.parse import urlencode

from cryptography.hazmat.primitives.asymmetric import rsa
from tests.domain.test_xapi_signatures import sign

from impactlens.web.xapi import multipart

from .conftest import Lrs

VOIDED = "http://adlnet.gov/expapi/verbs/voided"


def st(actor: str = "ann", verb: str = "http://v.example.com/did", **extra: Any) -> dict[str, Any]:
    return {
        "actor": {"mbox": f"mailto:{actor}@example.com", "name": actor.title()},
        "verb": {"id": verb, "display": {"en-US": "did", "de": "tat"}},
        "object": {"id": "http://example.com/course", "definition": {"name": {"en-US": "C"}}},
        **extra,
    }


def post(lrs: Lrs, body: Any, scope: str = "all") -> Any:
    return lrs.http.post("/xapi/statements", json=body, headers=lrs.headers(scope))


def get(lrs: Lrs, **params: str) -> Any:
    return lrs.http.get(f"/xapi/statements?{urlencode(params)}", headers=lrs.headers())


def test_post_put_get_round_trip(lrs: Lrs) -> None:
    done = post(lrs, [st(), st("bob")])
    assert done.status_code == 200
    ids = done.json()
    assert len(ids) == 2 and all(uuid.UUID(i) for i in ids)
    assert "X-Experience-API-Consistent-Through" in done.headers
    sid = str(uuid.uuid4())
    put = lrs.http.put(f"/xapi/statements?statementId={sid}", json=st(), headers=lrs.headers())
    assert put.status_code == 204
    one = get(lrs, statementId=sid)
    assert one.status_code == 200 and one.headers["Last-Modified"].endswith("GMT")
    body = one.json()
    assert body["id"] == sid and body["version"] == "1.0.0"
    assert body["authority"]["name"] == "t-all" and body["stored"] == body["timestamp"]
    listed = get(lrs).json()
    assert [s["id"] for s in listed["statements"]] == [sid, ids[1], ids[0]]
    assert listed["more"] == ""


def test_id_conflicts(lrs: Lrs) -> None:
    sid = str(uuid.uuid4())
    assert post(lrs, {**st(), "id": sid}).json() == [sid]
    # the same statement again: accepted, nothing new stored
    assert post(lrs, {**st(), "id": sid.upper()}).status_code == 200
    put = lrs.http.put(f"/xapi/statements?statementId={sid}", json=st(), headers=lrs.headers())
    assert put.status_code == 204
    assert len(get(lrs).json()["statements"]) == 1
    clash = post(lrs, [{**st("bob"), "id": str(uuid.uuid4())}, {**st("eve"), "id": sid}])
    assert clash.status_code == 409
    assert f"a different statement with the id {sid}" in clash.json()["message"]
    assert len(get(lrs).json()["statements"]) == 1  # the refused batch stored nothing


def test_a_batch_with_one_invalid_statement_stores_nothing(lrs: Lrs) -> None:
    bad = post(lrs, [st(), st(verb="not an iri")])
    assert bad.status_code == 400
    assert bad.json()["message"] == "verb.id must be an absolute IRI, not 'not an iri'"
    assert get(lrs).json()["statements"] == []


def test_voiding(lrs: Lrs) -> None:
    target = post(lrs, st()).json()[0]
    void = st(verb=VOIDED, object={"objectType": "StatementRef", "id": target})
    voiding = post(lrs, void).json()[0]
    assert get(lrs, statementId=target).status_code == 404
    assert get(lrs, voidedStatementId=target).json()["id"] == target
    assert [s["id"] for s in get(lrs).json()["statements"]] == [voiding]
    again = post(lrs, {**void, "object": {"objectType": "StatementRef", "id": voiding}})
    assert again.status_code == 400
    assert "is itself a voiding statement" in again.json()["message"]


def test_filters_and_paging(lrs: Lrs) -> None:
    ids = post(lrs, [st("ann" if i % 3 else "bob") for i in range(7)]).json()
    agent = json.dumps({"mbox": "mailto:ann@example.com"})
    anns = [i for n, i in enumerate(ids) if n % 3]
    seen: list[str] = []
    page = get(lrs, agent=agent, limit="2", ascending="true").json()
    while True:
        seen += [s["id"] for s in page["statements"]]
        if not page["more"]:
            break
        assert page["more"].startswith("/xapi/statements?more=")
        page = lrs.http.get(page["more"], headers=lrs.headers()).json()
    assert seen == anns
    verb = get(lrs, verb="http://v.example.com/other").json()
    assert verb["statements"] == []
    bad = get(lrs, statementId=ids[0], agent=agent)
    assert bad.status_code == 400 and "X-Experience-API-Consistent-Through" in bad.headers
    assert get(lrs, limit="-1").status_code == 400
    assert get(lrs, colour="red").json()["message"] == "GET statements has no parameter colour"


def test_formats(lrs: Lrs) -> None:
    sid = post(lrs, st()).json()[0]
    ids = get(lrs, statementId=sid, format="ids").json()
    assert ids["actor"] == {"mbox": "mailto:ann@example.com"}
    assert ids["object"] == {"id": "http://example.com/course"}
    canonical = lrs.http.get(
        f"/xapi/statements?statementId={sid}&format=canonical",
        headers=lrs.headers(**{"Accept-Language": "de"}),
    ).json()
    assert canonical["verb"]["display"] == {"de": "tat"}
    activity = lrs.http.get(
        "/xapi/activities?activityId=http://example.com/course", headers=lrs.headers()
    ).json()
    assert activity == {"objectType": "Activity", "id": "http://example.com/course",
                        "definition": {"name": {"en-US": "C"}}}  # fmt: skip


def test_attachments_multipart(lrs: Lrs) -> None:
    content = b"hello attachment"
    sha2 = hashlib.sha256(content).hexdigest()
    att = {"usageType": "http://example.com/usage", "display": {"en": "note"},
           "contentType": "text/plain", "length": len(content), "sha2": sha2}  # fmt: skip
    statement = st(attachments=[att])
    missing = post(lrs, statement)
    assert missing.status_code == 400 and "has no fileUrl" in missing.json()["message"]
    body, ctype = multipart.build(statement, [(sha2, "text/plain", content)])
    done = lrs.http.post(
        "/xapi/statements", content=body, headers=lrs.headers(**{"Content-Type": ctype})
    )
    assert done.status_code == 200, done.text
    sid = done.json()[0]
    back = get(lrs, statementId=sid, attachments="true")
    assert back.headers["content-type"].startswith("multipart/mixed")
    document, parts = multipart.parse(back.content, back.headers["content-type"])
    assert document["id"] == sid and parts == {sha2: ("text/plain", content)}
    tampered, ctype = multipart.build(statement, [(sha2, "text/plain", b"other")])
    refused = lrs.http.post(
        "/xapi/statements", content=tampered, headers=lrs.headers(**{"Content-Type": ctype})
    )
    assert refused.status_code == 400 and "does not match its hash" in refused.json()["message"]
    linked = post(lrs, st(attachments=[{**att, "fileUrl": "http://example.com/f.txt"}]))
    assert linked.status_code == 200


def test_alternate_request_syntax(lrs: Lrs) -> None:
    sid = str(uuid.uuid4())
    form = {"statementId": sid, "content": json.dumps(st()), "Content-Type": "application/json",
            **lrs.headers()}  # fmt: skip
    done = lrs.http.post(
        "/xapi/statements?method=PUT",
        content=urlencode(form),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert done.status_code == 204, done.text
    assert get(lrs, statementId=sid).json()["id"] == sid


def test_signed_statements_are_verified(lrs: Lrs) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    statement = {**st(), "id": str(uuid.uuid4())}
    for jws, status in ((sign(statement, key), 200), (sign(statement, key)[:-4] + b"AAAA", 400)):
        sha2 = hashlib.sha256(jws).hexdigest()
        att = {"usageType": "http://adlnet.gov/expapi/attachments/signature",
               "display": {"en-US": "signature"}, "contentType": "application/octet-stream",
               "length": len(jws), "sha2": sha2}  # fmt: skip
        body, ctype = multipart.build(
            {**statement, "attachments": [att]}, [(sha2, "application/octet-stream", jws)]
        )
        done = lrs.http.post(
            "/xapi/statements", content=body, headers=lrs.headers(**{"Content-Type": ctype})
        )
        assert done.status_code == status, done.text
    assert "the signature does not verify" in done.json()["message"]
    assert get(lrs, statementId=statement["id"]).status_code == 200  # the good one is stored
