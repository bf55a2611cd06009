"""Every route x every role: the permission matrix read from the OpenAPI spec itself."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.routing import APIRoute

from .conftest import PROGRAM, ROLES, Served, csrf_in

RANK = {"public": -1, "viewer": 0, "analyst": 1, "admin": 2}
# a value for each path parameter, so every route is reachable
PARAMS = {"program": PROGRAM, "kind": "costs", "name": "app.css"}


def _flat(routes: list[Any]) -> list[Any]:
    """Every route, looking inside included routers (FastAPI wraps them)."""
    out: list[Any] = []
    for r in routes:
        inner = getattr(r, "original_router", None)
        out += _flat(inner.routes) if inner is not None else [r]
    return out


def _operations(served: Served) -> list[tuple[str, str, str]]:
    spec = served.anonymous().get("/openapi.json").json()
    out = []
    for path, methods in spec["paths"].items():
        for method, op in methods.items():
            out.append((method.upper(), path, op["x-role"]))
    return sorted(out)


def _url(path: str) -> str:
    for key, value in PARAMS.items():
        path = path.replace("{" + key + "}", value)
    return path


def test_every_served_route_is_in_the_openapi_spec(served: Served) -> None:
    spec = served.anonymous().get("/openapi.json").json()
    routes = _flat(served.app.routes)
    served_routes = {(m, r.path) for r in routes if isinstance(r, APIRoute) for m in r.methods}
    documented = {(m.upper(), p) for p, ops in spec["paths"].items() for m in ops}
    assert served_routes == documented
    # and nothing else is served (no docs UI pulling scripts from a CDN), except the xAPI
    # LRS, a mount with its own HTTP Basic auth per the xAPI spec (tests/web/xapi/)
    others = {getattr(r, "path", "") for r in routes if not isinstance(r, APIRoute)}
    assert others == {"/openapi.json", "/xapi"}
    assert all(op.get("x-role") in RANK for ops in spec["paths"].values() for op in ops.values())


def test_role_by_endpoint_matrix(served: Served) -> None:
    """GETs answer 200 to a role with rights and 403 without; anonymous gets 401 on JSON."""
    operations = _operations(served)
    assert len(operations) >= 15
    seen = 0
    for method, path, needed in operations:
        url = _url(path)
        if method == "GET":
            anon = served.anonymous().get(url, follow_redirects=False)
            if needed == "public":
                assert anon.status_code == 200, url
            elif url.endswith(".json"):
                assert anon.status_code == 401, url
            else:
                assert anon.status_code == 303, url
                assert anon.headers["location"].startswith("http://testserver/login?next=")
        for role in ROLES:
            allowed = RANK[role] >= RANK[needed]
            if method == "GET":
                got = served.clients[role].get(url, follow_redirects=False).status_code
            else:
                # a POST with no body: rights are checked before the body (422 or 403)
                got = served.anonymous().post(url, headers=served.bearer(role)).status_code
            expected = {200, 422} if allowed else {403}
            assert got in expected, (method, url, role, got)
            seen += 1
    assert seen == len(operations) * len(ROLES)


@pytest.mark.parametrize("url", ["/data.json", "/admin/users.json", f"/programs/{PROGRAM}.json"])
def test_api_tokens_and_bad_tokens(served: Served, url: str) -> None:
    client = served.anonymous()
    assert client.get(url, headers={"Authorization": "Bearer nope"}).status_code == 401
    assert client.get(url, headers={"Authorization": "Basic abc"}).status_code == 401
    assert client.get(url, headers=served.bearer("admin")).status_code == 200


def test_forms_without_a_csrf_token_are_refused(served: Served) -> None:
    analyst = served.clients["analyst"]
    refused = analyst.post(
        "/data/imports",
        data={"kind": "costs"},
        files={"file": ("costs.csv", b"program,item,amount\nx,y,1\n")},
    )
    assert refused.status_code == 403
    assert "reload the page and retry" in refused.text
    wrong = analyst.post("/logout", data={"csrf_token": "forged"})
    assert wrong.status_code == 403
    # the login form checks its own double-submit token
    fresh = served.anonymous()
    bad_login = fresh.post(
        "/login", data={"name": "viewer1", "password": "x", "csrf_token": "forged"}
    )
    assert bad_login.status_code == 403


def test_login_logout_and_cookie_flags(served: Served) -> None:
    client = served.anonymous()
    token = csrf_in(client.get("/login").text)
    user = served.users["viewer"]
    wrong = client.post(
        "/login", data={"name": user.name, "password": "wrong", "csrf_token": token}
    )
    assert wrong.status_code == 401
    assert "do not match" in wrong.text
    token = csrf_in(wrong.text)
    ok = client.post(
        "/login",
        data={"name": user.name, "password": user.password, "csrf_token": token, "next": "//evil"},
        follow_redirects=False,
    )
    assert ok.headers["location"] == "/"  # never off-site
    cookie = ok.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie
    assert client.get("/index.json").status_code == 200
    sid = client.cookies["il_session"]
    out = client.post("/logout", data={"csrf_token": csrf_in(client.get("/").text)})
    assert out.status_code == 200  # followed to the login page
    assert client.get("/index.json").status_code == 401
    # the old session id no longer works, even if someone kept the cookie
    replay = served.anonymous()
    replay.cookies.set("il_session", sid)
    assert replay.get("/index.json").status_code == 401


def test_admins_revoke_tokens_and_deactivate_users_at_once(served: Served) -> None:
    from .conftest import login

    admin = served.clients["admin"]
    board = served.app.state.dashboard
    with board.ws.store():
        ann = board.accounts.add("ann-revoke", "analyst")
        bob = board.accounts.add("bob-gone", "viewer")
    bob_browser = served.anonymous()
    login(bob_browser, bob.name, bob.password)
    assert bob_browser.get("/index.json").status_code == 200
    page = admin.get("/admin/users.json").json()
    ids = {t["name"]: t["id"] for t in page["tokens"]}
    assert {"ann-revoke", "bob-gone"} <= set(ids) and len(ids["ann-revoke"]) == 12
    ann_api = {"Authorization": f"Bearer {ann.token}"}
    assert served.anonymous().get("/data.json", headers=ann_api).status_code == 200

    # the form (CSRF token from the page) revokes ann's token; the page says so
    html = admin.get("/admin/users").text
    assert f'value="{ids["ann-revoke"]}"' in html and 'aria-label="Deactivate bob-gone"' in html
    done = admin.post(
        "/admin/tokens/revoke", data={"token_id": ids["ann-revoke"], "csrf_token": csrf_in(html)}
    )
    assert done.status_code == 200
    assert f"Revoked API token {ids['ann-revoke']} of ann-revoke." in done.text
    refused = served.anonymous().get("/data.json", headers=ann_api)
    assert refused.status_code == 401
    assert refused.json()["detail"] == "this API token is not valid (revoked or mistyped)"

    # the JSON twin: a script with an admin token deactivates bob; his session and token stop
    gone = served.anonymous().post(
        "/admin/users/deactivate", data={"name": "bob-gone"}, headers=served.bearer("admin")
    )
    assert gone.json() == {"name": "bob-gone", "active": False, "tokens_revoked": 1}
    assert bob_browser.get("/index.json").status_code == 401
    bob_api = {"Authorization": f"Bearer {bob.token}"}
    assert served.anonymous().get("/index.json", headers=bob_api).status_code == 401
    names = [u["name"] for u in admin.get("/admin/users.json").json()["users"]]
    assert "bob-gone" not in names and "ann-revoke" in names
    audit = admin.get("/admin/users.json").json()["audit"]
    assert {"/admin/users/deactivate", "/admin/tokens/revoke"} <= {e["route"] for e in audit}

    # refusals in words: unknown token, oneself, a user already gone; never a 500
    again = served.anonymous().post(
        "/admin/tokens/revoke", data={"token_id": ids["ann-revoke"]}, headers=served.bearer("admin")
    )
    assert again.status_code == 400
    assert again.json()["detail"] == f"no live API token with id {ids['ann-revoke']!r}"
    me = served.anonymous().post(
        "/admin/users/deactivate", data={"name": "admin1"}, headers=served.bearer("admin")
    )
    assert me.json()["detail"] == "you cannot deactivate yourself; ask another admin"
    twice = served.anonymous().post(
        "/admin/users/deactivate", data={"name": "bob-gone"}, headers=served.bearer("admin")
    )
    assert (twice.status_code, twice.json()["detail"]) == (400, "no active user 'bob-gone'")
    analyst = served.anonymous().post(
        "/admin/users/deactivate", data={"name": "viewer1"}, headers=served.bearer("analyst")
    )
    assert analyst.status_code == 403
