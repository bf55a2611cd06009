"""The naive post-period difference: a pandas oracle and its bias."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from impactlens.estimators.base import KpiPanel
from impactlens.estimators.naive import NaiveDifference

Simulate = Callable[..., KpiPanel]


def test_matches_pandas_oracle(simulate: Simulate) -> None:
    panel = simulate(31, cohorts=(5, 7), missing=0.2)
    cells = panel.cells.merge(panel.units, on="unit_id")
    start = cells.loc[cells.group == "treated", "first_period"].min()
    treated = cells[(cells.group == "treated") & (cells.period >= cells.first_period)]
    comparison = cells[(cells.group == "comparison") & (cells.period >= start)]
    expected = treated.value.mean() - comparison.value.mean()
    est = NaiveDifference().fit(panel)
    assert est.effect == pytest.approx(expected, rel=1e-12)
    assert est.n_treated == treated.unit_id.nunique()


def test_biased_under_selection_on_levels(simulate: Simulate) -> None:
    est = NaiveDifference().fit(simulate(32, level_shift=1.5))
    assert est.effect is not None and est.ci_low is not None
    assert est.ci_low > 1.0 + 1.0  # truth is 1; the level gap of 1.5 leaks in


def test_no_comparison_gives_note(simulate: Simulate) -> None:
    est = NaiveDifference().fit(simulate(33, no_comparison=True))
    assert est.effect is None and est.notes == ("a group has no post-period cells",)
    assert est.pretrend_p is None
