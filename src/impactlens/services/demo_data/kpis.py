"""Weekly KPI panels: unit fixed effects, regional seasons, team shocks, noise and gaps.

Each KPI is first drawn without any program (a :class:`KpiPanel`), so that
enrolment can select on a unit's level; the program's planted effect is added
when the panel is realised into rows.  Nothing here depends on who is trained
except through the ``effect`` matrix, so trends are parallel by construction.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from impactlens.services.demo_data.timeline import DAY, iso, seasonality

CELL_GAP_RATE = 0.012  # share of (unit, week) cells missing at random
GLOBAL_GAPS = 2  # whole weeks missing for every unit (a reporting outage)


@dataclass(frozen=True)
class KpiPanel:
    """A KPI on a units x periods grid, before the program's effect is added.

    ``realise(expected + effect)`` draws the observed values; the planted effect of a
    cell is its shift of the expected value, after the KPI's natural bounds.
    """

    kpi: str
    unit_ids: np.ndarray
    periods: np.ndarray
    level: np.ndarray  # the unit fixed effect (what high performers self-select on)
    expected: np.ndarray  # units x periods, without the program
    observed: np.ndarray  # units x periods, True where a row is written
    weight: np.ndarray | None
    bound: Callable[[np.ndarray], np.ndarray]
    realise: Callable[[np.ndarray], np.ndarray]

    def frame(self, effect: np.ndarray | None = None) -> pd.DataFrame:
        """Rows ``kpi, unit_id, period, value[, weight]`` plus the internal ``effect``.

        ``effect`` is the planted effect matrix (zero when None); the returned
        ``effect`` column is each written cell's true shift of the expected value.
        """
        effect = np.zeros_like(self.expected) if effect is None else effect
        treated = self.bound(self.expected + effect)
        cell_effect = treated - self.bound(self.expected)
        values = self.realise(treated)
        rows, cols = np.nonzero(self.observed)
        out = pd.DataFrame(
            {
                "kpi": self.kpi,
                "unit_id": self.unit_ids[rows],
                "period": iso(self.periods)[cols],
                "value": values[rows, cols],
            }
        )
        if self.weight is not None:
            out["weight"] = self.weight[rows, cols]
        out["effect"] = cell_effect[rows, cols]
        return out


def _ar1(rng: np.random.Generator, rows: int, cols: int, sd: float, rho: float) -> np.ndarray:
    """Stationary AR(1) series (marginal SD ``sd``) for shocks that persist a few weeks."""
    eps = rng.normal(0.0, sd * np.sqrt(1 - rho**2), (rows, cols))
    out = np.empty((rows, cols))
    out[:, 0] = rng.normal(0.0, sd, rows)
    for t in range(1, cols):
        out[:, t] = rho * out[:, t - 1] + eps[:, t]
    return out


def _standardise(x: np.ndarray) -> np.ndarray:
    sd = x.std()
    return (x - x.mean()) / (sd if sd > 0 else 1.0)


def _observed(
    rng: np.random.Generator,
    periods: np.ndarray,
    hire: np.ndarray | None = None,
    termination: np.ndarray | None = None,
    rows: int | None = None,
) -> np.ndarray:
    """Which cells are written: while employed, minus outage weeks and random gaps."""
    n = len(hire) if hire is not None else int(rows or 0)
    seen = rng.random((n, len(periods))) >= CELL_GAP_RATE
    outage = rng.choice(np.arange(4, len(periods) - 4), size=GLOBAL_GAPS, replace=False)
    seen[:, outage] = False
    if hire is not None:
        seen &= periods[None, :] >= hire[:, None]
    if termination is not None:
        # a leaver's last week is the one in which they left
        last = np.where(np.isnat(termination), periods[-1], termination + 6 * DAY)
        seen &= periods[None, :] <= last[:, None]
    return seen


def _dates(frame: pd.DataFrame, column: str) -> np.ndarray:
    return frame[column].to_numpy().astype("datetime64[D]")


def csat_panel(
    rng: np.random.Generator, agents: pd.DataFrame, periods: np.ndarray, teams: int
) -> KpiPanel:
    """Weekly CSAT (0-100) per agent, with ``weight`` = number of rated contacts.

    The level rises with tenure (seniors are better) plus a large personal part;
    part-timers get fewer ratings, so their weekly mean is noisier.
    """
    n, t = len(agents), len(periods)
    tenure = _standardise(np.log(agents["tenure_years"].to_numpy() + 0.25))
    level = 1.2 * tenure + rng.normal(0.0, 5.0, n)
    team_shock = _ar1(rng, teams, t, sd=1.0, rho=0.6)[agents["team_index"].to_numpy()]
    common = rng.normal(0.0, 0.4, t) + np.linspace(0.0, 0.6, t)
    season = seasonality(agents["location"].to_numpy(), periods, 1.2)
    expected = 74.0 + level[:, None] + season + common[None, :] + team_shock
    ratings = 3 + rng.poisson(16.0 * agents["fte"].to_numpy()[:, None], (n, t))
    noise = rng.normal(0.0, 1.0, (n, t)) * 9.0 / np.sqrt(ratings)
    observed = _observed(rng, periods, _dates(agents, "hire"), _dates(agents, "termination"))

    def bound(mean: np.ndarray) -> np.ndarray:
        # the noise is part of the bounded score, so a cell's effect is exact per cell
        return np.clip(mean + noise, 0.0, 100.0)

    return KpiPanel(
        kpi="csat",
        unit_ids=agents["person_id"].to_numpy(),
        periods=periods,
        level=level,
        expected=expected,
        observed=observed,
        weight=ratings,
        bound=bound,
        realise=lambda scores: np.round(scores, 1),
    )


def deals_panel(
    rng: np.random.Generator, reps: pd.DataFrame, periods: np.ndarray, teams: int
) -> KpiPanel:
    """Weekly deals closed per sales rep: Poisson counts around an additive mean."""
    n, t = len(reps), len(periods)
    tenure = _standardise(np.log(reps["tenure_years"].to_numpy() + 0.25))
    level = 0.3 * tenure + rng.normal(0.0, 1.1, n)
    team_shock = _ar1(rng, teams, t, sd=0.35, rho=0.5)[reps["team_index"].to_numpy()]
    common = rng.normal(0.0, 0.15, t)
    season = seasonality(reps["location"].to_numpy(), periods, 0.45)
    fte = reps["fte"].to_numpy()[:, None]
    expected = (4.2 + level[:, None] + season + common[None, :] + team_shock) * fte
    observed = _observed(rng, periods, _dates(reps, "hire"), _dates(reps, "termination"))
    seed = int(rng.integers(2**62))

    def realise(mean: np.ndarray) -> np.ndarray:
        # a fresh generator per call: the same expected values give the same counts
        return np.random.default_rng(seed).poisson(mean)

    return KpiPanel(
        kpi="deals_closed",
        unit_ids=reps["person_id"].to_numpy(),
        periods=periods,
        level=level,
        expected=expected,
        observed=observed,
        weight=None,
        bound=lambda mean: np.maximum(mean, 0.2),
        realise=realise,
    )


def complaints_panel(
    rng: np.random.Generator, teams: pd.DataFrame, drivers_fte: np.ndarray, periods: np.ndarray
) -> KpiPanel:
    """Weekly complaints per 100 deliveries per Field Ops team, ``weight`` = deliveries.

    Teams drift slowly (a random walk) on top of their level, so a team pilot's
    estimate is honest but not razor sharp.
    """
    n, t = len(teams), len(periods)
    level = rng.normal(0.0, 0.7, n)
    drift = np.cumsum(rng.normal(0.0, 0.06, (n, t)), axis=1)
    shock = _ar1(rng, n, t, sd=0.3, rho=0.5)
    common = rng.normal(0.0, 0.1, t)
    season = seasonality(teams["location"].to_numpy(), periods, 0.6)
    expected = 4.2 + level[:, None] + season + common[None, :] + shock + drift
    volume = 115.0 * drivers_fte[:, None] * (1.0 + season / 6.0)
    deliveries = np.maximum(rng.poisson(np.maximum(volume, 20.0)), 1)
    observed = _observed(rng, periods, rows=n)
    seed = int(rng.integers(2**62))

    def realise(rate: np.ndarray) -> np.ndarray:
        complaints = np.random.default_rng(seed).poisson(deliveries * rate / 100.0)
        return np.round(100.0 * complaints / deliveries, 3)

    return KpiPanel(
        kpi="complaints_per_100",
        unit_ids=teams["team_id"].to_numpy(),
        periods=periods,
        level=level,
        expected=expected,
        observed=observed,
        weight=deliveries,
        bound=lambda rate: np.maximum(rate, 0.2),
        realise=realise,
    )
