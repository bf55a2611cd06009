"""State, activity profile and agent profile documents with ETag concurrency."""

from __future__ import annotations

import json
from urllib.parse import urlencode

from .conftest import Lrs

AGENT = json.dumps({"mbox": "mailto:ann@example.com"})
ACT = "http://example.com/course"


def state_url(state_id: str | None = "s1", **extra: str) -> str:
    params = {"activityId": ACT, "agent": AGENT, **extra}
    if state_id:
        params["stateId"] = state_id
    return f"/xapi/activities/state?{urlencode(params)}"


def test_state_put_get_post_merge_delete(lrs: Lrs) -> None:
    h = lrs.headers()
    assert lrs.http.put(state_url(), json={"a": 1, "b": 1}, headers=h).status_code == 204
    got = lrs.http.get(state_url(), headers=h)
    assert got.json() == {"a": 1, "b": 1} and got.headers["ETag"].startswith('"')
    assert lrs.http.post(state_url(), json={"b": 2, "c": 3}, headers=h).status_code == 204
    assert lrs.http.get(state_url(), headers=h).json() == {"a": 1, "b": 2, "c": 3}
    text = {**h, "Content-Type": "text/plain"}
    lrs.http.put(state_url("s2"), content=b"plain", headers=text)
    refused = lrs.http.post(state_url("s2"), json={"x": 1}, headers=h)
    assert (
        refused.status_code == 400
        and "only JSON objects can be merged" in refused.json()["message"]
    )
    assert lrs.http.get(state_url(None), headers=h).json() == ["s1", "s2"]
    reg = "1d8d4c8a-4d5e-4a3b-9f4e-6d1f2b3c4d5e"
    lrs.http.put(state_url("s3", registration=reg), json={}, headers=h)
    assert lrs.http.get(state_url(None, registration=reg), headers=h).json() == ["s3"]
    assert lrs.http.delete(state_url(None), headers=h).status_code == 204
    assert lrs.http.get(state_url(None), headers=h).json() == []
    assert lrs.http.get(state_url("s1"), headers=h).status_code == 404


def test_profile_concurrency(lrs: Lrs) -> None:
    h = lrs.headers()
    url = f"/xapi/activities/profile?{urlencode({'activityId': ACT, 'profileId': 'p'})}"
    first = lrs.http.put(url, json={"v": 1}, headers=h)
    assert first.status_code == 400 and "If-None-Match: *" in first.json()["message"]
    assert lrs.http.put(url, json={"v": 1}, headers={**h, "If-None-Match": "*"}).status_code == 204
    etag = lrs.http.get(url, headers=h).headers["ETag"]
    assert lrs.http.put(url, json={"v": 2}, headers=h).status_code == 409
    assert lrs.http.put(url, json={"v": 2}, headers={**h, "If-None-Match": "*"}).status_code == 412
    assert lrs.http.put(url, json={"v": 2}, headers={**h, "If-Match": '"nope"'}).status_code == 412
    assert lrs.http.put(url, json={"v": 2}, headers={**h, "If-Match": etag}).status_code == 204
    assert lrs.http.get(url, headers=h).json() == {"v": 2}


def test_agent_profile_and_agents(lrs: Lrs) -> None:
    h = lrs.headers()
    url = f"/xapi/agents/profile?{urlencode({'agent': AGENT, 'profileId': 'p'})}"
    assert lrs.http.post(url, json={"k": 1}, headers=h).status_code == 204
    assert lrs.http.get(url, headers=h).json() == {"k": 1}
    person = lrs.http.get(f"/xapi/agents?{urlencode({'agent': AGENT})}", headers=h).json()
    assert person == {"objectType": "Person", "mbox": ["mailto:ann@example.com"]}
    bad = lrs.http.get(f"/xapi/agents/profile?{urlencode({'agent': '{}'})}", headers=h)
    assert bad.status_code == 400 and "exactly one of mbox" in bad.json()["message"]
