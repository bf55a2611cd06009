"""Trend-violation bounds by hand, E-values from VanderWeele & Ding (2017)."""

from __future__ import annotations

import doctest
import math
from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest

from impactlens.estimators import sensitivity
from impactlens.estimators.base import KpiPanel
from impactlens.estimators.matched_did import WeightedDiffInDiff
from impactlens.estimators.randomised import RandomisedAncova
from impactlens.estimators.sensitivity import (
    e_value,
    e_value_for_ratio,
    pooled_sd,
    trend_violation_bounds,
)

Simulate = Callable[..., KpiPanel]
Z = 1.959963984540054


def _table(effects: dict[int, float]) -> pd.DataFrame:
    return pd.DataFrame({"event_time": list(effects), "effect": list(effects.values())})


def test_doctests() -> None:
    assert doctest.testmod(sensitivity).failed == 0


def test_bounds_by_hand() -> None:
    table = _table({-3: 0.1, -2: -0.3, -1: 0.0, 0: 1.0, 1: 1.4})
    b = trend_violation_bounds(1.2, 0.2, table)
    # largest placebo effect: |-0.3| at e = -2; z se = 0.391993
    assert (b["max_pre_violation"], b["max_pre_violation_event_time"]) == (0.3, -2)
    assert [r["m_bar"] for r in b["bounds"]] == [0.5, 1.0, 1.5, 2.0]
    one = b["bounds"][1]
    assert one["ci_low"] == pytest.approx(1.2 - 0.3 - 0.391993, abs=1e-6)  # 0.508007
    assert one["ci_high"] == pytest.approx(1.2 + 0.3 + 0.391993, abs=1e-6)  # 1.891993
    assert b["bounds"][3]["ci_low"] == pytest.approx(1.2 - 0.6 - 0.391993, abs=1e-6)
    # the interval first reaches zero at M-bar = (1.2 - 0.391993) / 0.3
    assert b["breakdown_m_bar"] == pytest.approx(2.693357, abs=1e-6)
    at = trend_violation_bounds(1.2, 0.2, table, m_bars=(b["breakdown_m_bar"],))
    assert at["bounds"][0]["ci_low"] == pytest.approx(0.0, abs=1e-12)


def test_negative_effect_and_edge_cases() -> None:
    table = _table({-2: 0.5, -1: 0.0, 0: -2.0})
    b = trend_violation_bounds(-2.0, 0.5, table)
    assert b["breakdown_m_bar"] == pytest.approx((2.0 - Z * 0.5) / 0.5)
    # already not significant: zero is inside at M-bar = 0
    assert trend_violation_bounds(0.5, 0.5, table)["breakdown_m_bar"] == 0.0
    # flat pre-period: the interval never widens, so no breakdown
    flat = trend_violation_bounds(2.0, 0.5, _table({-3: 0.0, -2: 0.0, -1: 0.0, 0: 2.0}))
    assert flat["breakdown_m_bar"] is None and flat["max_pre_violation"] == 0.0
    none = trend_violation_bounds(2.0, 0.5, _table({-1: 0.0, 0: 2.0}))
    assert none["bounds"] == [] and "no pre-period placebo effects" in none["note"]
    nan = trend_violation_bounds(2.0, 0.5, _table({-3: float("nan"), -2: 0.25, -1: 0.0}))
    assert nan["max_pre_violation"] == 0.25
    assert (
        trend_violation_bounds(None, None, table)["note"] == "no effect or standard error to bound"
    )


def test_did_bounds_cover_truth_under_a_planted_pretrend(simulate: Simulate) -> None:
    # A linear differential trend of 0.05 per week biases the DiD by 6 x 0.05 = 0.3
    # (post weeks average 8.5, pre weeks 2.5); the largest placebo effect is ~5 x 0.05.
    panel = simulate(7, n_units=3000, pretrend=0.05, noise_sd=0.5)
    est = WeightedDiffInDiff().fit(panel)
    assert est.ci_low is not None and est.ci_high is not None
    assert est.ci_low > 1.0  # the ordinary interval misses the truth
    b = est.diagnostics["trend_sensitivity"]
    assert b["max_pre_violation"] == pytest.approx(0.25, abs=0.08)
    m2 = b["bounds"][3]
    assert m2["m_bar"] == 2.0 and m2["ci_low"] <= 1.0 <= m2["ci_high"]
    assert b["breakdown_m_bar"] > 2.0  # the effect itself survives: 1.0 is far from 0


def test_e_values_from_vanderweele_and_ding() -> None:
    # Their worked example: breastfeeding and infant respiratory death, RR 3.9
    # (95% CI 1.8 to 8.7): E-value 7.2 (7.26 unrounded) and 3.0 for the lower limit.
    assert e_value_for_ratio(3.9) == pytest.approx(7.26, abs=0.005)
    assert e_value_for_ratio(1.8) == pytest.approx(3.0, abs=1e-12)
    assert e_value_for_ratio(1 / 1.8) == pytest.approx(3.0, abs=1e-12)
    assert e_value_for_ratio(1.0) == 1.0
    with pytest.raises(ValueError, match="must be positive"):
        e_value_for_ratio(0.0)


def test_e_value_through_standardised_difference() -> None:
    # choose effects whose RR = exp(0.91 d) is exactly the paper's 3.9 and 1.8
    sd = 2.0
    d_point, d_low = math.log(3.9) / 0.91, math.log(1.8) / 0.91
    e = e_value(d_point * sd, d_low * sd, 3 * d_point * sd, sd)
    assert e["d"] == pytest.approx(d_point) and e["risk_ratio"] == pytest.approx(3.9)
    assert e["e_value"] == pytest.approx(7.26, abs=0.005)
    assert e["e_value_ci"] == pytest.approx(3.0)
    harmful = e_value(-d_point * sd, -3 * d_point * sd, -d_low * sd, sd)
    assert harmful["e_value"] == pytest.approx(7.26, abs=0.005)
    assert harmful["e_value_ci"] == pytest.approx(3.0)
    assert e_value(1.0, -0.1, 2.1, 1.0)["e_value_ci"] == 1.0
    assert e_value(1.0, None, None, 1.0)["e_value_ci"] is None
    assert e_value(1.0, 0.5, 1.5, None)["e_value"] is None


def test_pooled_sd_and_estimators(simulate: Simulate) -> None:
    rng = np.random.default_rng(0)
    a, b = rng.normal(0, 2, 50), rng.normal(10, 2, 70)
    expected = math.sqrt((49 * a.var(ddof=1) + 69 * b.var(ddof=1)) / 118)
    values = np.concatenate([a, b, [np.nan]])
    treated = np.r_[np.zeros(50, bool), np.ones(71, bool)]
    assert pooled_sd(values, treated) == pytest.approx(expected)
    assert pooled_sd(np.ones(4), np.array([0, 0, 1, 1], bool)) is None
    est = RandomisedAncova().fit(simulate(4, randomised=True, n_units=300))
    ev = est.diagnostics["e_value"]
    assert ev["e_value"] > ev["e_value_ci"] > 1.0
