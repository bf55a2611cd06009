"""Scenarios of the validation study: KpiPanels drawn directly, each with a planted effect.

One model covers every scenario. For unit i in period t (weekly periods)::

    Y_it = alpha_i + delta_t + trend * h(x_i) * t + team_kt + tau(e_it) * D_it
           + spill * tau(e_kt) * S_it + eps_it

* alpha_i = 0.8 x_i + 0.5 region_i + u_i: a stable level; units self-select on x and
  on that level (the pre-period KPI), so a naive comparison of levels is biased;
* delta_t: a common random walk (a shock every unit shares);
* trend * h(x) * t: a trend that depends on the covariate, linearly (h(x) = x) or
  not (h(x) = x^2 - 1); only adjusting for x removes it, so an unadjusted
  difference-in-differences (two-way fixed effects) is biased;
* tau(e) = effect + growth * e at event time e >= 0 (dynamic effects);
* S_it = 1 for untrained team-mates of a trained person from the team's first start
  (spillover); units may join late or leave early, and cells go missing at random.

The truth is the contract's estimand: the mean planted direct effect over the
trained units' observed post-start cells.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

import numpy as np
import pandas as pd

from impactlens.estimators.base import KpiPanel

START = pd.Timestamp("2024-01-07")


@dataclass(frozen=True)
class Scenario:
    """The knobs of one scenario; see the module docstring for the model."""

    name: str
    story: str
    n_units: int = 400
    n_periods: int = 12
    cohorts: tuple[int, ...] = (6,)
    effect: float = 1.0
    growth: float = 0.0
    share_treated: float = 0.3
    n_treated: int | None = None  # exactly this many trained units (drawn by the logit)
    select_x: float = 0.0
    select_level: float = 0.0
    trend: float = 0.0
    shape: Literal["linear", "nonlinear"] = "linear"
    unit_kind: Literal["person", "team"] = "person"
    team_size: int = 1
    team_sd: float = 0.0
    noise_sd: float = 1.0
    randomised: bool = False
    joiners: float = 0.0
    leavers: float = 0.0
    gaps: float = 0.0
    spill: float = 0.0
    training_teams: float = 1.0
    reps_share: float = 1.0  # share of the study's draws this scenario gets (slow fits)
    right: tuple[str, ...] = ()  # the estimators the study expects to recover the truth
    wrong: tuple[str, ...] = ()  # the ones it expects to fail (documented in validation.md)


@dataclass(frozen=True)
class Draw:
    """One simulated panel and its planted truth."""

    panel: KpiPanel
    truth: float
    clean_comparison: np.ndarray | None = None  # comparison units in untrained teams


CONFOUNDED = Scenario(
    "confounded",
    "self-selection on a covariate and on the pre-period KPI level; the trend depends "
    "on the covariate",
    select_x=1.0,
    select_level=0.6,
    trend=0.08,
    right=("weighted DiD", "Callaway-Sant'Anna"),
    wrong=("naive", "TWFE"),
)

SCENARIOS: dict[str, Scenario] = {
    s.name: s
    for s in (
        CONFOUNDED,
        Scenario(
            "nonlinear",
            "selection and trend both depend on x^2 (far from average either way), not on x",
            select_x=1.2,
            select_level=0.3,
            trend=0.08,
            shape="nonlinear",
            right=("weighted DiD",),
            wrong=("naive", "TWFE", "Callaway-Sant'Anna"),
        ),
        Scenario(
            "staggered",
            "three start-date cohorts (weeks 4, 8, 12 of 16), effect 0.5 growing by 0.25 a week",
            n_units=600,
            n_periods=16,
            cohorts=(4, 8, 12),
            effect=0.5,
            growth=0.25,
            share_treated=0.65,
            select_x=0.6,
            select_level=0.4,
            trend=0.05,
            right=("weighted DiD", "Callaway-Sant'Anna"),
            wrong=("naive", "TWFE"),
        ),
        Scenario(
            "team-kpi",
            "the KPI is measured per team (150 teams); teams self-select on a team covariate",
            n_units=150,
            unit_kind="team",
            noise_sd=0.4,
            select_x=1.0,
            select_level=0.5,
            trend=0.06,
            right=("weighted DiD", "Callaway-Sant'Anna"),
            wrong=("naive", "TWFE"),
        ),
        Scenario(
            "unbalanced",
            "joiners (25%, lower level) and leavers (20%), 10% cells missing, two cohorts",
            n_units=500,
            n_periods=14,
            cohorts=(5, 9),
            select_x=1.0,
            select_level=0.5,
            trend=0.06,
            joiners=0.25,
            leavers=0.2,
            gaps=0.1,
            right=("weighted DiD",),
            wrong=("naive", "TWFE"),
        ),
        Scenario(
            "spillover",
            "60 teams of 8; in 60% of the teams some people train and their untrained "
            "team-mates get half the effect",
            n_units=480,
            team_size=8,
            team_sd=0.3,
            share_treated=0.45,
            select_x=0.8,
            spill=0.5,
            training_teams=0.6,
            right=("weighted DiD, across teams",),
            wrong=("naive", "TWFE", "weighted DiD", "Callaway-Sant'Anna"),
        ),
        Scenario(
            "small-pilot",
            "16 teams of 8 randomised 8/8 (team shocks), effect 0.5: randomisation inference",
            n_units=128,
            n_periods=10,
            cohorts=(5,),
            effect=0.5,
            share_treated=0.5,
            team_size=8,
            team_sd=0.4,
            randomised=True,
            right=("randomised ANCOVA",),
        ),
        Scenario(
            "few-sites",
            "4 of 40 sites trained, chosen on their level and on a covariate that drives "
            "their trend; 40 weekly periods, 30 before the start",
            n_units=40,
            n_periods=40,
            cohorts=(30,),
            n_treated=4,
            unit_kind="team",
            noise_sd=0.5,
            select_x=0.8,
            select_level=1.0,
            trend=0.03,
            reps_share=0.5,  # synthetic DiD and control: 200 placebo fits each, ~5 s a draw
            right=("synthetic DiD",),
            wrong=("naive", "TWFE"),
        ),
        replace(
            CONFOUNDED,
            name="null",
            story="as confounded, but the program does nothing (effect 0)",
            effect=0.0,
        ),
    )
}


def draw(scenario: Scenario, seed: int) -> Draw:
    """Simulate one panel of ``scenario`` with ``seed``."""
    s, rng = scenario, np.random.default_rng(seed)
    n, p = s.n_units, s.n_periods
    team = np.arange(n) // s.team_size
    n_teams = int(team.max()) + 1
    x = rng.normal(size=n)
    region = (rng.random(n) < 0.4).astype(float)
    h = x if s.shape == "linear" else x**2 - 1.0
    level = 0.8 * x + 0.5 * region + rng.normal(size=n)
    treated = _assign(s, rng, h, level, team, n_teams)
    cohort = np.asarray(s.cohorts)[rng.integers(0, len(s.cohorts), size=n)]
    if s.randomised or s.team_size > 1:
        cohort = cohort[team * s.team_size]  # one start per team
    t = np.arange(p)
    event = t[None, :] - cohort[:, None]
    exposed = treated[:, None] & (event >= 0)
    tau = s.effect + s.growth * np.maximum(event, 0)
    y = (
        level[:, None]
        + np.cumsum(rng.normal(scale=0.5, size=p))[None, :]
        + s.trend * h[:, None] * t[None, :]
        + rng.normal(scale=s.team_sd, size=(n_teams, p))[team]
        + np.where(exposed, tau, 0.0)
        + rng.normal(scale=s.noise_sd, size=(n, p))
    )
    clean = None
    if s.spill:
        trained_team = np.bincount(team, weights=treated, minlength=n_teams) > 0
        mates = ~treated & trained_team[team]
        y += np.where(mates[:, None] & (event >= 0), s.spill * tau, 0.0)
        clean = ~treated & ~trained_team[team]
    observed = _observed(s, rng, level, n, p)
    y = y + np.where(observed.joined, -1.0, 0.0)[:, None]  # joiners start lower
    keep = observed.mask
    truth = float(tau[exposed & keep].mean()) if (exposed & keep).any() else s.effect
    return Draw(_panel(s, seed, y, keep, treated, cohort, team, x, region), truth, clean)


def _assign(
    s: Scenario,
    rng: np.random.Generator,
    h: np.ndarray,
    level: np.ndarray,
    team: np.ndarray,
    n_teams: int,
) -> np.ndarray:
    """Who trains: by arm, or self-selected on h(x) and the level (within training teams)."""
    if s.randomised:
        arms = rng.permutation(n_teams) < round(s.share_treated * n_teams)
        return np.asarray(arms[team], dtype=bool)
    z = (level - level.mean()) / level.std()
    logit = np.log(s.share_treated / (1 - s.share_treated)) + s.select_x * h + s.select_level * z
    if s.n_treated is not None:  # a few sites, drawn with odds exp(logit)
        odds = np.exp(logit - logit.max())
        chosen = rng.choice(len(h), size=s.n_treated, replace=False, p=odds / odds.sum())
        return np.isin(np.arange(len(h)), chosen)
    treated = rng.random(len(h)) < 1 / (1 + np.exp(-logit))
    if s.training_teams < 1:
        treated &= (rng.random(n_teams) < s.training_teams)[team]
    return np.asarray(treated, dtype=bool)


@dataclass(frozen=True)
class _Observed:
    mask: np.ndarray
    joined: np.ndarray


def _observed(
    s: Scenario, rng: np.random.Generator, level: np.ndarray, n: int, p: int
) -> _Observed:
    """Which cells exist: joiners enter late, leavers exit early, gaps at random."""
    t = np.arange(p)
    joined = rng.random(n) < s.joiners
    left = ~joined & (rng.random(n) < s.leavers)
    enter = np.where(joined, rng.integers(1, max(p - 4, 2), size=n), 0)
    leave = np.where(left, rng.integers(4, p, size=n), p)
    mask = (t[None, :] >= enter[:, None]) & (t[None, :] < leave[:, None])
    mask &= rng.random((n, p)) >= s.gaps
    return _Observed(mask, joined)


def _panel(
    s: Scenario,
    seed: int,
    y: np.ndarray,
    keep: np.ndarray,
    treated: np.ndarray,
    cohort: np.ndarray,
    team: np.ndarray,
    x: np.ndarray,
    region: np.ndarray,
) -> KpiPanel:
    n, p = y.shape
    periods = START + pd.to_timedelta(7 * np.arange(p), unit="D")
    ids = np.array([f"u{i:05d}" for i in range(n)])
    ui, ti = np.nonzero(keep)
    cells = pd.DataFrame(
        {"unit_id": ids[ui], "period": periods[ti], "value": y[ui, ti], "weight": 1.0}
    )
    has_first = treated | s.randomised
    units = pd.DataFrame(
        {
            "unit_id": ids,
            "group": np.where(treated, "treated", "comparison"),
            "first_period": pd.Series(periods[np.minimum(cohort, p - 1)]).where(has_first),
            "cluster": [f"t{k:04d}" for k in team] if s.team_size > 1 else ids,
            "x": x,
            "region": region,
        }
    )
    return KpiPanel(
        kpi="kpi",
        unit_kind=s.unit_kind,
        cells=cells,
        units=units,
        covariates=("x", "region"),
        randomised=s.randomised,
        seed=seed,
    )
