"""Pages and their JSON twins over the demo workspace; garbage never gives a 500."""

from __future__ import annotations

import json
import re

import pytest

from .conftest import PROGRAM, Served


def test_portfolio_lists_every_program_with_its_numbers(served: Served) -> None:
    rows = served.clients["viewer"].get("/index.json").json()["programs"]
    assert [r["program"] for r in rows] == [
        "customer-care-excellence",
        "packaging-pilot",
        "presentation-masterclass",
    ]
    for row in rows:
        assert row["status"] in {"planned", "running", "measured"}
        assert row["evidence"] in {"strong", "moderate", "weak", "none"}
        if row["effect"] is not None:
            assert row["ci_low"] <= row["effect"] <= row["ci_high"]
    page = served.clients["viewer"].get("/").text
    assert "The range the true effect very probably lies in" in page
    for row in rows:
        assert f'href="/programs/{row["program"]}"' in page


def test_program_page_embeds_the_report_chart_specs(served: Served) -> None:
    analyst = served.clients["analyst"]
    doc = analyst.get(f"/programs/{PROGRAM}.json").json()
    page = analyst.get(f"/programs/{PROGRAM}").text
    assert doc["verdict"] and doc["verdict"].split(" (")[0] in page.replace("&#39;", "'")
    found = re.search(r'<script type="application/json" id="specs">(.*?)</script>', page, re.S)
    assert found
    specs = json.loads(found.group(1))
    assert {"tier-1", "tier-2", "tier-3", "roi", "trend-1", "event-1"} <= set(specs)
    assert all(
        s["$schema"].startswith("https://vega.github.io/schema/vega-lite/") for s in specs.values()
    )
    for chart_id in specs:
        assert f'data-spec="{chart_id}"' in page
    assert '<script src="/static/vega.js">' in page


def test_chart_library_is_served_locally(served: Served) -> None:
    js = served.anonymous().get("/static/vega.js")
    assert js.status_code == 200 and "window.vegaEmbed" in js.text
    assert served.anonymous().get("/static/app.css").headers["content-type"].startswith("text/css")
    assert served.anonymous().get("/static/../impactlens.toml").status_code == 404


def test_plan_page_shows_findings_with_fixes(served: Served) -> None:
    doc = served.clients["analyst"].get(f"/programs/{PROGRAM}/plan.json").json()
    assert doc["plan"]["program"] == PROGRAM
    assert all(f["fix"] for f in doc["findings"])
    page = served.clients["analyst"].get(f"/programs/{PROGRAM}/plan").text
    assert "How to fix:" in page or "No findings" in page


def test_data_page_shows_imports_coverage_and_identity(served: Served) -> None:
    doc = served.clients["analyst"].get("/data.json").json()
    assert {i["kind"] for i in doc["imports"]} >= {"people", "kpis", "costs"}
    assert set(doc["freshness"]) >= {"people", "kpis"}
    assert doc["kpi_coverage"] and doc["identity_match"]
    assert "Import a file" in served.clients["analyst"].get("/data").text


@pytest.mark.parametrize(
    "url",
    [
        "/programs/..%2F..%2Fetc%2Fpasswd",
        "/programs/%00",
        "/programs/nope.json",
        "/programs/nope/plan",
        f"/programs/{PROGRAM}?x=%ff&y=<script>",
        "/data?imported=" + "x" * 5000,
        "/static/nope.js",
        "/nothing/here",
    ],
)
def test_garbage_urls_get_a_4xx_not_a_500(served: Served, url: str) -> None:
    got = served.clients["admin"].get(url)
    assert 200 <= got.status_code < 500, (url, got.status_code)
    assert "<script>" not in got.text.replace('<script src="/static/', "").replace(
        '<script type="application/json"', ""
    )


def test_unknown_program_is_a_404_that_names_the_known_ones(served: Served) -> None:
    got = served.clients["viewer"].get("/programs/nope.json")
    assert got.status_code == 404
    assert got.json()["detail"] == (
        "no plan for program 'nope' in the workspace/plans (programs: customer-care-excellence, "
        "packaging-pilot, presentation-masterclass)"
    )


def test_garbage_bodies_get_readable_4xx(served: Served) -> None:
    admin = served.anonymous()
    headers = served.bearer("admin")
    bad = admin.post("/admin/users", headers=headers, data={"name": "x y", "role": "viewer"})
    assert bad.status_code == 400
    assert bad.json()["detail"].startswith("user name 'x y' is not allowed")
    role = admin.post("/admin/users", headers=headers, data={"name": "zed", "role": "boss"})
    assert role.json()["detail"] == "unknown role 'boss'; roles are: viewer, analyst, admin"
    missing = admin.post(
        "/admin/users",
        headers=headers,
        content=b"\xff\xfe",
    )
    assert missing.status_code == 422
    assert missing.json()["detail"].startswith("name:")
    assert admin.post("/api/imports/costs", headers=headers, data={"file": "x"}).status_code == 422
    login = admin.post("/login", data={"name": "a" * 500, "password": "b"})
    assert login.status_code == 422
