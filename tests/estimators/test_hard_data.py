"""Hard data gets a clear answer, never a crash or a silent number (issue 3).

Six cases: no pre-period, no untrained eligible units, one treated team, an all-zero
KPI, perfect separation in the propensity model, a KPI with gaps. Every estimator
must return an Estimate (no exception); the one ``choose(panel, "auto")`` picks must
give ``evidence: none`` or name the limitation in its notes or evidence reasons.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from impactlens.estimators.base import Estimate, KpiPanel
from impactlens.estimators.before_after import BeforeAfter
from impactlens.estimators.evidence import grade
from impactlens.estimators.matched_did import WeightedDiffInDiff
from impactlens.estimators.naive import NaiveDifference
from impactlens.estimators.randomised import RandomisedAncova
from impactlens.estimators.registry import choose
from impactlens.estimators.staggered import CallawaySantAnna
from impactlens.estimators.twfe import TwoWayFixedEffects

Simulate = Callable[..., KpiPanel]


def _no_pre_period(simulate: Simulate) -> KpiPanel:
    panel = simulate(10, n_units=60)
    first = panel.cells["period"].min()
    units = panel.units.assign(
        first_period=panel.units["first_period"].where(panel.units["group"] != "treated", first)
    )
    return replace(panel, units=units)


def _one_treated_team(simulate: Simulate, *, randomised: bool = False) -> KpiPanel:
    """Team KPI (one unit per team) with a single trained team; or a team-randomised
    person panel where only one team was assigned to training."""
    if randomised:
        panel = simulate(12, n_units=60, randomised=True, n_teams=8, team_sd=0.3)
        units = panel.units
        treated_teams = sorted(units.loc[units["group"] == "treated", "cluster"].unique())
        keep = (units["group"] == "comparison") | (units["cluster"] == treated_teams[0])
    else:
        panel = replace(simulate(12, n_units=40), unit_kind="team")
        units = panel.units
        treated = units.index[units["group"] == "treated"]
        keep = pd.Series(True, index=units.index)
        keep[treated[1:]] = False
    ids = set(units.loc[keep, "unit_id"])
    return replace(
        panel,
        units=units[keep].reset_index(drop=True),
        cells=panel.cells[panel.cells["unit_id"].isin(ids)].reset_index(drop=True),
    )


def _all_zero(simulate: Simulate, *, randomised: bool = False) -> KpiPanel:
    panel = simulate(11, n_units=60, randomised=randomised, n_teams=12 if randomised else None)
    return replace(panel, cells=panel.cells.assign(value=0.0))


def _separated(simulate: Simulate) -> KpiPanel:
    panel = simulate(13, n_units=60)
    x = np.where(panel.units["group"] == "treated", 5.0, -5.0)
    return replace(panel, units=panel.units.assign(x=x))


CASES: dict[str, Callable[[Simulate], KpiPanel]] = {
    "no pre-period": _no_pre_period,
    "no untrained eligible units": lambda s: s(14, n_units=60, no_comparison=True),
    "one treated team": _one_treated_team,
    "one treated team, randomised": lambda s: _one_treated_team(s, randomised=True),
    "all-zero KPI": _all_zero,
    "all-zero KPI, randomised": lambda s: _all_zero(s, randomised=True),
    "perfect separation": _separated,
    "KPI with gaps": lambda s: s(15, n_units=200, missing=0.3),
}
ESTIMATORS = (
    WeightedDiffInDiff,
    CallawaySantAnna,
    RandomisedAncova,
    BeforeAfter,
    NaiveDifference,
    TwoWayFixedEffects,
)


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("estimator", ESTIMATORS, ids=lambda c: c.__name__)
def test_no_estimator_crashes_or_reports_a_number_without_saying_why(
    simulate: Simulate, case: str, estimator: type
) -> None:
    est: Estimate = estimator().fit(CASES[case](simulate))
    level, reasons = grade(est)
    if est.effect is None:
        assert est.notes, "an empty result must say why"
        assert level == "none"
        assert any(n in reasons[-1] for n in est.notes)
    assert est.summary()


def _auto(panel: KpiPanel) -> tuple[Estimate, str, list[str], str]:
    estimator, why = choose(panel, "auto")
    est = estimator.fit(panel)
    level, reasons = grade(est)
    return est, level, reasons, why


def test_no_pre_period_gives_no_evidence(simulate: Simulate) -> None:
    est, level, reasons, _ = _auto(_no_pre_period(simulate))
    assert est.effect is None and level == "none"
    assert est.notes == ("no pre-period cells: every KPI value is after the program started",)
    assert "0 pre-periods and 12 post-periods" in reasons


def test_no_untrained_units_falls_back_to_a_weak_trend_projection(simulate: Simulate) -> None:
    panel = CASES["no untrained eligible units"](simulate)
    est, level, reasons, why = _auto(panel)
    assert isinstance(choose(panel)[0], BeforeAfter)
    assert why == "no eligible untrained units to compare with: trend projection only"
    assert level == "weak" and est.effect is not None
    assert reasons[-1] == "no comparison group: trend projection of the trained units only"
    did = WeightedDiffInDiff().fit(panel)
    assert did.effect is None
    assert did.notes == (
        "no comparison units: a difference-in-differences needs never-trained units",
    )


def test_one_treated_team_is_graded_none(simulate: Simulate) -> None:
    est, level, reasons, _ = _auto(_one_treated_team(simulate))
    assert est.n_treated == 1 and level == "none"
    assert reasons[0].startswith("1 trained and ")
    assert reasons[0].endswith("(fewer than 5 in each group)")


def test_one_randomised_treated_team_is_not_strong(simulate: Simulate) -> None:
    est, level, reasons, _ = _auto(_one_treated_team(simulate, randomised=True))
    assert isinstance(choose(_one_treated_team(simulate, randomised=True))[0], RandomisedAncova)
    assert est.effect is not None and level == "moderate"
    assert reasons[-1].startswith("randomisation inference failed: only ")
    assert reasons[-1].endswith("possible assignments, too few to rule out any effect at 95%")
    assert any("no effect can be ruled out at 95%" in n for n in est.notes)


@pytest.mark.parametrize("case", ["all-zero KPI", "all-zero KPI, randomised"])
def test_all_zero_kpi_says_it_carries_no_evidence(simulate: Simulate, case: str) -> None:
    est, level, reasons, _ = _auto(CASES[case](simulate))
    assert est.effect == 0.0 and est.se == 0.0 and est.p_value is None
    assert level == "none"
    assert reasons[-1] == (
        "the KPI does not vary in the compared cells (standard error 0): the estimate and "
        "its zero-width interval carry no evidence either way"
    )


def test_perfect_separation_gives_no_estimate_and_names_it(simulate: Simulate) -> None:
    est, level, reasons, _ = _auto(_separated(simulate))
    assert est.effect is None and level == "none"
    assert est.notes[-1].startswith("no overlap: the propensity model separates trained")
    assert reasons[-1].startswith("no estimate could be computed: no overlap")
    cs = CallawaySantAnna().fit(_separated(simulate))
    assert cs.effect is None and grade(cs)[0] == "none"


def test_kpi_with_gaps_is_estimated_from_every_unit(simulate: Simulate) -> None:
    panel = CASES["KPI with gaps"](simulate)
    est, level, _, _ = _auto(panel)
    assert est.effect is not None and est.se is not None
    assert abs(est.effect - 1.0) < 4 * est.se  # the planted effect
    assert level in ("strong", "moderate")
    # every unit with a gap still counts (only overlap trimming leaves a few out)
    assert est.n_treated + est.n_comparison >= 0.95 * len(panel.units)
    # Callaway & Sant'Anna (moderndid) balances the panel first: with 30% of cells
    # missing almost no unit is complete, and it says so instead of guessing
    cs = CallawaySantAnna().fit(panel)
    assert cs.notes[0] == (
        "the panel is unbalanced: 198 units missing a period are dropped to balance it "
        "(R did's default)"
    )
    assert cs.effect is None and grade(cs)[0] == "none"
