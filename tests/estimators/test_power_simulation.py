"""The simulation behind `pilot design`: the real estimator, and the closed form it checks."""

from __future__ import annotations

import numpy as np
import pytest

from impactlens.estimators.power import mde_people, mde_teams
from impactlens.estimators.power_simulation import (
    SimulatedDesign,
    ancova_p,
    draw,
    panel_of,
    simulated_power,
)
from impactlens.estimators.randomised import RandomisedAncova


def test_fast_fit_is_the_estimators_fit() -> None:
    """The simulation's ANCOVA equals RandomisedAncova's (cluster-robust, t(G-1))."""
    design = SimulatedDesign.build(30, 8, 0.5, sd=1.3, icc=0.15, r2=0.4)
    d = draw(design, 0.3, np.random.default_rng(5))
    effect, se, p = ancova_p(d)
    est = RandomisedAncova(small_clusters=0).fit(panel_of(d))
    assert est.effect == pytest.approx(effect, rel=1e-9)
    assert est.se == pytest.approx(se, rel=1e-9)
    assert est.p_value == pytest.approx(p, rel=1e-6)


@pytest.mark.parametrize(
    ("icc", "r2", "size"), [(0.1, 0.4, 10.0), (0.3, 0.0, 6.0), (1.0, 0.5, 1.0)]
)
def test_team_designs_reach_the_closed_form_power(icc: float, r2: float, size: float) -> None:
    """With 80 teams (t ~ z) the simulated power at the closed-form MDE is 80% within a few %."""
    mde = mde_teams(1.0, icc, r2, 0.5, 80, size)
    design = SimulatedDesign.build(80, size, 0.5, sd=1.0, icc=icc, r2=r2)
    # 600 draws: the binomial SE of a power of 0.8 is 0.016
    assert simulated_power(design, mde, 0.05, 600, seed=3) == pytest.approx(0.8, abs=0.05)


def test_people_design_reaches_the_closed_form_power() -> None:
    mde = mde_people(2.0, 0.3, 0.4, 300)
    design = SimulatedDesign.build(300, 1, 0.4, sd=2.0, icc=0.0, r2=0.3)
    assert simulated_power(design, mde, 0.05, 600, seed=4) == pytest.approx(0.8, abs=0.05)


def test_no_effect_rejects_at_about_alpha() -> None:
    design = SimulatedDesign.build(40, 5, 0.5, sd=1.0, icc=0.2, r2=0.3)
    assert simulated_power(design, 0.0, 0.05, 600, seed=6) < 0.09


def test_few_teams_lose_power_to_the_t_reference() -> None:
    """With 10 teams the t(9) test has visibly less power than the z-based closed form."""
    mde = mde_teams(1.0, 1.0, 0.0, 0.5, 10, 1)
    design = SimulatedDesign.build(10, 1, 0.5, sd=1.0, icc=1.0, r2=0.0)
    assert simulated_power(design, mde, 0.05, 600, seed=7) < 0.75
