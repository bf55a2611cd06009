"""Synthetic control and synthetic difference-in-differences for one or a few treated units.

A site, a region or a handful of teams with long KPI series: the comparison is a
weighted blend of untrained units whose KPI tracked the trained units' before the
start (Abadie, Diamond & Hainmueller 2010; Arkhangelsky, Athey, Hirshberg, Imbens &
Wager 2021, AER 111(12)). Weights and solver: ``synthetic_weights``; placebo,
jackknife and permutation inference: ``synthetic_inference``.

The panel is cut into one balanced block per start-date cohort: the periods in
which the cohort's trained units are observed, and the comparison units observed in
every one of those periods (others are left out, with a note). The effect is the
cohorts' effects averaged by their trained post cells, which is the contract's
estimand (the mean over trained post-start cells of actual minus counterfactual).
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import pandas as pd
from scipy import stats

from impactlens.estimators.base import Estimate, Estimator, KpiPanel
from impactlens.estimators.evidence import MIN_UNITS
from impactlens.estimators.grid import PanelGrid, panel_facts
from impactlens.estimators.inference import Interval, normal_interval
from impactlens.estimators.matched_did import WeightedDiffInDiff
from impactlens.estimators.propensity import balance_table
from impactlens.estimators.synthetic_cohorts import Cohort, build_cohorts
from impactlens.estimators.synthetic_covariates import adjust_cohorts, covariate_matrix
from impactlens.estimators.synthetic_inference import (
    aggregate,
    in_time_placebo,
    jackknife_df,
    jackknife_se,
    jackknife_taus,
    placebo_taus,
    rmspe_ratio_p,
)
from impactlens.estimators.synthetic_weights import Design, SyntheticFit, fit_block

TOP_DONORS = 10
# auto picks a synthetic comparison for fewer trained units than the evidence rules'
# minimum group size, given a pool and a pre-period long enough to fit weights on
AUTO_MAX_TREATED = MIN_UNITS - 1
AUTO_MIN_COMPARISON = 5
AUTO_MIN_PRE = 5
# each placebo replication solves a problem with one weight per comparison unit and an
# N0 x N0 Gram matrix: beyond this pool a weighted DiD is the practical choice
MAX_COMPARISON = 500

_ADJUSTED = (
    "covariates adjusted for: the trend each covariate predicts, estimated period by "
    "period on the untrained units, is taken out before the weights are fitted "
    "(projected covariates, Kranz 2022; Clarke et al. 2023)"
)
ASSUMPTIONS_SDID = (
    "A weighted blend of untrained units, shifted by a constant, would have followed "
    "the trained units' KPI without the program (weights fitted on the pre-period), "
    "once the trend each covariate predicts is taken out.",
    "The pre-periods weighted most resemble the post-period (time weights).",
    "No anticipation, and no spillover onto the untrained units in the blend.",
    "Untrained units are exchangeable enough that reassigning the program among them "
    "at random gives the effect's noise (placebo inference).",
)
ASSUMPTIONS_SC = (
    "A weighted blend of untrained units (weights >= 0, summing to one) reproduces the "
    "trained units' KPI level and path before the start, and would have after it.",
    "No anticipation, and no spillover onto the untrained units in the blend.",
    "Untrained units are exchangeable enough to serve as placebos for inference.",
)


class _Synthetic:
    """The shared fit of synthetic control and synthetic DiD."""

    name: ClassVar[str]
    design: ClassVar[Design]
    assumptions: ClassVar[tuple[str, ...]]

    def __init__(self, replications: int = 200) -> None:
        """Choose the number of placebo replications (the paper and synthdid use 200)."""
        self.replications = replications

    def fit(self, panel: KpiPanel) -> Estimate:
        """Estimate the effect on the trained for ``panel``."""
        grid = PanelGrid.from_panel(panel)
        facts = panel_facts(grid)
        base: dict[str, Any] = {
            "kpi": panel.kpi,
            "method": self.name,
            "n_treated": int(grid.treated.sum()),
            "n_comparison": int((~grid.treated).sum()),
            "n_pre_periods": facts.n_pre_periods,
            "n_post_periods": facts.n_post_periods,
            "pre_mean_treated": facts.pre_mean_treated,
            "assumptions": self.assumptions,
        }
        built = build_cohorts(grid)
        if isinstance(built, str):
            return _empty(base, (built,))
        cohorts, control_rows, treated_rows, notes = built
        if len(control_rows) > MAX_COMPARISON:
            return _empty(
                base,
                (
                    f"{len(control_rows):,} untrained units are more than the "
                    f"{MAX_COMPARISON:,} a synthetic comparison weighs one by one",
                ),
            )
        raw = cohorts
        if self.design == "sdid" and panel.covariates:
            cohorts, skipped = _adjust(panel, grid, cohorts, control_rows, treated_rows)
            notes.append(skipped or _ADJUSTED)
        fits = [fit_block(c.y_c, c.treated_mean(), c.t0, c.n_treated, self.design) for c in cohorts]
        cells = np.array([c.post_cells for c in cohorts])
        tau = float(aggregate(np.array([f.tau for f in fits]), cells))
        rng = np.random.default_rng(panel.seed)
        placebo = placebo_taus(cohorts, fits, self.design, rng, self.replications)
        jack = jackknife_taus(cohorts, fits)
        diag: dict[str, Any] = {
            "placebo_se": None if placebo is None else float(placebo.std()),
            "placebo_replications": 0 if placebo is None else self.replications,
            "jackknife_se": None if jack is None else jackknife_se(jack),
        }
        # Jackknife (Algorithm 3) wherever it is defined (two or more trained units);
        # placebo (Algorithm 4) with one trained unit. Both SEs go to the diagnostics.
        # The jackknife's interval uses a t quantile: with few trained units its
        # variance is estimated from them alone (``jackknife_df``).
        if jack is not None:
            diag["inference"] = (
                "jackknife (Arkhangelsky et al. 2021, Algorithm 3), Student-t interval "
                "on Welch-Satterthwaite degrees of freedom"
            )
            se: float | None = diag["jackknife_se"]
        elif placebo is not None:
            diag["inference"] = "placebo (Arkhangelsky et al. 2021, Algorithm 4)"
            se = diag["placebo_se"]
        else:
            diag["inference"] = "none"
            se = None
            notes.append(
                "no standard error: the placebo needs more comparison units than trained "
                "units, and the jackknife needs two trained units"
            )
        ci = normal_interval(tau, None if se is None else se**2)
        if jack is not None and ci.se:
            diag["jackknife_df"] = jackknife_df(jack, len(control_rows))
            ci = t_interval(tau, ci.se, diag["jackknife_df"])
        p_value = ci.p_value
        if self.design == "sc" and len(cohorts) == 1:
            p_value, diag["rmspe_ratio"] = rmspe_ratio_p(cohorts[0], fits[0])
            diag["p_value_kind"] = "in-space placebo rank of the post/pre RMSPE ratio"
        pre_test = in_time_placebo(cohorts, self.design, rng, self.replications)
        pretrend_p = None
        if pre_test is not None:
            fake = normal_interval(pre_test[0], None if pre_test[1] is None else pre_test[1] ** 2)
            diag["pre_period_placebo_effect"] = fake.effect
            pretrend_p = fake.p_value
        diag["covariate_adjusted"] = raw is not cohorts
        diag |= _describe(grid, raw, cohorts, fits, control_rows, panel.unit_kind == "team")
        balance = _balance(panel, grid, control_rows, treated_rows, cohorts, fits)
        base |= {"n_treated": len(treated_rows), "n_comparison": len(control_rows)}
        return Estimate(
            **base,
            effect=tau,
            ci_low=ci.ci_low,
            ci_high=ci.ci_high,
            p_value=p_value,
            se=ci.se,
            max_smd_before=_max_abs(balance, "smd_before"),
            max_smd_after=_max_abs(balance, "smd_after"),
            trimmed_share=0.0,
            pretrend_p=pretrend_p,
            balance=balance,
            notes=tuple(notes),
            diagnostics=diag,
        )


class SyntheticDiffInDiff(_Synthetic):
    """Synthetic difference-in-differences (Arkhangelsky et al. 2021).

    Examples:
        >>> SyntheticDiffInDiff.name
        'synthetic difference-in-differences'
    """

    name: ClassVar[str] = "synthetic difference-in-differences"
    design: ClassVar[Design] = "sdid"
    assumptions: ClassVar[tuple[str, ...]] = ASSUMPTIONS_SDID


class SyntheticControl(_Synthetic):
    """Synthetic control (Abadie, Diamond & Hainmueller 2010), KPI path only.

    Examples:
        >>> SyntheticControl.name
        'synthetic control'
    """

    name: ClassVar[str] = "synthetic control"
    design: ClassVar[Design] = "sc"
    assumptions: ClassVar[tuple[str, ...]] = ASSUMPTIONS_SC


def synthetic_fits(panel: KpiPanel) -> bool:
    """Whether ``comparison.method: auto`` should use synthetic DiD for ``panel``.

    True for 1 to ``AUTO_MAX_TREATED`` trained units with at least
    ``AUTO_MIN_COMPARISON`` (and at most ``MAX_COMPARISON``) untrained units and
    ``AUTO_MIN_PRE`` pre-periods.
    """
    n_c = panel.n("comparison")
    if not (1 <= panel.n("treated") <= AUTO_MAX_TREATED and n_c >= AUTO_MIN_COMPARISON):
        return False  # decided before building the grid of a large panel
    if n_c > MAX_COMPARISON:
        return False
    return panel_facts(PanelGrid.from_panel(panel)).n_pre_periods >= AUTO_MIN_PRE


def synthetic_choice(panel: KpiPanel, *, asked: bool) -> tuple[Estimator, str]:
    """Synthetic DiD and why; weighted DiD when the pool is too large to weigh one by one."""
    n_c = panel.n("comparison")
    if n_c > MAX_COMPARISON:
        kind = {"team": "teams", "person": "people"}[panel.unit_kind]
        return WeightedDiffInDiff(), (
            f"the plan asks for a synthetic comparison, but {n_c:,} untrained {kind} are "
            f"more than the {MAX_COMPARISON:,} a synthetic blend weighs one by one: "
            "difference-in-differences weighted by propensity score instead"
        )
    return SyntheticDiffInDiff(), synthetic_why(panel, asked=asked)


def synthetic_why(panel: KpiPanel, *, asked: bool) -> str:
    """Why synthetic DiD was chosen, in words, naming the few-units limitation.

    Examples:
        >>> units = pd.DataFrame({"unit_id": ["a", "b"], "group": ["treated", "comparison"],
        ...     "first_period": pd.to_datetime(["2024-01-07", None]), "cluster": ["a", "b"]})
        >>> cells = pd.DataFrame(columns=["unit_id", "period", "value", "weight"])
        >>> synthetic_why(KpiPanel("k", "team", cells, units), asked=True)[:51]
        'the plan asks for a synthetic comparison: 1 trained'
    """
    n_t, n_c = panel.n("treated"), panel.n("comparison")
    n_pre = panel_facts(PanelGrid.from_panel(panel)).n_pre_periods
    kind = {"team": "teams", "person": "people"}[panel.unit_kind]
    lead = (
        "the plan asks for a synthetic comparison"
        if asked
        else "few trained units with a long KPI series"
    )
    why = (
        f"{lead}: {n_t} trained and {n_c} untrained {kind} over {n_pre} pre-periods; "
        "synthetic difference-in-differences (Arkhangelsky et al. 2021) weights the "
        "untrained units and the pre-periods so the blend tracks the trained units "
        "before the start"
    )
    if n_t < MIN_UNITS:
        why += (
            f"; with fewer than {MIN_UNITS} trained units the evidence is graded "
            "none whatever the fit, so read the effect as indicative"
        )
    return why


def _adjust(
    panel: KpiPanel,
    grid: PanelGrid,
    cohorts: list[Cohort],
    control_rows: np.ndarray,
    treated_rows: np.ndarray,
) -> tuple[list[Cohort], str | None]:
    """The blocks with the covariates' trends taken out (``synthetic_covariates``)."""
    columns = panel.units[list(panel.covariates)]
    x_all = covariate_matrix(columns.apply(pd.to_numeric, errors="coerce").to_numpy(float))
    # build_cohorts keeps each cohort's treated rows in grid order, as treated_rows is
    by_cohort = [treated_rows[grid.first[treated_rows] == c.start] for c in cohorts]
    return adjust_cohorts(cohorts, x_all, control_rows, by_cohort)


def t_interval(effect: float, se: float, df: float, level: float = 0.95) -> Interval:
    """Interval and two-sided p-value with Student's t quantile on ``df`` degrees of freedom.

    Examples:
        >>> r = t_interval(1.0, 0.5, 3.0)
        >>> round(r.ci_low, 3), round(r.ci_high, 3), round(r.p_value, 3)
        (-0.591, 2.591, 0.139)
    """
    if not np.isfinite(df):
        return normal_interval(effect, se**2, level)
    q = float(stats.t.ppf(0.5 + level / 2, df))
    p = float(2 * stats.t.sf(abs(effect) / se, df))
    return Interval(effect, se, effect - q * se, effect + q * se, p)


def _describe(
    grid: PanelGrid,
    raw: list[Cohort],
    cohorts: list[Cohort],
    fits: list[SyntheticFit],
    control_rows: np.ndarray,
    name_units: bool,
) -> dict[str, Any]:
    """Top donors, pre-period fit and the actual vs synthetic path of the largest cohort.

    Donors are named for team (site, region) panels only: a person's id stays out.
    ``raw`` are the blocks before any covariate adjustment: the path shows the KPI
    itself, the synthetic path shifted by the adjustment the trained units got.
    """
    g = int(np.argmax([c.post_cells for c in cohorts]))
    cohort, fit = cohorts[g], fits[g]
    order = np.argsort(-fit.omega, kind="stable")[:TOP_DONORS]
    actual = raw[g].treated_mean()
    synthetic = fit.synthetic + actual - cohort.treated_mean()
    gap = actual[: cohort.t0] - synthetic[: cohort.t0]
    periods = pd.to_datetime(grid.periods[cohort.cols])
    return {
        "top_donors": [
            {
                "unit_id": str(grid.unit_ids[control_rows[i]]) if name_units else f"donor {k}",
                "weight": round(float(fit.omega[i]), 4),
            }
            for k, i in enumerate(order, start=1)
            if fit.omega[i] > 0
        ],
        "n_donors": int((fit.omega > 0).sum()),
        "pre_rmspe": float(np.sqrt(np.mean(gap**2))),
        "time_weights": {
            periods[i].date().isoformat(): round(float(fit.lam[i]), 4)
            for i in np.flatnonzero(fit.lam > 0)
        },
        "cohort_effects": [
            {
                "start": pd.Timestamp(grid.periods[c.start]).date().isoformat(),
                "n_treated": c.n_treated,
                "effect": f.tau,
            }
            for c, f in zip(cohorts, fits, strict=True)
        ],
        "synthetic_launch": periods[cohort.t0].date().isoformat(),
        "synthetic_path": [
            {"period": p.date().isoformat(), "actual": float(a), "synthetic": float(s)}
            for p, a, s in zip(periods, actual, synthetic, strict=True)
        ],
    }


def _balance(
    panel: KpiPanel,
    grid: PanelGrid,
    control_rows: np.ndarray,
    treated_rows: np.ndarray,
    cohorts: list[Cohort],
    fits: list[SyntheticFit],
) -> pd.DataFrame | None:
    """Covariate balance of the trained units against the synthetic weights."""
    if not panel.covariates:
        return None
    rows = np.concatenate([treated_rows, control_rows])
    weight = np.zeros(len(grid.unit_ids))
    weight[treated_rows] = 1.0
    cells = np.array([c.post_cells for c in cohorts])
    # several cohorts: each cohort's synthetic weights, averaged as the effect is
    weight[control_rows] = sum(f.omega * w for f, w in zip(fits, cells / cells.sum(), strict=True))
    features = panel.units[list(panel.covariates)].iloc[rows].reset_index(drop=True)
    return balance_table(features, grid.treated[rows], weight[rows])


def _max_abs(balance: pd.DataFrame | None, column: str) -> float | None:
    if balance is None or balance.empty:
        return None
    values = balance[column].abs().dropna()
    return float(values.max()) if len(values) else None


def _empty(fields: dict[str, Any], notes: tuple[str, ...]) -> Estimate:
    return Estimate(
        **fields, effect=None, ci_low=None, ci_high=None, p_value=None, se=None, notes=notes
    )
