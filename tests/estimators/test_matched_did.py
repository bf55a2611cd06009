"""Weighted difference-in-differences against planted truth."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from impactlens.estimators.base import KpiPanel
from impactlens.estimators.matched_did import WeightedDiffInDiff
from impactlens.estimators.naive import NaiveDifference

Simulate = Callable[..., KpiPanel]
# Selection on x, which drives both levels and trends: only weighting on x removes it.
CONFOUNDED = {"select_on_x": 1.0, "slope_x": 0.2, "cohorts": (4, 6, 8), "missing": 0.1}


def test_recovers_planted_effect_with_staggered_cohorts(simulate: Simulate) -> None:
    est = WeightedDiffInDiff().fit(simulate(3, effect=1.5, **CONFOUNDED))
    assert est.effect is not None and est.ci_low is not None and est.ci_high is not None
    assert est.ci_low <= 1.5 <= est.ci_high
    assert abs(est.effect - 1.5) < 0.3
    assert est.method == "weighted difference-in-differences"
    assert est.n_pre_periods == 4 and est.n_post_periods == 8
    assert est.p_value is not None and est.p_value < 1e-6


def test_unweighted_comparison_would_be_biased(simulate: Simulate) -> None:
    panel = simulate(4, n_units=800, **CONFOUNDED)
    weighted = WeightedDiffInDiff().fit(panel)
    # Dropping the covariates leaves only the pre-period mean, which misses x's trend.
    plain = WeightedDiffInDiff(match_on_pre_kpi=False).fit(replace(panel, covariates=()))
    assert weighted.effect is not None and plain.effect is not None
    assert abs(weighted.effect - 1.0) < 0.2
    assert plain.effect - 1.0 > 0.3


def test_balance_improves_after_weighting(simulate: Simulate) -> None:
    est = WeightedDiffInDiff().fit(simulate(5, n_units=800, **CONFOUNDED))
    assert est.balance is not None
    assert list(est.balance.columns[:3]) == ["covariate", "mean_treated", "mean_comparison"]
    x = est.balance.set_index("covariate").loc["x"]
    assert abs(x["smd_before"]) > 0.3
    assert abs(x["smd_after"]) < 0.1
    assert est.max_smd_before is not None and est.max_smd_after is not None
    assert est.max_smd_after < est.max_smd_before
    assert est.trimmed_share is not None and 0 <= est.trimmed_share < 0.2


def test_pretrend_test_rejects_a_planted_differential_trend(simulate: Simulate) -> None:
    flat = WeightedDiffInDiff().fit(simulate(6, n_periods=14, cohorts=(8,)))
    sloped = WeightedDiffInDiff().fit(simulate(6, n_periods=14, cohorts=(8,), pretrend=0.3))
    assert flat.pretrend_p is not None and flat.pretrend_p > 0.01
    assert sloped.pretrend_p is not None and sloped.pretrend_p < 1e-4


def test_event_study_is_flat_before_and_at_the_effect_after(simulate: Simulate) -> None:
    est = WeightedDiffInDiff().fit(simulate(7, n_units=1000, n_periods=16, cohorts=(8,)))
    es = est.event_study
    assert es is not None
    assert es["event_time"].tolist() == list(range(-8, 8))
    base = es.set_index("event_time").loc[-1]
    assert (base["effect"], base["ci_low"], base["ci_high"]) == (0.0, 0.0, 0.0)
    pre, post = es[es.event_time <= -2], es[es.event_time >= 0]
    assert np.all(np.abs(pre["effect"]) < 0.35)
    assert np.all(np.abs(post["effect"] - 1.0) < 0.35)
    assert np.all(post["ci_low"] < post["effect"]) and np.all(post["effect"] < post["ci_high"])


def test_team_clusters_and_diagnostics(simulate: Simulate) -> None:
    est = WeightedDiffInDiff().fit(simulate(8, n_teams=40, team_sd=0.5, **CONFOUNDED))
    assert est.diagnostics["n_clusters"] == 40
    assert est.effect is not None and est.ci_low is not None and est.ci_high is not None
    assert est.ci_low <= 1.0 <= est.ci_high
    assert est.pre_mean_treated is not None
    assert len(est.assumptions) == 4


def test_selection_on_levels_biases_naive_not_did(simulate: Simulate) -> None:
    panel = simulate(9, level_shift=2.0)
    naive = NaiveDifference().fit(panel)
    did = WeightedDiffInDiff(match_on_pre_kpi=False).fit(panel)
    assert naive.effect is not None and naive.effect > 2.5
    assert did.effect is not None and did.ci_low is not None and did.ci_high is not None
    assert did.ci_low <= 1.0 <= did.ci_high


@pytest.mark.slow
def test_interval_coverage_over_seeds(simulate: Simulate) -> None:
    hits = []
    for seed in range(50):
        est = WeightedDiffInDiff().fit(simulate(100 + seed, n_units=300, **CONFOUNDED))
        assert est.ci_low is not None and est.ci_high is not None
        hits.append(est.ci_low <= 1.0 <= est.ci_high)
    assert 0.88 <= np.mean(hits) <= 0.99


def _units(panel: KpiPanel, **changes: object) -> KpiPanel:
    return replace(panel, units=panel.units.assign(**changes))


@pytest.mark.parametrize(
    ("make", "note"),
    [
        (lambda p: replace(p, units=p.units[p.units.group == "treated"]), "no comparison units"),
        (lambda p: replace(p, units=p.units.iloc[:1]), "fewer than two units"),
        (
            lambda p: replace(p, cells=p.cells[p.cells.period >= pd.Timestamp("2024-02-18")]),
            "no pre-period cells",
        ),
        (
            lambda p: replace(p, cells=p.cells[p.cells.period < pd.Timestamp("2024-02-18")]),
            "no post-period cells",
        ),
        (
            lambda p: _units(p, x=np.where(p.units.group == "treated", 5.0, -5.0)),
            "no overlap",
        ),
        (lambda p: replace(p, cells=p.cells.iloc[:0]), "no KPI cells"),
    ],
)
def test_degenerate_inputs_give_notes_not_exceptions(
    simulate: Simulate, make: Callable[[KpiPanel], KpiPanel], note: str
) -> None:
    est = WeightedDiffInDiff().fit(make(simulate(10, n_units=60)))
    assert est.effect is None and est.ci_low is None and est.p_value is None
    assert any(note in n for n in est.notes), est.notes
    assert "no estimate" in est.summary()


def test_all_zero_kpi_gives_zero_effect(simulate: Simulate) -> None:
    panel = simulate(11, n_units=60)
    est = WeightedDiffInDiff().fit(replace(panel, cells=panel.cells.assign(value=0.0)))
    assert est.effect == 0.0 and est.p_value is None


@pytest.mark.slow
def test_runs_on_100k_units_by_52_periods(simulate: Simulate) -> None:
    panel = simulate(
        12,
        n_units=100_000,
        n_periods=52,
        cohorts=(20, 26, 32),
        **{k: v for k, v in CONFOUNDED.items() if k not in ("cohorts", "missing")},
    )
    start = time.perf_counter()
    est = WeightedDiffInDiff().fit(panel)
    elapsed = time.perf_counter() - start
    print(f"weighted DiD on 100,000 units x 52 periods: {elapsed:.1f} s")
    assert est.ci_low is not None and est.ci_high is not None
    assert est.ci_low <= 1.0 <= est.ci_high
    assert elapsed < 30
