"""Credentials, scopes, the version header, limits, and staying out of the dashboard's API."""

from __future__ import annotations

import base64

from .conftest import VERSION, Lrs

ST = {"actor": {"mbox": "mailto:a@example.com"}, "verb": {"id": "http://v.example.com/x"},
      "object": {"id": "http://example.com/a"}}  # fmt: skip


def test_credentials_and_scopes(lrs: Lrs) -> None:
    anon = lrs.http.get("/xapi/statements", headers=VERSION)
    assert anon.status_code == 401 and anon.headers["WWW-Authenticate"].startswith("Basic")
    wrong = base64.b64encode(b"nobody:secret").decode()
    bad = lrs.http.get("/xapi/statements", headers={**VERSION, "Authorization": f"Basic {wrong}"})
    assert bad.status_code == 401 and bad.json()["message"] == "the key or secret is wrong"
    read_post = lrs.http.post("/xapi/statements", json=ST, headers=lrs.headers("read"))
    assert read_post.status_code == 403
    assert read_post.json()["message"] == "the client's scope (read) does not allow POST"
    assert (
        lrs.http.post("/xapi/statements", json=ST, headers=lrs.headers("write")).status_code == 200
    )
    assert lrs.http.get("/xapi/statements", headers=lrs.headers("write")).status_code == 403
    assert lrs.http.get("/xapi/statements", headers=lrs.headers("read")).status_code == 200


def test_version_header(lrs: Lrs) -> None:
    missing = lrs.http.get("/xapi/statements", headers=lrs.auth["all"])
    assert missing.status_code == 400
    assert missing.json()["message"].startswith("send the X-Experience-API-Version header")
    old = lrs.http.get(
        "/xapi/statements", headers={**lrs.headers(), "X-Experience-API-Version": "0.95"}
    )
    assert old.status_code == 400
    about = lrs.http.get("/xapi/about")
    assert about.status_code == 200 and "1.0.3" in about.json()["version"]
    assert about.headers["X-Experience-API-Version"] == "1.0.3"
    two = lrs.http.get(
        "/xapi/statements", headers={**lrs.headers(), "X-Experience-API-Version": "2.0.0"}
    )
    assert two.headers["X-Experience-API-Version"] == "2.0.0"


def test_unknown_resource_and_body_limit(lrs: Lrs) -> None:
    assert lrs.http.get("/xapi/nothing", headers=lrs.headers()).status_code == 404
    big = lrs.http.post(
        "/xapi/statements",
        content=b"[" + b" " * (51 * 2**20) + b"]",
        headers={**lrs.headers(), "Content-Type": "application/json"},
    )
    assert big.status_code == 413 and "larger than 50 MB" in big.json()["message"]


def test_the_xapi_endpoint_is_not_in_the_dashboard_openapi(lrs: Lrs) -> None:
    spec = lrs.http.get("/openapi.json").json()
    assert not any(path.startswith("/xapi") for path in spec["paths"])
