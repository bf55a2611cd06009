"""Trend projection without a comparison group."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from impactlens.estimators.base import KpiPanel
from impactlens.estimators.before_after import BeforeAfter
from impactlens.estimators.evidence import grade


def _trend_panel(n_pre: int, seed: int = 0) -> KpiPanel:
    """50 trained units, KPI = 2 + 0.3 t + 1.5 after week n_pre + noise."""
    rng = np.random.default_rng(seed)
    periods = pd.date_range("2024-01-07", periods=n_pre + 6, freq="7D")
    units = pd.DataFrame(
        {
            "unit_id": [f"u{i:02d}" for i in range(50)],
            "group": "treated",
            "first_period": periods[n_pre],
            "cluster": "x",
        }
    )
    units["cluster"] = units["unit_id"]
    t = np.arange(len(periods))
    cells = pd.DataFrame(
        [
            {
                "unit_id": u,
                "period": p,
                "value": 2 + 0.3 * k + 1.5 * (k >= n_pre) + rng.normal(scale=0.5),
                "weight": 1.0,
            }
            for u in units.unit_id
            for k, p in zip(t, periods, strict=True)
        ]
    )
    return KpiPanel("kpi", "person", cells, units)


def test_recovers_effect_over_a_linear_trend() -> None:
    est = BeforeAfter().fit(_trend_panel(8))
    assert est.effect == pytest.approx(1.5, abs=0.25)
    assert est.ci_low is not None and est.ci_high is not None
    assert est.ci_low <= 1.5 <= est.ci_high
    assert est.diagnostics["trend_slope_per_week"] == pytest.approx(0.3, abs=0.05)
    assert not est.has_comparison and est.n_comparison == 0
    assert grade(est)[0] == "weak"


def test_few_pre_periods_use_the_flat_mean() -> None:
    est = BeforeAfter().fit(_trend_panel(2))
    assert any("flat pre-period mean" in n for n in est.notes)
    assert est.diagnostics["trend_slope_per_week"] == 0.0
    assert est.diagnostics["projected_mean"] == pytest.approx(2.15, abs=0.1)


def test_no_pre_period_gives_note() -> None:
    panel = _trend_panel(4)
    panel = KpiPanel("kpi", "person", panel.cells[panel.cells.period >= "2024-02-04"], panel.units)
    est = BeforeAfter().fit(panel)
    assert est.effect is None and "no pre-period cells" in est.notes[0]
