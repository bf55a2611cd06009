"""Viewers see aggregates only: no person-level rows, no small groups, by any URL."""

from __future__ import annotations

import re
from typing import Any

from impactlens.services.portfolio import viewer_document

from .conftest import MIN_GROUP, PROGRAM, Served

PSEUDONYM = re.compile(r"\b[pu]_[0-9a-f]{24}\b")


def _group_rows(value: Any, key: str = "") -> list[dict[str, Any]]:
    """Every row of every by_persona / by_segment / skills list in a document."""
    out: list[dict[str, Any]] = []
    if isinstance(value, dict):
        for k, v in value.items():
            out += _group_rows(v, k)
    elif isinstance(value, list):
        for v in value:
            if key in {"by_persona", "by_segment", "skills", "segments"} and isinstance(v, dict):
                out.append(v)
            out += _group_rows(v, key)
    return out


def _viewer_urls(served: Served) -> list[str]:
    spec = served.anonymous().get("/openapi.json").json()
    urls = []
    for path, ops in spec["paths"].items():
        if "get" in ops and ops["get"]["x-role"] in ("viewer", "public"):
            for program in ("customer-care-excellence", "packaging-pilot"):
                urls.append(path.replace("{program}", program).replace("{name}", "app.css"))
    return sorted(set(urls))


def test_viewer_reaches_no_pseudonymised_id_by_any_url(served: Served) -> None:
    viewer = served.clients["viewer"]
    for url in _viewer_urls(served):
        page = viewer.get(url)
        assert page.status_code == 200, url
        assert not PSEUDONYM.search(page.text), url
    # the analyst does see the data-health samples of unresolved people
    analyst = served.clients["analyst"].get(f"/programs/{PROGRAM}.json").json()
    samples = analyst["data_health"]["unknown_people"]["activity"]["samples"]
    assert samples and all(PSEUDONYM.fullmatch(s) for s in samples)


def test_small_groups_are_hidden_from_viewers(served: Served) -> None:
    doc = served.clients["viewer"].get(f"/programs/{PROGRAM}.json").json()
    rows = _group_rows(doc)
    assert rows and all("suppressed" in r for r in rows)
    hidden = [r for r in rows if r["suppressed"]]
    assert any(r.get("persona") == "new agent" for r in hidden)  # 10 people < 12
    for row in hidden:
        figures = {k: v for k, v in row.items() if not isinstance(v, str) and k != "suppressed"}
        assert all(v is None for v in figures.values()), row
    for row in rows:
        if not row["suppressed"] and isinstance(row.get("n"), int):
            assert row["n"] >= MIN_GROUP
    # differencing: where one persona is hidden, a second one is hidden with it
    personas = doc["metrics"]["operational"]["by_persona"]
    assert sum(r["suppressed"] for r in personas) != 1
    page = served.clients["viewer"].get(f"/programs/{PROGRAM}").text
    assert f"fewer than {MIN_GROUP}, hidden" in page


def test_viewer_document_drops_analyst_blocks_and_unchecked_small_groups() -> None:
    doc = {
        "success_cases": {"visibility": "analyst", "kpis": [{"best": [{"unit_id": "p_1"}]}]},
        "extra": {"visibility": "analyst", "rows": [1]},
        "segments": [{"group": "a", "n": 3, "effect": 1.0}, {"group": "b", "n": 40, "effect": 2.0}],
    }
    out = viewer_document(doc, 5)
    assert set(out) == {"segments"}
    # rows the analysis did not check are checked here, with a complement for differencing
    assert [r["effect"] for r in out["segments"]] == [None, None]
    assert [r["suppressed_reason"] for r in out["segments"]] == ["small group", "complementary"]


def test_viewer_document_hides_synthetic_paths_of_few_trained_people() -> None:
    path = [{"period": "2024-01-07", "actual": 4.1, "synthetic": 3.9}]
    diagnostics = {
        "synthetic_path": path,
        "synthetic_launch": "2024-01-07",
        "top_donors": [{"unit_id": "donor 1", "weight": 0.5}],
        "cohort_effects": [{"start": "2024-01-07", "n_treated": 1, "effect": 0.2}],
        "pre_rmspe": 0.3,
    }
    kpi = {"kpi": "csat", "unit": "person", "n_treated": 2, "effect": 0.2,
           "pre_mean_treated": 4.0, "diagnostics": diagnostics}  # fmt: skip
    team = {**kpi, "kpi": "incidents", "unit": "team"}
    many = {**kpi, "kpi": "fcr", "n_treated": 5}
    out = viewer_document({"kpis": [kpi, team, many]}, 5)
    few, kept_team, kept_many = out["kpis"]
    assert few["diagnostics"] == {
        "pre_rmspe": 0.3,
        "hidden": "paths and donors hidden: 2 trained people, fewer than 5",
    }
    assert few["pre_mean_treated"] is None and few["effect"] == 0.2
    # team KPIs and groups at the threshold keep their paths
    assert kept_team == team and kept_many == many
    assert kpi["diagnostics"] is diagnostics and "synthetic_path" in diagnostics  # input intact


def test_viewer_document_keeps_the_aggregates(served: Served) -> None:
    viewer = served.clients["viewer"].get(f"/programs/{PROGRAM}.json").json()
    analyst = served.clients["analyst"].get(f"/programs/{PROGRAM}.json").json()
    assert viewer["kpis"] == analyst["kpis"]
    assert viewer["roi"] == analyst["roi"]
    assert "imports" not in viewer["data_health"]
    assert viewer["data_health"]["kpi_coverage"] == analyst["data_health"]["kpi_coverage"]


def test_every_view_and_export_is_audited(served: Served) -> None:
    served.clients["viewer"].get(f"/programs/{PROGRAM}")
    served.clients["viewer"].get(f"/programs/{PROGRAM}.json")
    log = served.anonymous().get("/admin/users.json", headers=served.bearer("admin")).json()
    mine = [e for e in log["audit"] if e["user"] == "viewer1" and e["program"] == PROGRAM]
    actions = {(e["route"], e["action"]) for e in mine}
    assert (f"/programs/{PROGRAM}", "view") in actions
    assert (f"/programs/{PROGRAM}.json", "export") in actions
    assert all(e["at"] and e["role"] == "viewer" for e in mine)
