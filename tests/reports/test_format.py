"""Verdict wording, rounding and money formatting."""

from __future__ import annotations

import pytest

from impactlens.reports.format import (
    decimals_for,
    fmt_money,
    fmt_number,
    fmt_pct,
    next_step_sentence,
    verdict_sentence,
)

from .conftest import load_result

# Snapshot of the verdicts, in the tone of docs/report.md.
VERDICTS = {
    "strong": (
        "Complaints per 100 fell by 0.6 in trained teams (between 0.4 and 0.8), about 15% — "
        "the target was 15%. Evidence: strong (randomised pilot, ANCOVA on the pre-period KPI, "
        "30 trained vs 30 comparison teams)."
    ),
    "vanity": (
        "Learners loved it (4.6/5) but deals closed did not move (+0.3, between -1.1 and +1.7). "
        "Evidence: moderate (matched difference-in-differences, 85 trained vs 410 comparison "
        "people)."
    ),
    "thin": (
        "Not enough data yet: 14 trained people and 3 in the comparison group. "
        "Extend the pilot to 40 people."
    ),
}


@pytest.mark.parametrize("name", sorted(VERDICTS))
def test_verdict_snapshot(name: str) -> None:
    assert verdict_sentence(load_result(name)) == VERDICTS[name]


def test_verdict_says_how_small_an_effect_could_be_seen() -> None:
    thin = load_result("thin")
    kpi = thin.kpis[0].model_copy(update={"diagnostics": {"mde_relative": 0.25}, "n_comparison": 0})
    result = thin.model_copy(update={"kpis": [kpi]})
    assert verdict_sentence(result) == (
        "Not enough data yet: 14 trained people; an effect smaller than 25% could not be seen. "
        "Extend the pilot or measure for longer."
    )


def test_harmful_effect_is_called_out() -> None:
    strong = load_result("strong")
    kpi = strong.kpis[0].model_copy(
        update={"effect": 0.61, "ci_low": 0.38, "ci_high": 0.84, "relative_effect": 0.152}
    )
    result = strong.model_copy(update={"kpis": [kpi]})
    assert "rose by 0.6" in verdict_sentence(result)
    assert "opposite of what the program aimed for" in verdict_sentence(result)
    assert next_step_sentence(result).startswith("Stop or redesign")


def test_no_kpi_at_all() -> None:
    result = load_result("thin").model_copy(update={"kpis": []})
    expected = "Not enough data yet: the plan names no business KPI"
    assert verdict_sentence(result).startswith(expected)


def test_next_steps_are_stated() -> None:
    assert next_step_sentence(load_result("strong")).startswith("Scale:")
    assert next_step_sentence(load_result("vanity")).startswith("Fix or stop:")
    assert next_step_sentence(load_result("thin")).startswith("Measure longer:")
    given = load_result("thin").model_copy(update={"next_step": "Ask Finance."})
    assert next_step_sentence(given) == "Ask Finance."


@pytest.mark.parametrize(
    ("low", "high", "expected"),
    [(-0.84, -0.38, 1), (-1.1, 1.7, 1), (-3.0, 3.0, 0), (0.01, 0.05, 2), (100.0, 900.0, 0)],
)
def test_decimals_follow_the_interval(low: float, high: float, expected: int) -> None:
    assert decimals_for(low, high) == expected


def test_number_money_and_percent_formats() -> None:
    assert fmt_number(-0.04, 1) == "0.0"  # no "-0.0"
    assert fmt_number(-0.04, 1, signed=True) == "+0.0"
    assert fmt_number(1234567.891, 2) == "1,234,567.89"
    assert fmt_number(float("nan")) == "n/a"
    assert fmt_pct(0.0049, 1) == "0.5%"
    assert fmt_pct(None) == "n/a"
    assert fmt_money(186660, "EUR") == "€186,660"
    assert fmt_money(-61000, "USD") == "-$61,000"
    assert fmt_money(12.5, "sek") == "12.50 SEK"
    assert fmt_money(None) == "n/a"


def test_next_step_says_stop_when_even_the_best_case_loses_money() -> None:
    import json
    from pathlib import Path

    from impactlens.domain.result import AnalysisResult
    from impactlens.reports.format import next_step_sentence

    fixture = Path(__file__).resolve().parents[1] / "fixtures" / "results" / "strong.json"
    doc = json.loads(fixture.read_text())
    doc["next_step"] = ""
    doc["roi"].update({"roi_pct": -56.0, "roi_pct_low": -84.0, "roi_pct_high": -28.0})
    text = next_step_sentence(AnalysisResult.model_validate(doc))
    assert text.startswith("Stop or redesign") and "-28%" in text
