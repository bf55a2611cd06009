"""Minimum detectable effect from a standard error, against statsmodels' power functions."""

from __future__ import annotations

import doctest
import math
from collections.abc import Callable

import pytest
from statsmodels.stats.power import NormalIndPower

from impactlens.estimators import detectable
from impactlens.estimators.base import KpiPanel
from impactlens.estimators.detectable import detectable_effects, minimum_detectable_effect
from impactlens.estimators.matched_did import WeightedDiffInDiff
from impactlens.estimators.randomised import RandomisedAncova

Simulate = Callable[..., KpiPanel]


def test_doctests() -> None:
    assert doctest.testmod(detectable).failed == 0


def test_multiplier_is_the_sum_of_normal_quantiles() -> None:
    # z(0.975) = 1.959964, z(0.8) = 0.841621
    assert minimum_detectable_effect(1.0) == pytest.approx(2.801585, abs=1e-6)
    assert minimum_detectable_effect(0.5, alpha=0.1, power=0.9) == pytest.approx(
        0.5 * (1.644854 + 1.281552), abs=1e-6
    )


@pytest.mark.parametrize(("n1", "ratio"), [(50, 1.0), (120, 2.5), (400, 0.5)])
def test_matches_statsmodels_two_sample_z_test(n1: int, ratio: float) -> None:
    # A difference in means with sd 1 has se sqrt(1/n1 + 1/n2); statsmodels solves the
    # standardised effect with power 0.8 (its two-sided power adds the far tail, ~1e-7).
    se = math.sqrt(1 / n1 + 1 / (n1 * ratio))
    expected = NormalIndPower().solve_power(
        effect_size=None, nobs1=n1, alpha=0.05, power=0.8, ratio=ratio
    )
    assert minimum_detectable_effect(se) == pytest.approx(expected, rel=1e-4)


def test_relative_and_missing_inputs() -> None:
    d = detectable_effects(0.2, -4.0)
    assert d["mde"] == pytest.approx(0.560317, abs=1e-6)
    assert d["mde_relative"] == pytest.approx(0.560317 / 4.0, abs=1e-6)
    assert detectable_effects(None, 4.0) == {"mde": None, "mde_relative": None}
    assert detectable_effects(0.2, 0.0)["mde_relative"] is None
    assert detectable_effects(0.2, None)["mde_relative"] is None
    with pytest.raises(ValueError, match="alpha and power must be in"):
        minimum_detectable_effect(1.0, power=1.0)


def test_estimators_report_it(simulate: Simulate) -> None:
    for est in (
        RandomisedAncova().fit(simulate(4, randomised=True, n_units=200)),
        WeightedDiffInDiff().fit(simulate(4, n_units=400)),
    ):
        assert est.se is not None and est.pre_mean_treated is not None
        assert est.diagnostics["mde"] == pytest.approx(2.801585 * est.se, rel=1e-6)
        assert est.diagnostics["mde_relative"] == pytest.approx(
            est.diagnostics["mde"] / abs(est.pre_mean_treated)
        )
