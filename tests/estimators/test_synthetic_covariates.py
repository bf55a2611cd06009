"""Covariate adjustment of synthetic DiD on planted panels: trends a covariate drives."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from impactlens.estimators.base import KpiPanel
from impactlens.estimators.grid import PanelGrid
from impactlens.estimators.synthetic import SyntheticDiffInDiff
from impactlens.estimators.synthetic_cohorts import build_cohorts
from impactlens.estimators.synthetic_covariates import (
    adjust_cohorts,
    covariate_matrix,
    period_coefficients,
)
from impactlens.estimators.synthetic_weights import fit_block

N_UNITS, N_PERIODS, T0, N_TREATED = 40, 30, 20, 4


def _panel(seed: int, covariates: tuple[str, ...] = ("x",)) -> KpiPanel:
    """4 of 40 sites with the highest x trained; x drives a trend of 0.06 x per week.

    The planted effect is 1.0 in every trained post cell.
    """
    rng = np.random.default_rng(seed)
    x = np.sort(rng.normal(size=N_UNITS))[::-1]  # the first four (trained) have the top x
    t = np.arange(N_PERIODS)
    treated = np.arange(N_UNITS) < N_TREATED
    y = (
        rng.normal(size=N_UNITS)[:, None]
        + np.cumsum(rng.normal(scale=0.3, size=N_PERIODS))[None, :]
        + 0.06 * x[:, None] * t[None, :]
        + 1.0 * (treated[:, None] & (t[None, :] >= T0))
        + rng.normal(scale=0.3, size=(N_UNITS, N_PERIODS))
    )
    ids = np.array([f"site{i:02d}" for i in range(N_UNITS)])
    periods = pd.Timestamp("2024-01-07") + pd.to_timedelta(7 * t, unit="D")
    ui, ti = np.nonzero(np.ones_like(y, dtype=bool))
    cells = pd.DataFrame(
        {"unit_id": ids[ui], "period": periods[ti], "value": y[ui, ti], "weight": 1.0}
    )
    units = pd.DataFrame(
        {
            "unit_id": ids,
            "group": np.where(treated, "treated", "comparison"),
            "first_period": pd.Series(periods[T0], index=range(N_UNITS)).where(treated),
            "cluster": ids,
            "x": x,
        }
    )
    return KpiPanel("kpi", "team", cells, units, covariates=covariates, seed=seed)


def _tau(panel: KpiPanel, adjust: bool) -> float:
    grid = PanelGrid.from_panel(panel)
    cohorts, control_rows, treated_rows, _ = build_cohorts(grid)  # type: ignore[misc]
    if adjust:
        x_all = covariate_matrix(panel.units[["x"]].to_numpy(float))
        cohorts, note = adjust_cohorts(cohorts, x_all, control_rows, [treated_rows])
        assert note is None
    c = cohorts[0]
    return fit_block(c.y_c, c.treated_mean(), c.t0, c.n_treated, "sdid").tau


def test_adjustment_removes_the_bias_of_a_covariate_driven_trend() -> None:
    # 10 seeded draws: the ridge pulls the blend towards flatter trends (bias about
    # +0.3); taking out the trend x predicts leaves the planted 1.0
    raw = np.array([_tau(_panel(s), adjust=False) for s in range(10)]) - 1.0
    adjusted = np.array([_tau(_panel(s), adjust=True) for s in range(10)]) - 1.0
    assert raw.mean() > 0.2
    assert abs(adjusted.mean()) < 3 * adjusted.std() / np.sqrt(10) + 0.02
    assert np.sqrt((adjusted**2).mean()) < 0.5 * np.sqrt((raw**2).mean())


def test_period_coefficients_recover_a_planted_trend() -> None:
    rng = np.random.default_rng(1)
    x = rng.normal(size=(30, 2))
    g = np.vstack([0.1 * np.arange(8), np.sin(np.arange(8))])
    y = rng.normal(size=30)[:, None] + rng.normal(size=8)[None, :] + x @ g
    # coefficients are identified up to a constant per covariate (the period effects
    # absorb it): compare the two-way demeaned versions
    est = period_coefficients(y, x)
    np.testing.assert_allclose(est - est.mean(axis=1, keepdims=True),
                               g - g.mean(axis=1, keepdims=True), atol=1e-10)  # fmt: skip


def test_covariate_matrix_imputes_and_drops_constants() -> None:
    out = covariate_matrix(np.array([[1.0, 2.0], [np.nan, 2.0], [5.0, 2.0]]))
    assert out.tolist() == [[1.0], [3.0], [5.0]]


def test_too_few_comparison_units_skip_the_adjustment() -> None:
    panel = _panel(0)
    grid = PanelGrid.from_panel(panel)
    cohorts, control_rows, treated_rows, _ = build_cohorts(grid)  # type: ignore[misc]
    x_all = np.random.default_rng(0).normal(size=(N_UNITS, 30))  # 30 covariates, 36 units
    out, note = adjust_cohorts(cohorts, x_all, control_rows, [treated_rows])
    assert out is cohorts
    assert note == (
        "covariates not adjusted for: 36 untrained units are too few to estimate a trend "
        "for each of 30 covariates"
    )


@pytest.mark.parametrize("covariates", [("x",), ()])
def test_estimator_says_whether_it_adjusted(covariates: tuple[str, ...]) -> None:
    est = SyntheticDiffInDiff(replications=20).fit(_panel(3, covariates))
    assert est.diagnostics["covariate_adjusted"] is bool(covariates)
    assert any(n.startswith("covariates adjusted for") for n in est.notes) is bool(covariates)
    # the path shows the KPI itself, not the adjusted series
    path = est.diagnostics["synthetic_path"]
    actual = _panel(3).cells.query("unit_id < 'site04'").groupby("period").value.mean()
    assert [p["actual"] for p in path] == pytest.approx(actual.to_numpy())
    post = [p["actual"] - p["synthetic"] for p in path[T0:]]
    assert np.mean(post) == pytest.approx(est.effect)
