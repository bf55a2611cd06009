"""The estimator seam: a tidy KPI panel in, an immutable estimate out.

Every estimator takes a :class:`KpiPanel` and returns an :class:`Estimate`. The
estimand is the contract's: the average effect on the trained, in the KPI's own
units, per unit and per period, over all observed post-start (trained unit, period)
cells; with staggered cohorts that is the "simple" aggregation of group-time effects.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal, Protocol

import numpy as np
import pandas as pd

Group = Literal["treated", "comparison"]


@dataclass(frozen=True)
class KpiPanel:
    """One KPI's panel for one program, built by the analysis from the store.

    ``cells``: one row per (unit, period) observation, sorted by unit_id, period::

        unit_id: str   period: datetime64[ns]   value: float   weight: float (1.0 if none)

    ``units``: one row per unit in either group, sorted by unit_id::

        unit_id: str
        group: "treated" | "comparison"
        first_period: datetime64 or NaT  first exposed period (treated; and randomised
                      controls, whose assignment date splits pre/post); NaT for
                      observational comparison units, which are never exposed
        cluster: str  level of assignment / dependence (team for people, unit for teams)
        <covariates>: float columns named in ``covariates`` (categories already one-hot)

    ``randomised`` is True when the program's rows carry ``arm`` (intention to treat).
    """

    kpi: str
    unit_kind: Literal["person", "team"]
    cells: pd.DataFrame
    units: pd.DataFrame
    covariates: tuple[str, ...] = ()
    randomised: bool = False
    seed: int = 0

    @property
    def periods(self) -> np.ndarray:
        """All periods present, sorted."""
        return np.sort(self.cells["period"].unique())

    def n(self, group: Group) -> int:
        """Number of units in ``group``."""
        return int((self.units["group"] == group).sum())


@dataclass(frozen=True)
class Estimate:
    """An estimator's answer for one KPI. Immutable; ``summary()`` for people."""

    kpi: str
    method: str
    effect: float | None
    ci_low: float | None
    ci_high: float | None
    p_value: float | None
    se: float | None
    n_treated: int
    n_comparison: int
    randomised: bool = False
    has_comparison: bool = True
    n_pre_periods: int = 0
    n_post_periods: int = 0
    pretrend_p: float | None = None
    max_smd_before: float | None = None
    max_smd_after: float | None = None
    trimmed_share: float | None = None
    pre_mean_treated: float | None = None
    balance: pd.DataFrame | None = None
    event_study: pd.DataFrame | None = None
    assumptions: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    diagnostics: dict[str, Any] = field(default_factory=dict)

    def summary(self) -> str:
        """A short text a person reads."""
        if self.effect is None:
            return f"{self.kpi}: no estimate ({self.method}); " + "; ".join(self.notes)
        p = "n/a" if self.p_value is None else f"{self.p_value:.3g}"
        # an effect without a standard error (e.g. one trained unit) has no interval
        ci = (
            "no interval"
            if self.ci_low is None or self.ci_high is None
            else f"95% CI {self.ci_low:+.4g} to {self.ci_high:+.4g}"
        )
        return (
            f"{self.kpi}: effect {self.effect:+.4g} ({ci}, p = {p}) by {self.method}; "
            f"{self.n_treated} trained vs {self.n_comparison} comparison units"
        )


class Estimator(Protocol):
    """What every estimator offers."""

    name: ClassVar[str]

    def fit(self, panel: KpiPanel) -> Estimate:
        """Estimate the effect on the trained for ``panel``."""
        ...
