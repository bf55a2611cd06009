"""Minimum detectable effect against statsmodels and by hand."""

from __future__ import annotations

import math

import pytest
from statsmodels.stats.power import NormalIndPower

from impactlens.estimators.power import mde_people, mde_teams, needed_units


@pytest.mark.parametrize(("people", "share"), [(400, 0.5), (120, 0.3), (2000, 0.2)])
def test_people_matches_statsmodels(people: int, share: float) -> None:
    n1 = share * people
    d = NormalIndPower().solve_power(
        nobs1=n1, alpha=0.05, power=0.8, ratio=(1 - share) / share, alternative="two-sided"
    )
    assert mde_people(sd=1.0, r2=0.0, share=share, people=people) == pytest.approx(d, rel=1e-3)
    # sd scales it; r2 shrinks it by sqrt(1 - r2).
    assert mde_people(2.0, 0.75, share, people) == pytest.approx(2 * 0.5 * d, rel=1e-3)


def test_teams_reduces_to_people_without_clustering() -> None:
    assert mde_teams(0.9, 0.0, 0.48, 0.5, teams=40, team_size=10) == pytest.approx(
        mde_people(0.9, 0.48, 0.5, people=400)
    )
    # icc = 1: the team is the unit, team size no longer matters.
    assert mde_teams(0.9, 1.0, 0.48, 0.5, 40, 10) == pytest.approx(mde_people(0.9, 0.48, 0.5, 40))


def test_teams_by_hand() -> None:
    m = 1.959963984540054 + 0.8416212335729143
    factor = 0.12 * 0.52 / (0.25 * 40) + 0.88 * 0.52 / (0.25 * 40 * 9.6)
    assert mde_teams(0.9, 0.12, 0.48, 0.5, 40, 9.6) == pytest.approx(m * 0.9 * math.sqrt(factor))


def test_needed_units_is_the_smallest_count() -> None:
    n = needed_units(0.2, sd=1.0, r2=0.3, share=0.4)
    assert n is not None
    assert mde_people(1.0, 0.3, 0.4, n) <= 0.2 < mde_people(1.0, 0.3, 0.4, n - 1)
    teams = needed_units(-0.3, sd=0.9, r2=0.48, share=0.5, icc=0.12, team_size=9.6)
    assert teams is not None
    assert mde_teams(0.9, 0.12, 0.48, 0.5, teams, 9.6) <= 0.3
    assert mde_teams(0.9, 0.12, 0.48, 0.5, teams - 1, 9.6) > 0.3
    assert needed_units(0.0, sd=1.0, r2=0.0, share=0.5) is None


def test_rejects_bad_share() -> None:
    with pytest.raises(ValueError, match="share must be between 0 and 1"):
        mde_people(1.0, 0.0, 1.0, 100)


def test_power_at_matches_statsmodels_for_people() -> None:
    from impactlens.estimators.power import power_at

    # se of a difference in means with n1 = n2 = 200 and sd 1: sqrt(2 / 200)
    se = math.sqrt(2 / 200)
    expected = NormalIndPower().power(effect_size=0.25, nobs1=200, alpha=0.05, ratio=1.0)
    assert power_at(0.25, se) == pytest.approx(expected, rel=1e-6)


@pytest.mark.parametrize(
    ("alpha", "power", "share", "message"),
    [
        (0.05, 0.05, 0.5, r"power \(0.05\) must be above alpha \(0.05\)"),
        (0.0, 0.8, 0.5, "alpha must be between 0 and 1"),
        (0.05, 1.0, 0.5, "power must be between 0 and 1"),
        (0.05, 0.8, 1.0, "share must be between 0 and 1"),
    ],
)
def test_check_design_refuses_impossible_targets(
    alpha: float, power: float, share: float, message: str
) -> None:
    from impactlens.estimators.power import check_design

    with pytest.raises(ValueError, match=message):
        check_design(alpha, power, share)
