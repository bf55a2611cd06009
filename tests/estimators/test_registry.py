"""Choosing an estimator for a panel and a plan's method."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from impactlens.estimators.base import KpiPanel
from impactlens.estimators.before_after import BeforeAfter
from impactlens.estimators.matched_did import WeightedDiffInDiff
from impactlens.estimators.randomised import RandomisedAncova
from impactlens.estimators.registry import ESTIMATORS, choose
from impactlens.estimators.staggered import CallawaySantAnna
from impactlens.estimators.synthetic import SyntheticDiffInDiff

Simulate = Callable[..., KpiPanel]


def test_registry_names() -> None:
    assert ESTIMATORS["weighted difference-in-differences"] is WeightedDiffInDiff
    assert ESTIMATORS["randomised ANCOVA (intention to treat)"] is RandomisedAncova
    assert all(name == cls.name for name, cls in ESTIMATORS.items())


@pytest.mark.parametrize(
    ("kwargs", "method", "expected", "words"),
    [
        ({}, "auto", WeightedDiffInDiff, "propensity"),
        ({}, "matched", WeightedDiffInDiff, "propensity"),
        ({}, "staggered", CallawaySantAnna, "Callaway & Sant'Anna 2021"),
        ({}, "synthetic", SyntheticDiffInDiff, "synthetic difference-in-differences"),
        ({}, "randomised", WeightedDiffInDiff, "no participation row carries an arm"),
        ({}, "none", BeforeAfter, "no comparison group"),
        ({"randomised": True}, "auto", RandomisedAncova, "at random"),
        ({"randomised": True}, "matched", RandomisedAncova, "overridden"),
        ({"no_comparison": True}, "auto", BeforeAfter, "no eligible untrained units"),
    ],
)
def test_choose(
    simulate: Simulate, kwargs: dict[str, bool], method: str, expected: type, words: str
) -> None:
    estimator, why = choose(simulate(0, n_units=30, **kwargs), method)
    assert isinstance(estimator, expected)
    assert words in why


def test_unknown_method(simulate: Simulate) -> None:
    with pytest.raises(ValueError, match="unknown comparison method 'magic'"):
        choose(simulate(0, n_units=30), "magic")
