"""Randomisation inference against brute force and planted truth."""

from __future__ import annotations

import doctest
import itertools
import time
from collections.abc import Callable

import numpy as np
import pytest
import statsmodels.api as sm

from impactlens.estimators import randomisation_inference
from impactlens.estimators.base import KpiPanel
from impactlens.estimators.randomisation_inference import randomisation_test
from impactlens.estimators.randomised import RandomisedAncova

Simulate = Callable[..., KpiPanel]


def _design(
    seed: int, n_clusters: int = 10, size: int = 4, effect: float = 0.0
) -> tuple[np.ndarray, ...]:
    """Units in clusters randomised whole, half treated, a baseline covariate and weights."""
    rng = np.random.default_rng(seed)
    cluster = np.repeat(np.arange(n_clusters), size)
    arm = rng.permutation(np.arange(n_clusters) < n_clusters // 2)
    treated = arm[cluster]
    pre = rng.normal(size=len(cluster)) + rng.normal(size=n_clusters)[cluster]
    y = 0.7 * pre + rng.normal(size=n_clusters)[cluster] + rng.normal(size=len(cluster))
    y = y + effect * treated
    z = np.column_stack([np.ones(len(y)), pre])
    w = rng.uniform(0.5, 2.0, len(y))
    return y, z, w, treated, cluster


def _coefficient(y: np.ndarray, z: np.ndarray, w: np.ndarray, t: np.ndarray) -> float:
    return float(sm.WLS(y, np.column_stack([t.astype(float), z]), weights=w).fit().params[0])


def test_doctests() -> None:
    assert doctest.testmod(randomisation_inference).failed == 0


def test_effect_is_the_weighted_ancova_coefficient() -> None:
    y, z, w, treated, cluster = _design(1)
    r = randomisation_test(y, z, w, treated, cluster)
    assert r.effect == pytest.approx(_coefficient(y, z, w, treated), rel=1e-10)
    assert (r.exact, r.n_assignments, r.n_draws, r.assignment) == (True, 252, 252, "cluster")


def test_p_value_and_interval_match_brute_force() -> None:
    # Re-fit the regression for every one of the C(10, 5) = 252 assignments.
    y, z, w, treated, cluster = _design(2, effect=1.5)
    r = randomisation_test(y, z, w, treated, cluster)
    assignments = [np.isin(cluster, c) for c in itertools.combinations(range(10), 5)]

    def p_value(tau0: float) -> float:
        y0 = y - tau0 * treated
        seen = abs(_coefficient(y0, z, w, treated))
        stats = np.array([abs(_coefficient(y0, z, w, t)) for t in assignments])
        return float(np.mean(stats >= seen - 1e-9))

    assert r.p_value == pytest.approx(p_value(0.0))
    assert r.ci_low is not None and r.ci_high is not None
    assert r.ci_low < r.effect < r.ci_high
    for edge, outward in ((r.ci_low, -1.0), (r.ci_high, 1.0)):
        assert p_value(edge) > 0.05
        assert p_value(edge + outward * 1e-6) <= 0.05


def test_strata_and_mixed_clusters() -> None:
    y, z, w, treated, cluster = _design(3, n_clusters=12, size=3)
    # strata of 6 clusters with 3 treated in each, whatever the draw
    strata = np.where(cluster < 6, "north", "south")
    order = np.argsort(strata, kind="stable")
    arm = np.zeros(12, dtype=bool)
    arm[[0, 1, 2, 6, 7, 8]] = True
    treated = arm[cluster]
    r = randomisation_test(y[order], z[order], w[order], treated[order], cluster[order], strata)
    assert (r.n_assignments, r.n_strata, r.exact) == (400, 2, True)
    # people randomised one by one inside teams: re-drawn one by one
    people = np.arange(len(y)) % 2 == 0
    mixed = randomisation_test(y, z, w, people, cluster, seed=5)
    assert mixed.assignment == "unit" and mixed.n_groups == len(y)
    assert not mixed.exact and mixed.n_draws == 2_000


def test_too_few_assignments_give_an_unbounded_interval() -> None:
    y, z, w, treated, cluster = _design(4, n_clusters=4, effect=5.0)
    r = randomisation_test(y, z, w, treated, cluster)
    # 6 assignments: the smallest p-value is 2/6, so no effect is ruled out
    assert r.n_assignments == 6 and r.p_value >= 2 / 6
    assert r.ci_low is None and r.ci_high is None


def test_null_p_values_are_uniform() -> None:
    p = np.array(
        [randomisation_test(*_design(100 + s, n_clusters=16), seed=s).p_value for s in range(200)]
    )
    assert 0.02 <= np.mean(p <= 0.05) <= 0.09
    assert 0.42 <= np.mean(p <= 0.5) <= 0.58
    assert np.mean(p <= 0.25) == pytest.approx(0.25, abs=0.07)


@pytest.mark.slow
def test_interval_covers_planted_effect_over_seeds(simulate: Simulate) -> None:
    hits = []
    for seed in range(100):
        panel = simulate(
            500 + seed,
            randomised=True,
            n_units=160,
            n_teams=16,
            share_treated=0.5,
            team_sd=0.5,
            effect=0.8,
        )
        est = RandomisedAncova().fit(panel)
        assert est.diagnostics["randomisation_inference"]["assignment"] == "cluster"
        assert est.ci_low is not None and est.ci_high is not None
        hits.append(est.ci_low <= 0.8 <= est.ci_high)
    assert 0.90 <= np.mean(hits) <= 0.99


def test_ancova_reports_it_below_forty_clusters(simulate: Simulate) -> None:
    panel = simulate(3, randomised=True, n_teams=20, n_units=300, team_sd=0.3, effect=0.8)
    est = RandomisedAncova().fit(panel)
    d = est.diagnostics
    ri, robust = d["randomisation_inference"], d["cluster_robust"]
    assert d["inference"].startswith("randomisation inference (2,000 random assignments")
    assert (est.ci_low, est.ci_high, est.p_value) == (ri["ci_low"], ri["ci_high"], ri["p_value"])
    assert robust["ci_low"] != est.ci_low and robust["ci_low"] < 0.8 < robust["ci_high"]
    assert est.ci_low is not None and est.ci_high is not None
    assert est.ci_low <= 0.8 <= est.ci_high
    assert ri["p_value"] == pytest.approx(1 / 2001)  # no draw is as extreme as the data
    again = RandomisedAncova().fit(panel)  # seeded from panel.seed: reproducible
    assert again.ci_low == est.ci_low


def test_ancova_keeps_cluster_robust_interval_from_forty(simulate: Simulate) -> None:
    panel = simulate(2, randomised=True, n_teams=60, team_sd=0.2, missing=0.1, effect=0.8)
    est = RandomisedAncova().fit(panel)
    forced = RandomisedAncova(small_clusters=61).fit(panel)
    assert est.diagnostics["inference"].startswith("cluster-robust t interval: 60 clusters")
    assert "randomisation_inference" not in est.diagnostics
    assert est.ci_low == est.diagnostics["cluster_robust"]["ci_low"]
    assert forced.effect == est.effect and forced.ci_low != est.ci_low


def test_sixty_teams_by_seventy_eight_weeks_is_fast(simulate: Simulate) -> None:
    for kwargs in ({"n_units": 60}, {"n_units": 600, "n_teams": 60}):
        panel = simulate(5, randomised=True, n_periods=78, cohorts=(39,), **kwargs)
        RandomisedAncova().fit(panel)  # warm: statsmodels import and the panel's grid
        start = time.perf_counter()
        est = RandomisedAncova(small_clusters=100).fit(panel)
        assert time.perf_counter() - start < 3.0
        assert est.diagnostics["randomisation_inference"]["n_groups"] == 60


def test_ancova_with_four_teams_says_no_effect_can_be_ruled_out(simulate: Simulate) -> None:
    panel = simulate(0, randomised=True, n_units=40, n_teams=4, share_treated=0.5)
    est = RandomisedAncova().fit(panel)
    robust = est.diagnostics["cluster_robust"]
    assert est.p_value == pytest.approx(2 / 6)  # C(4, 2) = 6 assignments, two as extreme
    assert (est.ci_low, est.ci_high) == (robust["ci_low"], robust["ci_high"])
    assert est.notes[-1].startswith("only 6 possible assignments: no effect can be ruled out")
    assert est.diagnostics["inference"].endswith("so the p-value is reported")
