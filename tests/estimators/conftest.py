"""Simulated KPI panels with a planted effect, for the estimator tests.

The model, for unit i in period t (weekly periods)::

    Y_it = alpha_i + delta_t + slope_x * x_i * t + team_it + effect * D_it
           + pretrend * T_i * t + eps_it

with unit levels alpha_i shifted by ``level_shift`` for the treated (self-selection
on levels), a common random-walk period effect delta_t, an optional trend that
depends on the covariate x (confounding that only weighting on x removes), team
shocks shared by the members of a team in each period, and D_it = 1 from each
treated unit's first exposed period on. ``missing`` drops that share of cells at
random (an unbalanced panel).
"""

from __future__ import annotations

import importlib.metadata
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd
import pytest

from impactlens.estimators.base import KpiPanel

START = pd.Timestamp("2024-01-07")


def simulate_panel(
    seed: int = 0,
    *,
    n_units: int = 400,
    n_periods: int = 12,
    effect: float = 1.0,
    share_treated: float = 0.3,
    level_shift: float = 0.0,
    select_on_x: float = 0.0,
    slope_x: float = 0.0,
    cohorts: Sequence[int] = (6,),
    n_teams: int | None = None,
    team_sd: float = 0.0,
    noise_sd: float = 1.0,
    missing: float = 0.0,
    pretrend: float = 0.0,
    randomised: bool = False,
    no_comparison: bool = False,
) -> KpiPanel:
    """Build a KpiPanel with a known constant effect ``effect`` per post cell."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n_units)
    region = (rng.random(n_units) < 0.4).astype(float)
    team = rng.integers(0, n_teams, size=n_units) if n_teams else np.arange(n_units)
    if randomised and n_teams:
        team_treated = rng.random(n_teams) < share_treated
        treated = team_treated[team]
    elif randomised:
        treated = rng.random(n_units) < share_treated
    else:
        logit = np.log(share_treated / (1 - share_treated)) + select_on_x * x
        treated = rng.random(n_units) < 1 / (1 + np.exp(-logit))
    if no_comparison:
        treated = np.ones(n_units, dtype=bool)
    cohort = np.asarray(cohorts)[rng.integers(0, len(cohorts), size=n_units)]
    alpha = level_shift * treated + 0.8 * x + 0.5 * region + rng.normal(size=n_units)
    delta = np.cumsum(rng.normal(scale=0.5, size=n_periods))
    t = np.arange(n_periods)
    team_shock = rng.normal(scale=team_sd, size=(team.max() + 1, n_periods))
    exposed = (t[None, :] >= cohort[:, None]) & treated[:, None]
    y = (
        alpha[:, None]
        + delta[None, :]
        + slope_x * x[:, None] * t[None, :]
        + team_shock[team]
        + effect * exposed
        + pretrend * treated[:, None] * t[None, :]
        + rng.normal(scale=noise_sd, size=(n_units, n_periods))
    )
    unit_ids = np.array([f"u{i:06d}" for i in range(n_units)])
    periods = START + pd.to_timedelta(7 * t, unit="D")
    keep = rng.random((n_units, n_periods)) >= missing
    ui, ti = np.nonzero(keep)
    cells = pd.DataFrame(
        {
            "unit_id": unit_ids[ui],
            "period": periods[ti],
            "value": y[ui, ti],
            "weight": 1.0,
        }
    )
    has_first = treated | randomised
    first = pd.Series(periods[np.minimum(cohort, n_periods - 1)]).where(has_first)
    units = pd.DataFrame(
        {
            "unit_id": unit_ids,
            "group": np.where(treated, "treated", "comparison"),
            "first_period": first.to_numpy(),
            "cluster": [f"t{k}" for k in team] if n_teams else unit_ids,
            "x": x,
            "region": region,
        }
    )
    return KpiPanel(
        kpi="kpi",
        unit_kind="person",
        cells=cells,
        units=units,
        covariates=("x", "region"),
        randomised=randomised,
        seed=seed,
    )


@pytest.fixture
def simulate() -> Callable[..., KpiPanel]:
    """The panel simulator, as a fixture."""

    def build(seed: int = 0, **kwargs: Any) -> KpiPanel:
        return simulate_panel(seed, **kwargs)

    return build


def prop99_panel() -> KpiPanel:
    """California Proposition 99 (Abadie et al. 2010; Arkhangelsky et al. 2021, Table 1).

    Per-capita cigarette packs of 39 states, 1970-2000, California treated from 1989,
    read from the copy the ``causalpy`` package ships (installed as test data only;
    never imported, its modelling dependencies are absent).
    """
    path = importlib.metadata.distribution("causalpy").locate_file(
        "causalpy/data/california_prop99.csv"
    )
    wide = pd.read_csv(str(path))
    long = wide.melt(id_vars="Year", var_name="unit_id", value_name="value")
    long["period"] = pd.to_datetime(long["Year"].astype(str) + "-01-01")
    long["weight"] = 1.0
    cells = long.sort_values(["unit_id", "period"])[["unit_id", "period", "value", "weight"]]
    states = sorted(wide.columns.drop("Year"))
    units = pd.DataFrame(
        {
            "unit_id": states,
            "group": ["treated" if s == "California" else "comparison" for s in states],
            "first_period": [
                pd.Timestamp("1989-01-01") if s == "California" else pd.NaT for s in states
            ],
            "cluster": states,
        }
    )
    return KpiPanel("packs_per_capita", "team", cells.reset_index(drop=True), units, seed=1)


@pytest.fixture(scope="session")
def prop99() -> KpiPanel:
    """The Proposition 99 panel, as a fixture."""
    return prop99_panel()
