"""Chart specs: valid Vega-Lite (vl-convert renders them), findings in titles, safe SVG."""

from __future__ import annotations

import re

import pytest

from impactlens.domain.result import AnalysisResult
from impactlens.reports import charts, tier_charts

from .conftest import load_result


def all_specs(result: AnalysisResult) -> list[dict]:
    specs = [charts.roi_range_chart(result.roi)]
    for kpi in result.kpis:
        specs += [
            charts.kpi_trend_chart(kpi, kpi.diagnostics.get("launch")),
            charts.event_study_chart(kpi),
            charts.balance_chart(kpi),
        ]
    m = result.metrics
    specs += [
        tier_charts.reach_chart(m.get("operational") or {}),
        tier_charts.skill_chart(m.get("learner") or {}),
    ]
    for row in (m.get("business") or {}).get("kpis") or []:
        specs.append(tier_charts.kpi_change_chart(row, result.kpis[0]))
    return specs


def test_every_spec_renders_to_svg(any_result: AnalysisResult) -> None:
    for spec in all_specs(any_result):
        assert spec["config"]["font"].startswith("DejaVu Sans")
        svg = charts.to_svg(spec)
        assert svg.startswith('<svg role="img" aria-label="')
        assert "<title>" in svg
        assert not re.search(r'(?:href|src)="https?:', svg)


def test_trend_chart_marks_launch_and_groups() -> None:
    kpi = load_result("strong").kpis[0]
    spec = charts.kpi_trend_chart(kpi, "2025-06-30")
    assert spec["title"]["text"] == (
        "Complaints per 100 fell after launch for trained teams, relative to the comparison group"
    )
    line, points, rule, _ = spec["layer"]
    assert line["encoding"]["color"]["scale"]["range"] == ["#0072B2", "#D55E00"]
    assert line["encoding"]["strokeDash"]["scale"]["range"] == [[1, 0], [6, 4]]
    assert points["encoding"]["shape"]["scale"]["range"] == ["circle", "square"]
    assert rule["mark"]["type"] == "rule" and rule["data"]["values"][0]["period"] == "2025-06-30"
    assert "lower is better" in spec["layer"][0]["encoding"]["y"]["title"]
    # 12 months x 2 groups, data inline
    assert len(line["data"]["values"]) == 24


def test_event_study_and_balance_titles_state_the_finding() -> None:
    strong, vanity = load_result("strong").kpis[0], load_result("vanity").kpis[0]
    assert charts.event_study_chart(strong)["title"]["text"] == (
        "Before launch the groups moved together; after it, complaints per 100 fell"
    )
    assert charts.event_study_chart(vanity)["title"]["text"].endswith("no clear change")
    assert charts.balance_chart(strong)["title"]["text"] == (
        "After weighting, every covariate is balanced"
    )
    balance = charts.balance_chart(vanity)["title"]["text"]
    assert balance == "1 covariate(s) still differ after weighting"


def test_roi_chart_says_whether_a_loss_is_possible() -> None:
    assert charts.roi_range_chart(load_result("strong").roi)["title"]["text"] == (
        "ROI between 21% and 160%: positive even at the low end"
    )
    assert charts.roi_range_chart(load_result("vanity").roi)["title"]["text"] == (
        "ROI between -192% and 42%: a loss is possible"
    )


def test_missing_data_gives_an_explaining_chart() -> None:
    thin = load_result("thin")
    spec = charts.kpi_trend_chart(thin.kpis[0], None)
    assert spec["title"]["text"] == "No First call resolution series to show yet"
    assert charts.roi_range_chart(thin.roi)["title"]["text"].startswith("ROI not computed")


def test_svg_title_is_escaped() -> None:
    spec = charts.empty_chart('<script>alert("x")</script>')
    svg = charts.to_svg(spec)
    assert "<script>" not in svg
    assert "&lt;script&gt;" in svg


@pytest.mark.parametrize("rows", [[], [{"kpi": "x", "pre_treated": None}]])
def test_kpi_change_chart_without_numbers(rows: list[dict]) -> None:
    for row in rows or [{}]:
        assert tier_charts.kpi_change_chart(row)["mark"]["type"] == "text"
