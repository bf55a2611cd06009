"""Propensity-weighted difference-in-differences for staggered, unbalanced panels.

The effect on the trained is the cell-weighted mean over treated post cells of::

    d_it = (Y_it - Ybar_i,pre) - (m_C(t) - mbar_C,i,pre)

where Ybar_i,pre is unit i's mean over its observed periods before its own first
exposed period g_i, m_C is the ATT-weighted comparison path (Abadie 2005, ATT
weights p/(1-p)) and mbar_C,i,pre its mean over the same periods. With staggered
cohorts each unit is compared with never-exposed units over its own window, which
is the "simple" cell-weighted aggregation of group-time effects (Callaway &
Sant'Anna 2021) with a long-difference (all pre periods) baseline.

Inference (linearisation). Write tau = A / W with
A = sum_i sum_t w_it d_it and W = sum_i sum_t w_it over post cells. Then
tau - tau0 ~ sum_i psi_i + sum_j psi_j + (estimated-weights term), where

* treated unit i (m_C held fixed): psi_i = sum_t w_it (d_it - tau) / W;
* comparison unit j enters only through m_C(t) = N_t / D_t, whose linearisation
  in j's data is a_j w_jt (Y_jt - m_C(t)) / D_t; with
  c_t = d tau / d m_C(t) = (-sum_i w_it [t post for i]
                            + sum_i W_i [t in pre(i)] / |pre(i)|) / W
  (W_i = unit i's post weight), psi_j = sum_t c_t a_j w_jt (Y_jt - m_C(t)) / D_t.

The weights' estimation adds PropensityWeights.correction (Sant'Anna & Zhao 2020);
the variance is G/(G-1) sum_c (sum_{i in c} psi_i)^2 over clusters c, so units
sharing a team shock are not counted as independent.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import pandas as pd

from impactlens.estimators.base import Estimate, KpiPanel
from impactlens.estimators.comparison_path import ComparisonPath
from impactlens.estimators.detectable import detectable_effects
from impactlens.estimators.event_study import event_study
from impactlens.estimators.grid import PanelGrid, panel_facts
from impactlens.estimators.inference import cluster_covariance, normal_interval
from impactlens.estimators.propensity import PRE_MEAN, att_weights, balance_table, unit_features
from impactlens.estimators.sensitivity import e_value, pooled_sd, trend_violation_bounds

PRE_LEVEL_LABEL = "pre-period KPI level (diagnostic only: differencing removes levels)"

ASSUMPTIONS = (
    "Parallel trends: given the covariates and the pre-period KPI, trained and comparison "
    "units would have moved alike without the program.",
    "No anticipation: the KPI did not move before each unit's first exposed period.",
    "Overlap: every trained unit resembles some comparison units (units without match "
    "are trimmed).",
    "No spillover: training one unit does not change an untrained comparison unit's KPI.",
)


class WeightedDiffInDiff:
    """Difference-in-differences with propensity (ATT) weights on never-exposed units.

    Examples:
        >>> WeightedDiffInDiff.name
        'weighted difference-in-differences'
    """

    name: ClassVar[str] = "weighted difference-in-differences"

    def __init__(self, match_on_pre_kpi: bool = False) -> None:
        """Choose whether the propensity model uses each unit's pre-period KPI mean.

        Off by default. Matching on the pre-period KPI balances level-dependent trends,
        but when units select on stable levels (high performers sign up) it regresses
        the weighted comparison's pre-period noise to the mean and biases the effect
        (Daw & Hatfield 2018, Health Services Research 53:4138); the pre-trend test
        cannot see that bias. Differencing already removes stable level differences,
        so the pre-period level is shown in the balance table as a diagnostic (before
        and after weighting) but kept out of the model and of the evidence check.
        The demo's validation study measured this (docs/validation.md).
        """
        self.match_on_pre_kpi = match_on_pre_kpi

    def fit(self, panel: KpiPanel) -> Estimate:
        """Estimate the effect on the trained for ``panel``."""
        grid = PanelGrid.from_panel(panel)
        facts = panel_facts(grid)
        n_t, n_c = int(grid.treated.sum()), int((~grid.treated).sum())
        base: dict[str, Any] = {
            "kpi": panel.kpi,
            "method": self.name,
            "n_treated": n_t,
            "n_comparison": n_c,
            "n_pre_periods": facts.n_pre_periods,
            "n_post_periods": facts.n_post_periods,
            "pre_mean_treated": facts.pre_mean_treated,
            "assumptions": ASSUMPTIONS,
        }
        problem = _degenerate(grid, n_t, n_c, facts.n_pre_periods, facts.n_post_periods)
        if problem:
            return _empty(base, (problem,))

        features = unit_features(grid, panel.units, panel.covariates)
        pre_level = features[[PRE_MEAN]]
        if not self.match_on_pre_kpi:
            features = features.drop(columns=PRE_MEAN)
        ps = att_weights(features, grid.treated)
        notes = list(ps.notes)
        balance = ps.balance
        if not self.match_on_pre_kpi and ps.weight.any():
            level_row = balance_table(pre_level, grid.treated, ps.weight)
            level_row["covariate"] = PRE_LEVEL_LABEL
            balance = pd.concat([balance, level_row], ignore_index=True)
        checks: dict[str, Any] = {
            "trimmed_share": ps.trimmed_share,
            "max_smd_before": ps.max_smd_before,
            "max_smd_after": ps.max_smd_after,
            "balance": balance,
        }
        if not ps.weight.any():
            return _empty(
                base | checks,
                (
                    "no overlap: the propensity model separates trained and comparison "
                    "units completely, so no comparison unit resembles a trained one",
                ),
            )
        path = ComparisonPath.build(grid, np.where(grid.treated, 0.0, ps.weight))
        treated_rows = np.flatnonzero(grid.treated & ps.keep)
        res = _effect(grid, treated_rows, path)
        if res is None:
            return _empty(
                base | checks,
                (
                    "no trained unit has both pre-period and post-period cells in periods "
                    "where comparison units are observed",
                ),
            )
        tau, psi_t, psi_c, n_used, n_no_pre = res
        if n_no_pre:
            notes.append(
                f"{n_no_pre} trained units have no pre-period cells and are left out of the effect"
            )
        psi = psi_t + psi_c + ps.correction(psi_c[:, None])[:, 0]
        sample = ps.keep | (psi != 0)
        cov = cluster_covariance(psi[sample], grid.cluster[sample])
        ci = normal_interval(tau, None if cov is None else float(cov[0, 0]))
        if cov is None:
            notes.append("fewer than two clusters: no standard error")
        es = event_study(grid, treated_rows, path, ps.correction)
        # d's scale: the spread of units' KPI levels before the program, within groups
        all_rows = np.arange(len(grid.unit_ids))
        pre_level_sd = pooled_sd(
            grid.unit_means(all_rows, grid.pre_post_masks(all_rows)[0])[0], grid.treated
        )
        # Report the units the effect rests on; the panel's counts go to diagnostics.
        base |= {"n_treated": n_used, "n_comparison": len(path.rows)}
        return Estimate(
            **base,
            **checks,
            effect=ci.effect,
            ci_low=ci.ci_low,
            ci_high=ci.ci_high,
            p_value=ci.p_value,
            se=ci.se,
            pretrend_p=es.pretrend_p,
            event_study=es.table,
            notes=tuple(notes),
            diagnostics={
                "n_treated_panel": n_t,
                "n_comparison_panel": n_c,
                "n_treated_used": n_used,
                "n_comparison_used": len(path.rows),
                "n_clusters": len(np.unique(grid.cluster[sample])),
                "pretrend_coefficients": es.n_pre_coefficients,
                "matched_on_pre_kpi": self.match_on_pre_kpi,
                "trend_sensitivity": trend_violation_bounds(ci.effect, ci.se, es.table),
                "e_value": e_value(ci.effect, ci.ci_low, ci.ci_high, pre_level_sd),
                **detectable_effects(ci.se, facts.pre_mean_treated),
            },
        )


def _effect(
    grid: PanelGrid, treated_rows: np.ndarray, path: ComparisonPath
) -> tuple[float, np.ndarray, np.ndarray, int, int] | None:
    """The effect, treated and comparison influence ``(N,)``, units used, units lost."""
    y, w = grid.y[treated_rows], grid.w[treated_rows]
    pre, post = grid.pre_post_masks(treated_rows)
    pre &= path.defined[None, :]
    post &= path.defined[None, :]
    n_pre = pre.sum(axis=1)
    has_pre = n_pre > 0
    n_no_pre = int((~has_pre & post.any(axis=1)).sum())
    post &= has_pre[:, None]
    wp = np.where(post, w, 0.0)
    total = wp.sum()
    if total <= 0:
        return None
    safe_n = np.maximum(n_pre, 1)
    y_pre = np.where(pre, y, 0.0).sum(axis=1) / safe_n
    m_pre = (pre @ path.m) / safe_n
    d = np.where(post, (y - y_pre[:, None]) - (path.m[None, :] - m_pre[:, None]), 0.0)
    tau = float((wp * d).sum() / total)
    psi_t = (wp * (d - tau)).sum(axis=1) / total
    w_unit = wp.sum(axis=1)
    c = (-wp.sum(axis=0) + pre.T @ (w_unit / safe_n)) / total
    psi_c = path.resid @ c
    n_all = len(grid.unit_ids)
    psi_t_full, psi_c_full = np.zeros(n_all), np.zeros(n_all)
    psi_t_full[treated_rows] = psi_t
    psi_c_full[path.rows] = psi_c
    return tau, psi_t_full, psi_c_full, int((w_unit > 0).sum()), n_no_pre


def _degenerate(grid: PanelGrid, n_t: int, n_c: int, n_pre: int, n_post: int) -> str | None:
    """Why no effect can be computed at all, or None."""
    if n_t + n_c < 2:
        return "fewer than two units in the panel"
    if n_t == 0:
        return "no trained units with KPI data"
    if n_c == 0:
        return "no comparison units: a difference-in-differences needs never-trained units"
    if grid.n_periods == 0:
        return "no KPI cells for these units"
    if n_pre == 0:
        return "no pre-period cells: every KPI value is after the program started"
    if n_post == 0:
        return "no post-period cells: no KPI value after the trained units' start"
    return None


def _empty(fields: dict[str, Any], notes: tuple[str, ...]) -> Estimate:
    return Estimate(
        **fields, effect=None, ci_low=None, ci_high=None, p_value=None, se=None, notes=notes
    )
