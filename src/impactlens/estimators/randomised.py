"""Intention-to-treat effect of a randomised pilot by unit-level ANCOVA."""

from __future__ import annotations

import warnings
from dataclasses import replace
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from impactlens.estimators.base import Estimate, KpiPanel
from impactlens.estimators.comparison_path import ComparisonPath
from impactlens.estimators.detectable import detectable_effects
from impactlens.estimators.event_study import event_study
from impactlens.estimators.grid import PanelGrid, panel_facts
from impactlens.estimators.inference import Interval
from impactlens.estimators.propensity import PRE_MEAN, balance_table
from impactlens.estimators.randomisation_inference import randomisation_test
from impactlens.estimators.sensitivity import e_value, pooled_sd

# Below this many clusters the randomisation interval is the one reported; cluster-
# robust t intervals are unreliable with fewer (Cameron & Miller 2015, section VI).
SMALL_CLUSTERS = 40

ASSUMPTIONS = (
    "Random assignment: the arms differ only by chance.",
    "Intention to treat: the effect is of being assigned to training, whatever each unit did.",
    "No spillover: training one arm does not change the other arm's KPI.",
)


class RandomisedAncova:
    """ANCOVA of each unit's post-period mean on its arm and pre-period mean.

    ``post_i = a + tau T_i + b pre_i (+ c missing_pre_i)``, weighted least squares
    with weight = the unit's post-period cell weight (so tau targets the cell-average
    effect), cluster-robust errors at the panel's ``cluster`` (the unit of
    randomisation). ANCOVA on the baseline is the efficient analysis of a
    pre/post randomised trial (Frison & Pocock 1992, Statistics in Medicine 11:1685).

    Examples:
        >>> RandomisedAncova.name
        'randomised ANCOVA (intention to treat)'
    """

    name: ClassVar[str] = "randomised ANCOVA (intention to treat)"

    def __init__(self, small_clusters: int = SMALL_CLUSTERS) -> None:
        """Report randomisation inference when there are fewer than ``small_clusters``."""
        self.small_clusters = small_clusters

    def fit(self, panel: KpiPanel) -> Estimate:
        """Estimate the intention-to-treat effect for ``panel``."""
        grid = PanelGrid.from_panel(panel)
        facts = panel_facts(grid)
        rows = np.arange(len(grid.unit_ids))
        notes: list[str] = []
        if not (grid.has_first | grid.treated).all():
            # A control without an assignment date splits at the earliest treated start.
            fallback = grid.earliest_start()
            first = np.where(grid.has_first, grid.first, fallback)
            grid = replace(grid, first=first, has_first=np.ones(len(first), dtype=bool))
            notes.append("control units without an assignment date split at the earliest start")
        pre, post = grid.pre_post_masks(rows)
        pre_mean, _ = grid.unit_means(rows, pre)
        post_mean, post_w = grid.unit_means(rows, post)
        used = post_w > 0
        t = grid.treated.astype(float)
        n_t, n_c = int((used & grid.treated).sum()), int((used & ~grid.treated).sum())
        features = pd.DataFrame(
            {c: pd.to_numeric(panel.units[c], errors="coerce") for c in panel.covariates}
        ).reset_index(drop=True)
        features[PRE_MEAN] = pre_mean
        balance = balance_table(features.astype(float), grid.treated, np.ones(len(rows)))
        balance["smd_after"] = balance["smd_before"]
        smd = balance["smd_before"]
        fields: dict[str, Any] = {
            "kpi": panel.kpi,
            "method": self.name,
            "n_treated": n_t,
            "n_comparison": n_c,
            "randomised": True,
            "n_pre_periods": facts.n_pre_periods,
            "n_post_periods": facts.n_post_periods,
            "pre_mean_treated": facts.pre_mean_treated,
            "balance": balance,
            "max_smd_before": None if smd.isna().any() else float(smd.abs().max()),
            "max_smd_after": None if smd.isna().any() else float(smd.abs().max()),
            "trimmed_share": 0.0,
            "assumptions": ASSUMPTIONS,
        }
        if n_t < 2 or n_c < 2:
            notes.append("fewer than two units with post-period cells in an arm")
            return _without_effect(fields, notes)

        y, w, cl = post_mean[used], post_w[used], grid.cluster[used]
        missing = np.isnan(pre_mean[used])
        pre_filled = np.where(
            missing, np.nanmean(pre_mean) if (~missing).any() else 0.0, pre_mean[used]
        )
        columns = {
            "const": np.ones(used.sum()),
            "treated": t[used],
            "pre_mean": pre_filled,
            "pre_missing": missing.astype(float),
        }
        x = pd.DataFrame(columns)
        # Constant columns (e.g. no unit missing its pre period) are not identified.
        x = x.loc[:, (x.columns.isin(["const", "treated"])) | (x.std() > 0)]
        ancova = _wls(y, x, w, cl)
        dim = _wls(y, x[["const", "treated"]], w, cl)
        n_clusters = len(np.unique(cl))
        strata = panel.units["stratum"].to_numpy()[used] if "stratum" in panel.units else None
        reported, inference = self._inference(ancova, y, x, w, cl, strata, panel.seed)
        notes += inference.pop("notes")
        sd = pooled_sd(post_mean[used], grid.treated[used])
        path = ComparisonPath.build(grid, np.where(grid.treated, 0.0, 1.0))
        es = event_study(grid, np.flatnonzero(grid.treated), path)
        level = "team" if n_clusters < len(y) else panel.unit_kind
        return Estimate(
            **fields,
            effect=reported.effect,
            ci_low=reported.ci_low,
            ci_high=reported.ci_high,
            p_value=reported.p_value,
            se=reported.se,
            pretrend_p=es.pretrend_p,
            event_study=es.table,
            notes=tuple(notes),
            diagnostics={
                "difference_in_means": dim.effect,
                "difference_in_means_se": dim.se,
                "n_clusters": n_clusters,
                "assignment_level": level,
                **inference,
                "e_value": e_value(reported.effect, reported.ci_low, reported.ci_high, sd),
                **detectable_effects(reported.se, facts.pre_mean_treated),
            },
        )

    def _inference(
        self,
        ancova: Interval,
        y: np.ndarray,
        x: pd.DataFrame,
        w: np.ndarray,
        cl: np.ndarray,
        strata: np.ndarray | None,
        seed: int,
    ) -> tuple[Interval, dict[str, Any]]:
        """The reported interval and the ``inference`` diagnostics (with ``notes``).

        With fewer than ``small_clusters`` clusters the p-value and interval come from
        randomisation inference (see ``randomisation_inference``); the cluster-robust
        ones stay in ``cluster_robust``. ``se`` stays the cluster-robust one.
        """
        n_clusters = len(np.unique(cl))
        robust = {"ci_low": ancova.ci_low, "ci_high": ancova.ci_high, "p_value": ancova.p_value}
        out: dict[str, Any] = {"cluster_robust": robust, "notes": []}
        if n_clusters >= self.small_clusters:
            out["inference"] = (
                f"cluster-robust t interval: {n_clusters} clusters are enough for it "
                f"(randomisation inference is used below {self.small_clusters})"
            )
            return ancova, out
        if ancova.se is None or ancova.se <= 0:
            out["inference"] = "no randomisation inference: the effect has no spread to test"
            return ancova, out
        z = x.drop(columns="treated").to_numpy(dtype=float)
        treated = x["treated"].to_numpy() > 0
        ri = randomisation_test(y, z, w, treated, cl, strata, seed=seed)
        out["randomisation_inference"] = ri.as_dict()
        how = (
            f"all {ri.n_assignments:,} assignments"
            if ri.exact
            else f"{ri.n_draws:,} random assignments"
        )
        why = (
            f"randomisation inference ({how} of the arms by {ri.assignment}): with only "
            f"{n_clusters} clusters a cluster-robust interval is unreliable, while re-drawing "
            "the pilot's own randomisation gives an exact test; wild cluster bootstrap was "
            "not used because with few clusters it has few distinct draws"
        )
        if ri.ci_low is None or ri.ci_high is None:
            out["inference"] = why + "; its interval is unbounded, so the p-value is reported"
            out["notes"].append(
                f"only {ri.n_assignments:,} possible assignments: no effect can be ruled out at "
                "95%; the interval shown is the cluster-robust one and is too optimistic"
            )
            return Interval(
                ancova.effect, ancova.se, ancova.ci_low, ancova.ci_high, ri.p_value
            ), out
        out["inference"] = why
        return Interval(ancova.effect, ancova.se, ri.ci_low, ri.ci_high, ri.p_value), out


def _wls(y: np.ndarray, x: pd.DataFrame, w: np.ndarray, cluster: np.ndarray) -> Interval:
    """The ``treated`` coefficient with cluster-robust errors, t(G-1) reference."""
    n_clusters = len(np.unique(cluster))
    import statsmodels.api as sm  # imported here: only randomised programs need it

    model = sm.WLS(y, x, weights=w)
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        # Degenerate fits (e.g. an all-zero KPI) give zero residuals; we read the
        # resulting NaN/zero errors below instead of letting numpy warn.
        warnings.simplefilter("ignore", RuntimeWarning)
        if n_clusters >= 2:
            res = model.fit(cov_type="cluster", cov_kwds={"groups": cluster}, use_t=True)
        else:
            res = model.fit(cov_type="HC1")
        effect = float(res.params["treated"])
        se = float(res.bse["treated"])
        if not np.isfinite(se) or se <= 0:
            return Interval(effect, 0.0 if se == 0 else None, effect, effect, None)
        lo, hi = (float(v) for v in res.conf_int().loc["treated"])
        return Interval(effect, se, lo, hi, float(res.pvalues["treated"]))


def _without_effect(fields: dict[str, Any], notes: list[str]) -> Estimate:
    return Estimate(
        **fields, effect=None, ci_low=None, ci_high=None, p_value=None, se=None, notes=tuple(notes)
    )
