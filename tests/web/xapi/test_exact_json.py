"""Statements come back as they were sent, whatever JSON parser the hot path uses."""

from __future__ import annotations

import uuid

from .conftest import Lrs
from .test_statements import get, st

BIG = 123456789012345678901234567890  # beyond 64 bits: orjson alone would make it a float


def test_large_integers_and_unicode_survive_post_and_get(lrs: Lrs) -> None:
    sid = str(uuid.uuid4())
    ext = {"http://x.example.com/n": BIG, "http://x.example.com/t": "Zürich ✓"}
    body = (
        f'{{"id": "{sid}", "actor": {{"mbox": "mailto:ann@example.com"}}, '
        '"verb": {"id": "http://v.example.com/did"}, "object": {"id": "http://example.com/c"}, '
        f'"result": {{"extensions": {{"http://x.example.com/n": {BIG}, '
        '"http://x.example.com/t": "Zürich ✓"}}}'
    )
    posted = lrs.http.post(
        "/xapi/statements",
        content=body.encode(),
        headers=lrs.headers(**{"Content-Type": "application/json"}),
    )
    assert posted.status_code == 200, posted.text
    back = get(lrs, statementId=sid)
    assert f'"http://x.example.com/n":{BIG}' in back.text
    assert back.json()["result"]["extensions"] == ext


def test_nan_is_not_json(lrs: Lrs) -> None:
    body = str(st()).replace("'", '"').replace('"C"}}}', '"C"}}, "result": {"score": NaN}}')
    refused = lrs.http.post(
        "/xapi/statements",
        content=body.encode(),
        headers=lrs.headers(**{"Content-Type": "application/json"}),
    )
    assert refused.status_code == 400 and "not valid JSON" in refused.text
