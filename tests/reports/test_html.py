"""The HTML report: sections, verdict, inline SVG, escaping, no external resources."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest

from impactlens.domain.result import AnalysisResult
from impactlens.reports import render_report, write_report
from impactlens.reports.format import verdict_sentence

from .conftest import NAMES, load_result

HEADINGS = [
    "Verdict",
    "Three tiers of results",
    "Worth it?",
    "What next",
    "For analysts: how we know",
    "KPI over time",
    "Glossary",
    "Who was compared with whom",
    "Effects by persona and segment",
    "ROI ledger",
    "Data quality",
    "Method",
]


@pytest.fixture(scope="module")
def pages() -> dict[str, str]:
    return {name: render_report(load_result(name)) for name in NAMES}


@pytest.mark.parametrize("name", NAMES)
def test_sections_verdict_and_charts(pages: dict[str, str], name: str) -> None:
    page = pages[name]
    result = load_result(name)
    assert page.startswith('<!doctype html>\n<html lang="en">')
    assert html.escape(verdict_sentence(result), quote=False) in page
    h2 = [html.unescape(h) for h in re.findall(r"<h2[^>]*>(.*?)</h2>", page)]
    assert h2 == HEADINGS
    # thin has nothing to draw: each chart says why in words instead
    assert page.count("<svg ") >= (6 if name != "thin" else 1)
    assert page.count('role="img"') == page.count("<svg ")
    if name == "thin":
        assert '<p class="no-chart">No before/after assessments</p>' in page


@pytest.mark.parametrize("name", NAMES)
def test_no_external_resources(pages: dict[str, str], name: str) -> None:
    page = pages[name]
    refs = re.findall(r'\b(?:src|href|xlink:href|action)\s*=\s*["\']?([^"\'\s>]+)', page)
    assert all(r.startswith("#") for r in refs), refs
    assert "<script" not in page.lower()
    assert "<link" not in page.lower()
    assert "@import" not in page and "url(" not in page


def test_first_screen_order_and_numbers(pages: dict[str, str]) -> None:
    page = pages["strong"]
    order = [
        "Service Excellence learning cluster",
        "Cut repeat complaints about damaged parcels by 15% this year",
        "Head of Field Operations",
        "January to December 2025",
        'id="h-verdict"',
        'id="h-tiers"',
        'id="h-worth"',
        'id="h-next"',
        'id="detail"',
    ]
    positions = [page.index(text) for text in order]
    assert positions == sorted(positions)
    assert "ROI between 21% and 160%; break-even within 6 months." in page
    assert "€186,660 (between €118,490 and €254,830)" in page
    assert "296 of 640 eligible (46%)" in page
    assert "Scale: roll the program out" in page


def test_suppressed_groups_and_vanity_flag(pages: dict[str, str]) -> None:
    strong = pages["strong"]
    hidden = r'<td class="hidden-group" colspan="\d+">fewer than 5, hidden</td>'
    assert re.search(r'<th scope="row">region: Islands</th>\s*' + hidden, strong)
    assert re.search(r'<th scope="row">dispatcher</th>\s*<td class="hidden-group"', strong)
    assert "Vanity-metric warning:" in pages["vanity"]
    assert "Vanity-metric warning:" not in strong


def test_preset_verdict_and_next_step_win() -> None:
    result = load_result("strong").model_copy(
        update={"verdict": "It worked.", "next_step": "Scale it."}
    )
    page = render_report(result)
    assert '<p class="verdict">It worked.</p>' in page
    assert '<p class="next">Scale it.</p>' in page


def test_malicious_text_is_escaped() -> None:
    evil = '<script>alert("pwned")</script><img src=x onerror=alert(1)>'
    base = load_result("strong")
    kpi = base.kpis[0].model_copy(update={"kpi": evil, "evidence_reasons": [evil]})
    result = base.model_copy(
        update={
            "title": evil,
            "kpis": [kpi],
            "warnings": [evil],
            "plan": {**base.plan, "sponsor": evil, "objective": {"outcome": evil}},
            "segments": [{"segment": evil, "value": evil, "suppressed": False}],
        }
    )
    page = render_report(result)
    assert "<script" not in page.lower()
    assert "<img" not in page.lower()
    assert "&lt;script&gt;alert(" in page


def test_none_everywhere_does_not_crash() -> None:
    thin = load_result("thin")
    bare = AnalysisResult.model_validate(
        {
            **thin.to_dict(),
            "metrics": {
                "operational": None,
                "learner": {"skills": [None]},
                "business": {"kpis": [None]},
                "vanity_flag": None,
            },
            "plan": {"objective": None, "privacy": None},
            "data_health": {"x": None, "y": [], "z": {}},
            "segments": [{}],
        }
    )
    page = render_report(bare)
    assert "new-pilot" in page and "n/a" in page


def test_write_report_is_atomic(tmp_path: Path) -> None:
    out = tmp_path / "deep" / "report.html"
    assert write_report(load_result("thin"), out) == out
    assert out.read_text(encoding="utf-8").startswith("<!doctype html>")
    assert [p.name for p in out.parent.iterdir()] == ["report.html"]
    before = out.read_text(encoding="utf-8")
    with pytest.raises(AttributeError):
        write_report(None, out)  # type: ignore[arg-type]
    assert out.read_text(encoding="utf-8") == before
    assert [p.name for p in out.parent.iterdir()] == ["report.html"]


def test_launch_is_read_from_the_business_row() -> None:
    base = load_result("strong")
    kpi = base.kpis[0].model_copy(update={"diagnostics": {}})
    metrics = {**base.metrics, "business": {"kpis": [{"kpi": kpi.kpi, "launch": "2025-06-30"}]}}
    page = render_report(base.model_copy(update={"kpis": [kpi], "metrics": metrics}))
    assert "the vertical line marks the launch" in page
    bare = render_report(base.model_copy(update={"kpis": [kpi], "metrics": {}}))
    assert "the vertical line marks the launch" not in bare
