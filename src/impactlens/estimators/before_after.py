"""Trend projection for programs without a comparison group (always weak evidence)."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from impactlens.estimators.base import Estimate, KpiPanel
from impactlens.estimators.grid import PanelGrid, panel_facts
from impactlens.estimators.inference import cluster_covariance, normal_interval

ASSUMPTIONS = (
    "Without the program the trained units' KPI would have kept its pre-period linear trend.",
    "Nothing else that moves the KPI changed when the program started.",
)


class BeforeAfter:
    """Actual minus projected: a linear trend on the trained units' pre-period means.

    The trend is fitted by least squares to the treated units' per-period means
    before their start and projected over their post cells; the effect is the
    cell-weighted mean of actual minus projected (Phillips' trend-line isolation).
    Its variance adds the projection's prediction error, [1, x]' Cov(a, b) [1, x]
    at the post cells' mean time x, to the sampling error of the post-period mean.
    With fewer than three pre-periods the projection is the flat pre-period mean.

    Examples:
        >>> BeforeAfter.name
        'trend projection (no comparison group)'
    """

    name: ClassVar[str] = "trend projection (no comparison group)"

    def fit(self, panel: KpiPanel) -> Estimate:
        """Project the trained units' pre-period trend and compare."""
        grid = PanelGrid.from_panel(panel)
        facts = panel_facts(grid)
        rows = np.flatnonzero(grid.treated)
        pre, post = grid.pre_post_masks(rows)
        y, w = np.nan_to_num(grid.y[rows]), grid.w[rows]
        w_pre, w_post = np.where(pre, w, 0.0), np.where(post, w, 0.0)
        pre_w_t = w_pre.sum(axis=0)
        has_pre = pre_w_t > 0
        n_pre = int(has_pre.sum())
        common: dict[str, Any] = {
            "kpi": panel.kpi,
            "method": self.name,
            "n_treated": int(w_post.any(axis=1).sum()),
            "n_comparison": 0,
            "has_comparison": False,
            "n_pre_periods": n_pre,
            "n_post_periods": facts.n_post_periods,
            "pre_mean_treated": facts.pre_mean_treated,
            "assumptions": ASSUMPTIONS,
        }
        total_post = w_post.sum()
        if n_pre == 0 or total_post <= 0:
            why = "no pre-period cells" if n_pre == 0 else "no post-period cells"
            return Estimate(
                **common,
                effect=None,
                ci_low=None,
                ci_high=None,
                p_value=None,
                se=None,
                notes=(f"{why} for the trained units: nothing to project",),
            )
        notes: list[str] = []
        # Time in weeks since the first period, so the slope reads per week.
        x = (grid.periods - grid.periods[0]) / np.timedelta64(7, "D")
        x = np.asarray(x, dtype=float)
        means = (w_pre * y).sum(axis=0)[has_pre] / pre_w_t[has_pre]
        design = (
            np.column_stack([np.ones(n_pre), x[has_pre]]) if n_pre >= 3 else np.ones((n_pre, 1))
        )
        if n_pre < 3:
            notes.append("fewer than three pre-periods: projected the flat pre-period mean")
        coef, *_ = np.linalg.lstsq(design, means, rcond=None)
        df = n_pre - design.shape[1]
        coef_cov = None
        if df > 0:
            s2 = float(((means - design @ coef) ** 2).sum() / df)
            coef_cov = s2 * np.linalg.inv(design.T @ design)
        x_post = float((w_post.sum(axis=0) * x).sum() / total_post)
        at = np.array([1.0, x_post])[: design.shape[1]]
        projected = float(at @ coef)
        post_mean = float((w_post * y).sum() / total_post)
        psi = (w_post * (y - post_mean)).sum(axis=1) / total_post
        used = w_post.any(axis=1)
        cov = cluster_covariance(psi[used], grid.cluster[rows][used])
        variance = None
        if cov is not None and coef_cov is not None:
            variance = float(cov[0, 0]) + float(at @ coef_cov @ at)
        else:
            notes.append("too few pre-periods or clusters for a standard error")
        ci = normal_interval(post_mean - projected, variance)
        return Estimate(
            **common,
            effect=ci.effect,
            ci_low=ci.ci_low,
            ci_high=ci.ci_high,
            p_value=ci.p_value,
            se=ci.se,
            notes=tuple(notes),
            diagnostics={
                "trend_intercept": float(coef[0]),
                "trend_slope_per_week": float(coef[1]) if len(coef) > 1 else 0.0,
                "projected_mean": projected,
                "actual_mean": post_mean,
            },
        )
