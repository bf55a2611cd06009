"""Randomised ANCOVA against planted truth."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import numpy as np

from impactlens.estimators.base import KpiPanel
from impactlens.estimators.randomised import RandomisedAncova

Simulate = Callable[..., KpiPanel]


def test_covers_truth_and_beats_difference_in_means(simulate: Simulate) -> None:
    # Stable unit levels (alpha) make the pre-period mean predictive of the post one.
    panel = simulate(2, randomised=True, n_teams=60, team_sd=0.2, missing=0.1, effect=0.8)
    est = RandomisedAncova().fit(panel)
    assert est.effect is not None and est.ci_low is not None and est.ci_high is not None
    assert est.ci_low <= 0.8 <= est.ci_high
    assert est.randomised and est.method == "randomised ANCOVA (intention to treat)"
    assert est.se is not None and est.se < 0.75 * est.diagnostics["difference_in_means_se"]
    assert est.diagnostics == est.diagnostics | {"n_clusters": 60, "assignment_level": "team"}
    assert est.event_study is not None and est.pretrend_p is not None
    assert est.balance is not None and "pre-period KPI mean" in set(est.balance.covariate)


def test_people_randomised_without_clusters(simulate: Simulate) -> None:
    est = RandomisedAncova().fit(simulate(22, randomised=True, cohorts=(3, 5)))
    assert est.diagnostics["assignment_level"] == "person"
    assert est.ci_low is not None and est.ci_high is not None
    assert est.ci_low <= 1.0 <= est.ci_high


def test_coverage_over_seeds(simulate: Simulate) -> None:
    hits = []
    for seed in range(30):
        est = RandomisedAncova().fit(simulate(200 + seed, n_units=200, randomised=True))
        assert est.ci_low is not None and est.ci_high is not None
        hits.append(est.ci_low <= 1.0 <= est.ci_high)
    assert np.mean(hits) >= 0.85


def test_degenerate_arms_and_zero_kpi(simulate: Simulate) -> None:
    panel = simulate(23, n_units=40, randomised=True)
    one_arm = replace(panel, units=panel.units[panel.units.group == "treated"])
    est = RandomisedAncova().fit(one_arm)
    assert est.effect is None and any("fewer than two units" in n for n in est.notes)
    zero = RandomisedAncova().fit(replace(panel, cells=panel.cells.assign(value=0.0)))
    assert zero.effect == 0.0 and zero.p_value is None
