"""Evidence grading: every rung and every reason."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from impactlens.estimators.base import Estimate
from impactlens.estimators.evidence import grade


def _est(**changes: Any) -> Estimate:
    """A comparison-group estimate that passes every check."""
    base = Estimate(
        kpi="k",
        method="weighted difference-in-differences",
        effect=-0.5,
        ci_low=-0.8,
        ci_high=-0.2,
        p_value=0.001,
        se=0.15,
        n_treated=120,
        n_comparison=340,
        n_pre_periods=6,
        n_post_periods=8,
        pretrend_p=0.41,
        max_smd_before=0.6,
        max_smd_after=0.04,
        trimmed_share=0.02,
    )
    return replace(base, **changes)


def test_strong_lists_every_passed_check() -> None:
    level, reasons = grade(_est())
    assert level == "strong"
    assert reasons == [
        "120 trained and 340 comparison units (at least 5 in each group)",
        "6 pre-periods and 8 post-periods",
        "6 pre-periods before the start (passed)",
        "pre-trend test p = 0.41 (passed)",
        "largest standardised difference after weighting 0.04 (below 0.1)",
        "2.0% of units trimmed for overlap (at most 5%)",
    ]


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"n_pre_periods": 1}, "1 pre-periods before the start (failed: at least 2 needed)"),
        ({"pretrend_p": 0.01}, "pre-trend test p = 0.01 (failed: 0.05 or below)"),
        ({"pretrend_p": None}, "pre-trend test could not run (too few pre-periods or units)"),
        (
            {"max_smd_after": 0.15},
            "largest standardised difference after weighting 0.15 (not below 0.1)",
        ),
        ({"max_smd_after": None}, "balance could not be checked"),
        ({"trimmed_share": 0.08}, "8.0% of units trimmed for overlap (more than 5%)"),
    ],
)
def test_moderate_when_one_check_fails(changes: dict[str, Any], reason: str) -> None:
    level, reasons = grade(_est(**changes))
    assert level == "moderate"
    assert reason in reasons and len(reasons) == 6


def test_randomised_is_strong() -> None:
    est = _est(
        randomised=True,
        pretrend_p=0.01,
        max_smd_after=0.3,
        diagnostics={"n_clusters": 60, "assignment_level": "team"},
    )
    level, reasons = grade(est)
    assert level == "strong"
    assert "randomised by team (60 teams)" in reasons


def test_weak_without_comparison() -> None:
    level, reasons = grade(_est(has_comparison=False, n_comparison=0, pretrend_p=None))
    assert level == "weak"
    assert reasons[-1] == "no comparison group: trend projection of the trained units only"


@pytest.mark.parametrize(
    "changes",
    [
        {"n_treated": 4},
        {"n_comparison": 3},
        {"n_pre_periods": 0},
        {"n_post_periods": 0},
        {"has_comparison": False, "n_comparison": 0, "n_treated": 4},
        {"effect": None, "notes": ("no overlap",)},
        {"randomised": True, "n_comparison": 2},
    ],
)
def test_none_for_too_little_data(changes: dict[str, Any]) -> None:
    assert grade(_est(**changes))[0] == "none"


def test_none_explains_missing_estimate() -> None:
    _, reasons = grade(_est(effect=None, notes=("no overlap",)))
    assert reasons[-1] == "no estimate could be computed: no overlap"
