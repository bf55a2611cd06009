"""Viewers see aggregates only: no person-level rows, no small groups, by any URL."""

from __future__ import annotations

import json
import re
from typing import Any

from impactlens.services.portfolio import viewer_document

from .conftest import FEW_MIN_GROUP, FEW_PROGRAM, MIN_GROUP, PROGRAM, Served

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


def _values(spec: Any, key: str) -> set[Any]:
    """Every value of ``key`` anywhere in a (Vega-Lite) document."""
    if isinstance(spec, dict):
        found = {spec[key]} if isinstance(spec.get(key), str) else set()
        return found.union(*(_values(v, key) for v in spec.values()))
    if isinstance(spec, list):
        return set().union(*(_values(v, key) for v in spec))
    return set()


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


def test_viewer_document_hides_every_figure_of_few_trained_people() -> None:
    path = [{"period": "2024-01-07", "actual": 4.1, "synthetic": 3.9}]
    diagnostics = {"synthetic_path": path, "top_donors": [{"unit_id": "d1", "weight": 0.5}],
                   "pre_rmspe": 0.3, "honest_did": {"low": 0.1, "high": 0.3}}  # fmt: skip
    kpi = {"kpi": "csat", "unit": "person", "n_treated": 2, "n_comparison": 40, "effect": 0.2,
           "ci_low": 0.1, "ci_high": 0.3, "p_value": 0.01, "relative_effect": 0.05,
           "pre_mean_treated": 4.0, "evidence": "moderate", "primary": True,
           "evidence_reasons": ["pre-trend p = 0.41"], "diagnostics": diagnostics}  # fmt: skip
    team = {**kpi, "kpi": "incidents", "unit": "team", "primary": False}
    many = {**kpi, "kpi": "fcr", "n_treated": 5, "primary": False}
    business = [{"kpi": "csat", "pre_treated": 4.0, "post_treated": 4.2, "pre_comparison": 3.9}]
    roi = {"kpi": "csat", "benefits": 900.0, "costs": 400.0, "roi_pct": 125.0, "bcr": 2.25,
           "ledger": [{"step": "effect", "value": 0.2}], "cost_items": [{"item": "x"}]}  # fmt: skip
    doc = {"kpis": [kpi, team, many], "metrics": {"business": {"kpis": business}}, "roi": roi}
    out = viewer_document(doc, 5)
    few, kept_team, kept_many = out["kpis"]
    reason = "2 trained people, fewer than the privacy threshold of 5"
    assert few["diagnostics"] == {"hidden": reason}
    assert few["evidence_reasons"] == [f"details hidden: {reason}"]
    for key in ("effect", "ci_low", "ci_high", "p_value", "relative_effect", "pre_mean_treated"):
        assert few[key] is None, key
    assert few["evidence"] == "moderate" and few["n_treated"] == 2 and few["n_comparison"] == 40
    assert out["metrics"]["business"]["kpis"] == [{**business[0], "pre_treated": None,
                                                   "post_treated": None}]  # fmt: skip
    assert out["roi"]["benefits"] is None and out["roi"]["roi_pct"] is None
    assert out["roi"]["ledger"] == [] and out["roi"]["costs"] == 400.0
    # team KPIs and groups at the threshold keep their figures
    assert kept_team == team and kept_many == many
    assert kpi["diagnostics"] is diagnostics and roi["benefits"] == 900.0  # input intact


def test_viewer_document_blanks_trend_points_of_small_groups() -> None:
    trend = [
        {"period": "2024-01-07", "group": "treated", "mean": 4.1, "n": 4},
        {"period": "2024-01-07", "group": "comparison", "mean": 3.9, "n": 40},
        {"period": "2024-01-14", "group": "treated", "mean": 4.3, "n": 5},
    ]
    events = [{"event_time": 0, "effect": 0.2, "ci_low": 0.1, "ci_high": 0.3}]
    balance = [{"covariate": "tenure", "mean_treated": 3.5, "mean_comparison": 2.0,
                "smd_before": 0.4, "smd_after": 0.1}]  # fmt: skip
    kpi = {"kpi": "csat", "unit": "person", "n_treated": 9, "effect": 0.2, "trend": trend,
           "by_event_time": events, "balance": balance, "diagnostics": {}}  # fmt: skip
    out = viewer_document({"kpis": [kpi, {**kpi, "kpi": "fcr", "n_treated": 4}]}, 5)
    enough, few = out["kpis"]
    # a point of 4 people loses its mean, one of 5 keeps it
    assert [p["mean"] for p in enough["trend"]] == [None, 3.9, 4.3]
    assert enough["by_event_time"] == events and enough["balance"] == balance
    # fewer trained people than the threshold: no trained series, event study or balance
    assert [p["mean"] for p in few["trend"]] == [None, 3.9, None]
    assert few["by_event_time"] == [] and few["balance"] == [] and few["effect"] is None
    assert trend[0]["mean"] == 4.1 and balance[0]["mean_treated"] == 3.5  # input intact


def test_a_viewer_never_sees_the_trajectory_of_few_trained_people(served: Served) -> None:
    url = f"/programs/{FEW_PROGRAM}"
    viewer = served.clients["viewer"].get(f"{url}.json").json()
    analyst = served.clients["analyst"].get(f"{url}.json").json()
    for seen, full in zip(viewer["kpis"], analyst["kpis"], strict=True):
        assert 0 < full["n_treated"] < FEW_MIN_GROUP <= full["n_comparison"]
        assert full["effect"] is not None and seen["effect"] is None and seen["ci_low"] is None
        assert any(p["mean"] is not None for p in full["trend"] if p["group"] == "treated")
        assert all(p["mean"] is None for p in seen["trend"] if p["group"] == "treated")
        shown = [p for p in seen["trend"] if p["group"] == "comparison"]
        assert shown == [p for p in full["trend"] if p["group"] == "comparison"]
        assert full["by_event_time"] and seen["by_event_time"] == []
        assert all(row["mean_treated"] is None for row in seen["balance"])
    assert viewer["roi"]["roi_pct"] is None and analyst["roi"]["roi_pct"] is not None
    assert "hidden from viewers" in viewer["verdict"]
    assert viewer["next_step"].startswith("Ask an analyst") and not viewer["metrics"]["vanity_flag"]
    assert str(round(analyst["kpis"][0]["effect"], 3)) not in json.dumps(viewer)
    page = served.clients["viewer"].get(url).text
    assert "points of groups under the privacy threshold are hidden" in page
    assert "the results are hidden from viewers (52 trained people" in page
    specs = re.search(r'<script type="application/json" id="specs">(.*?)</script>', page, re.S)
    assert specs is not None
    trend = json.loads(specs.group(1))["trend-1"]
    assert _values(trend, "group") == {"Comparison"}
    # the portfolio card says the same, and shows no effect or ROI
    cards = served.clients["viewer"].get("/index.json").json()["programs"]
    card = next(c for c in cards if c["program"] == FEW_PROGRAM)
    assert card["effect"] is None and card["roi_pct_low"] is None
    assert "hidden from viewers" in card["verdict"]


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
