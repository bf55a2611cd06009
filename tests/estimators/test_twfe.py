"""Static two-way fixed effects: exact on a constant effect, visibly biased on dynamic ones."""

from __future__ import annotations

from collections.abc import Callable
from importlib import import_module

import numpy as np
import pandas as pd
import pytest

from impactlens.estimators.base import KpiPanel
from impactlens.estimators.staggered import CallawaySantAnna
from impactlens.estimators.twfe import LABEL, WARNING, TwoWayFixedEffects

Simulate = Callable[..., KpiPanel]
staggered_panel = import_module("tests.estimators.test_staggered").staggered_panel


def ols_twfe(panel: KpiPanel) -> float:
    """The same regression by brute-force least squares with dummy columns."""
    cells = panel.cells.merge(panel.units, on="unit_id")
    d = (cells["group"] == "treated") & (cells["period"] >= cells["first_period"])
    x = pd.concat(
        [
            d.astype(float).rename("d"),
            pd.get_dummies(cells["unit_id"], dtype=float),
            pd.get_dummies(cells["period"], drop_first=True, dtype=float),
        ],
        axis=1,
    )
    coef, *_ = np.linalg.lstsq(x.to_numpy(), cells["value"].to_numpy(), rcond=None)
    return float(coef[0])


@pytest.mark.parametrize("missing", [0.0, 0.2])
def test_matches_dummy_regression(simulate: Simulate, missing: float) -> None:
    panel = simulate(0, n_units=80, n_periods=10, cohorts=(4, 7), missing=missing)
    est = TwoWayFixedEffects().fit(panel)
    assert est.effect == pytest.approx(ols_twfe(panel), abs=1e-8)


def test_recovers_a_constant_effect(simulate: Simulate) -> None:
    panel = simulate(1, n_units=600, cohorts=(4, 7), effect=1.0)
    est = TwoWayFixedEffects().fit(panel)
    assert est.ci_low is not None and est.ci_high is not None
    assert est.ci_low < 1.0 < est.ci_high
    assert est.method == LABEL
    assert est.method.startswith("two-way fixed effects (diagnostic only")
    assert est.notes == (WARNING,)
    assert "Goodman-Bacon 2021" in WARNING


def test_bias_under_staggered_dynamic_effects() -> None:
    """Effects growing with time since start: TWFE uses early cohorts as controls for
    later ones and lands far below the truth; the group-time estimate does not."""
    panel, truth = staggered_panel(1)
    twfe = TwoWayFixedEffects().fit(panel)
    cs = CallawaySantAnna().fit(panel)
    assert twfe.effect is not None and twfe.ci_high is not None and twfe.se is not None
    assert cs.effect is not None and cs.se is not None
    assert abs(cs.effect - truth) < 3 * cs.se
    assert twfe.ci_high < truth
    assert truth - twfe.effect > 0.25 * truth
    assert twfe.diagnostics["negative_weight_cells"] > 0
    assert twfe.diagnostics["negative_weight_sum"] < 0


def test_errors_are_clustered(simulate: Simulate) -> None:
    panel = simulate(2, n_units=400, n_teams=30, team_sd=1.0, cohorts=(4, 7))
    est = TwoWayFixedEffects().fit(panel)
    assert est.diagnostics["n_clusters"] == 30
    assert est.se is not None and est.se > 0


def test_single_cohort_without_comparison_gives_no_estimate(simulate: Simulate) -> None:
    panel = simulate(3, n_units=40, cohorts=(6,), no_comparison=True)
    est = TwoWayFixedEffects().fit(panel)
    assert est.effect is None
    assert est.notes[-1] == "the exposure dummy is collinear with the fixed effects"
