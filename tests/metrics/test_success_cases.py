"""Success-case sampling finds the planted best and worst trained units."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from impactlens.estimators.base import KpiPanel
from impactlens.metrics.success_cases import success_cases, unit_changes

PERIODS = pd.date_range("2024-01-07", periods=8, freq="W-SUN")


def _panel(gains: dict[str, float], n_comparison: int = 10, season: float = 3.0) -> KpiPanel:
    """Trained units gain ``gains[id]`` from period 4; everyone rises by ``season`` then."""
    rows = []
    ids = list(gains) + [f"c{i:02d}" for i in range(n_comparison)]
    for uid in ids:
        for j, period in enumerate(PERIODS):
            y = 10.0 + (season if j >= 4 else 0.0) + (gains.get(uid, 0.0) if j >= 4 else 0.0)
            rows.append((uid, period, y))
    cells = pd.DataFrame(rows, columns=["unit_id", "period", "value"]).assign(weight=1.0)
    treated = np.array([u in gains for u in ids])
    units = pd.DataFrame(
        {
            "unit_id": ids,
            "group": np.where(treated, "treated", "comparison"),
            "first_period": pd.to_datetime(np.where(treated, PERIODS[4], pd.NaT)),
            "cluster": ids,
        }
    )
    return KpiPanel("k", "person", cells, units)


def test_changes_are_relative_to_the_comparison_path() -> None:
    changes = unit_changes(_panel({"t1": 2.0, "t2": -1.0})).set_index("unit_id")
    # own change includes the season (+3); relative to the comparison it is the gain alone
    assert changes.loc["t1", "change"] == pytest.approx(5.0)
    assert changes.loc["t1", "relative_change"] == pytest.approx(2.0)
    assert changes.loc["t2", "relative_change"] == pytest.approx(-1.0)
    assert changes.loc["t1", "n_pre"] == 4 and changes.loc["t1", "n_post"] == 4


def test_the_planted_extremes_are_the_success_cases() -> None:
    gains = {f"t{i:02d}": 0.0 for i in range(20)}
    best = {"t03": 9.0, "t07": 8.0, "t11": 7.0, "t12": 6.0, "t19": 5.0}
    worst = {"t00": -9.0, "t05": -8.0, "t09": -7.0, "t14": -6.0, "t16": -5.0}
    gains |= best | worst
    out = success_cases(_panel(gains), "increase")
    assert [r["unit_id"] for r in out["best"]] == list(best)
    assert [r["unit_id"] for r in out["worst"]] == list(worst)
    assert out["ranked_units"] == 20
    # for a KPI where lower is better, the lists swap
    flipped = success_cases(_panel(gains), "decrease")
    assert [r["unit_id"] for r in flipped["best"]] == list(worst)


def test_few_units_are_split_without_overlap() -> None:
    out = success_cases(_panel({"a": 1.0, "b": 2.0, "c": 3.0}), "increase", n=5)
    assert [r["unit_id"] for r in out["best"]] == ["c"]
    assert [r["unit_id"] for r in out["worst"]] == ["a"]
