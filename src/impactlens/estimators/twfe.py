"""Static two-way fixed effects, kept only as a labelled diagnostic.

The regression Y_it = a_i + l_t + b D_it + e_it (unit and period effects, D_it = 1
from unit i's first exposed period on) is what many dashboards and older studies
report. With staggered starts and effects that change over time it compares late
cohorts with already-exposed early cohorts, so b is a weighted mean of cell effects
in which some weights are negative (Goodman-Bacon 2021, J. Econometrics 225:254;
de Chaisemartin & D'Haultfoeuille 2020, AER 110:2964). It is shown beside the
group-time estimate so a reader sees how far the usual regression would mislead.

Estimation: both Y and D are swept of unit and period means by alternating
projections (exact in one pass on a balanced panel), then b = sum D~ Y~ / sum D~^2
(Frisch-Waugh-Lovell). The cluster-robust variance uses the unit influence
psi_i = sum_t w_it D~_it e_it / sum w D~^2. The weight each treated cell carries in
b is D~_it / sum over treated cells of D~ (de Chaisemartin & D'Haultfoeuille 2020,
Theorem 1); the negative ones are counted in the diagnostics.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from impactlens.estimators.base import Estimate, KpiPanel
from impactlens.estimators.grid import PanelGrid, panel_facts
from impactlens.estimators.inference import cluster_covariance, normal_interval

LABEL = (
    "two-way fixed effects (diagnostic only: biased under staggered timing with dynamic effects)"
)
WARNING = (
    "Two-way fixed effects with staggered starts compares later cohorts with units "
    "already trained (Goodman-Bacon 2021): when the effect grows or fades with time "
    "since the start, those comparisons subtract part of the effect and some cells "
    "get negative weight, so the coefficient can be far from, or of the opposite "
    "sign to, every cohort's true effect. Use the group-time estimate instead."
)
ASSUMPTIONS = (
    "Parallel trends between every pair of cohorts, including already-trained ones.",
    "A constant effect over cohorts and time since the start (rarely true: see the note).",
)
MAX_SWEEPS = 500
TOLERANCE = 1e-10


class TwoWayFixedEffects:
    """The static TWFE regression with clustered errors; a diagnostic, never the headline.

    Examples:
        >>> TwoWayFixedEffects.name
        'two-way fixed effects'
    """

    name: ClassVar[str] = "two-way fixed effects"

    def fit(self, panel: KpiPanel) -> Estimate:
        """Regress the KPI on unit and period effects and the exposure dummy."""
        grid = PanelGrid.from_panel(panel)
        facts = panel_facts(grid)
        base: dict[str, Any] = {
            "kpi": panel.kpi,
            "method": LABEL,
            "n_treated": int(grid.treated.sum()),
            "n_comparison": int((~grid.treated).sum()),
            "n_pre_periods": facts.n_pre_periods,
            "n_post_periods": facts.n_post_periods,
            "pre_mean_treated": facts.pre_mean_treated,
            "assumptions": ASSUMPTIONS,
        }
        w = np.where(grid.observed, grid.w, 0.0)
        col = np.arange(grid.n_periods)[None, :]
        d = (grid.treated[:, None] & (col >= grid.first[:, None])).astype(float)
        y = np.nan_to_num(grid.y)
        d_t = _sweep(d, w)
        sxx = float((w * d_t * d_t).sum())
        if sxx <= 1e-12 * max(float((w * d).sum()), 1.0):
            return Estimate(
                **base,
                effect=None,
                ci_low=None,
                ci_high=None,
                p_value=None,
                se=None,
                notes=(WARNING, "the exposure dummy is collinear with the fixed effects"),
            )
        y_t = _sweep(y, w)
        b = float((w * d_t * y_t).sum() / sxx)
        resid = y_t - b * d_t
        psi = (w * d_t * resid).sum(axis=1) / sxx
        cov = cluster_covariance(psi, grid.cluster)
        ci = normal_interval(b, None if cov is None else float(cov[0, 0]))
        treated_cells = (d > 0) & (w > 0)
        cell_w = w[treated_cells] * d_t[treated_cells]
        cell_w = cell_w / cell_w.sum()
        return Estimate(
            **base,
            effect=ci.effect,
            ci_low=ci.ci_low,
            ci_high=ci.ci_high,
            p_value=ci.p_value,
            se=ci.se,
            notes=(WARNING,),
            diagnostics={
                "diagnostic_only": True,
                "negative_weight_cells": int((cell_w < 0).sum()),
                "treated_cells": int(treated_cells.sum()),
                "negative_weight_sum": float(cell_w[cell_w < 0].sum()),
                "n_clusters": len(np.unique(grid.cluster)),
            },
        )


def _sweep(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """``x`` less its weighted unit and period effects, over observed cells (w > 0).

    Alternating projections (Guimaraes & Portugal 2010, Stata Journal 10:628) converge
    to the two-way within transformation; a balanced panel needs one sweep.
    """
    x = np.where(w > 0, x, 0.0)
    row_w = np.maximum(w.sum(axis=1, keepdims=True), 1e-300)
    col_w = np.maximum(w.sum(axis=0, keepdims=True), 1e-300)
    scale = max(float(np.abs(x).max()), 1.0)
    for _ in range(MAX_SWEEPS):
        x = np.where(w > 0, x - (w * x).sum(axis=1, keepdims=True) / row_w, 0.0)
        step = (w * x).sum(axis=0, keepdims=True) / col_w
        x = np.where(w > 0, x - step, 0.0)
        if float(np.abs(step).max()) < TOLERANCE * scale:
            break
    return x
