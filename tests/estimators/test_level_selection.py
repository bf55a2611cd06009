"""Self-selection on stable levels, joiners and leavers: the demo's hard cases.

High performers sign up (selection on the unit's level) and the comparison group's
membership changes over time (new hires join, leavers go). A difference-in-differences
must stay unbiased in both; two earlier designs did not (regression to the mean when
weighting on a noisy pre-period mean; composition bias from a raw period mean).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from impactlens.estimators.base import KpiPanel
from impactlens.estimators.comparison_path import ComparisonPath
from impactlens.estimators.grid import PanelGrid
from impactlens.estimators.matched_did import PRE_LEVEL_LABEL, WeightedDiffInDiff


def _level_selected_panel(seed: int, *, churn: bool) -> tuple[KpiPanel, float]:
    rng = np.random.default_rng(seed)
    n, p, start = 1500, 16, 8
    level = rng.normal(0, 3, n)
    treated = rng.random(n) < 1 / (1 + np.exp(-(-1.0 + 0.8 * level)))
    weeks = pd.date_range("2024-01-07", periods=p, freq="W-SUN")
    season = np.sin(np.arange(p) / 2.0)
    y = level[:, None] + season[None, :] + rng.normal(0, 2, (n, p))
    y[treated, start:] += 1.0
    seen = np.ones((n, p), dtype=bool)
    if churn:
        # comparison units with LOW levels join late; HIGH-level ones leave early
        comp = ~treated
        joiners = comp & (level < -1) & (rng.random(n) < 0.6)
        leavers = comp & (level > 1) & (rng.random(n) < 0.6)
        seen[joiners, : rng.integers(6, 12)] = False
        seen[leavers, rng.integers(5, 10) :] = False
    rows, cols = np.nonzero(seen)
    cells = pd.DataFrame(
        {
            "unit_id": [f"u{i:05d}" for i in rows],
            "period": weeks[cols],
            "value": y[rows, cols],
            "weight": 1.0,
        }
    )
    units = pd.DataFrame(
        {
            "unit_id": [f"u{i:05d}" for i in range(n)],
            "group": np.where(treated, "treated", "comparison"),
            "first_period": np.where(treated, weeks[start], pd.NaT),
            "cluster": [f"u{i:05d}" for i in range(n)],
        }
    )
    units["first_period"] = pd.to_datetime(units["first_period"])
    return KpiPanel("k", "person", cells, units), 1.0


def test_selection_on_levels_with_short_pre_period_is_unbiased_by_default() -> None:
    errors, covered = [], 0
    for seed in range(12):
        panel, truth = _level_selected_panel(seed, churn=False)
        est = WeightedDiffInDiff().fit(panel)
        assert est.effect is not None and est.ci_low is not None and est.ci_high is not None
        errors.append(est.effect - truth)
        covered += est.ci_low <= truth <= est.ci_high
    assert abs(float(np.mean(errors))) < 0.05
    assert covered >= 10
    # weighting on the noisy pre-period mean is what regression to the mean punishes
    biased = [
        WeightedDiffInDiff(match_on_pre_kpi=True).fit(_level_selected_panel(s, churn=False)[0])
        for s in range(6)
    ]
    assert np.mean([b.effect for b in biased]) - 1.0 > 0.1


def test_joiners_and_leavers_in_the_comparison_group_do_not_bias_the_effect() -> None:
    errors = []
    for seed in range(10):
        panel, truth = _level_selected_panel(seed, churn=True)
        est = WeightedDiffInDiff().fit(panel)
        assert est.effect is not None
        errors.append(est.effect - truth)
    assert abs(float(np.mean(errors))) < 0.06


def test_comparison_path_removes_composition_change() -> None:
    # two comparison units, levels 0 and 10, the second only observed from period 2:
    # a raw period mean jumps from 0 to 5; the two-way fit's path stays flat
    cells = pd.DataFrame(
        {
            "unit_id": ["a", "a", "a", "a", "b", "b"],
            "period": pd.to_datetime(
                ["2024-01-07", "2024-01-14", "2024-01-21", "2024-01-28", "2024-01-21", "2024-01-28"]
            ),
            "value": [0.0, 0.0, 0.0, 0.0, 10.0, 10.0],
        }
    )
    units = pd.DataFrame(
        {
            "unit_id": ["a", "b"],
            "group": ["comparison", "comparison"],
            "first_period": pd.NaT,
            "cluster": ["a", "b"],
        }
    )
    grid = PanelGrid.from_panel(KpiPanel("k", "person", cells, units))
    path = ComparisonPath.build(grid, np.array([1.0, 1.0]))
    assert np.ptp(path.m) < 1e-9


def test_balance_table_shows_the_pre_period_level_as_a_diagnostic() -> None:
    panel, _ = _level_selected_panel(0, churn=False)
    est = WeightedDiffInDiff().fit(panel)
    assert est.balance is not None
    row = est.balance[est.balance["covariate"] == PRE_LEVEL_LABEL]
    assert len(row) == 1 and abs(float(row["smd_before"].iloc[0])) > 0.5
