"""The dashboard number: trained units' post-period mean minus the comparison's."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from impactlens.estimators.base import Estimate, KpiPanel
from impactlens.estimators.grid import PanelGrid, panel_facts
from impactlens.estimators.inference import cluster_covariance, normal_interval


class NaiveDifference:
    """Post-period mean of the treated minus that of the comparison units.

    It ignores who chose to train, so it mixes the effect with every prior
    difference between the groups; it is reported only as the labelled
    ``naive_effect`` diagnostic, to show how far a dashboard would mislead.
    Treated cells are each unit's own post cells; comparison cells are those from
    the treated's earliest start on (or a randomised control's own split).

    Examples:
        >>> NaiveDifference.name
        'naive post-period difference'
    """

    name: ClassVar[str] = "naive post-period difference"

    def fit(self, panel: KpiPanel) -> Estimate:
        """Compare post-period means of ``panel``'s groups."""
        grid = PanelGrid.from_panel(panel)
        facts = panel_facts(grid)
        first = np.where(grid.has_first, grid.first, grid.earliest_start())
        post = grid.observed & (np.arange(grid.n_periods)[None, :] >= first[:, None])
        wp = np.where(post, grid.w, 0.0)
        y = np.nan_to_num(grid.y)
        psi = np.zeros(len(grid.unit_ids))
        means: list[float] = []
        for sign, rows in ((1.0, grid.treated), (-1.0, ~grid.treated)):
            total = wp[rows].sum()
            if total <= 0:
                break
            mean = float((wp[rows] * y[rows]).sum() / total)
            # Linearised ratio mean: unit i's share of sum_t w_it (y_it - mean) / W.
            psi[rows] = sign * (wp[rows] * (y[rows] - mean)).sum(axis=1) / total
            means.append(mean)
        n_t = int((grid.treated & wp.any(axis=1)).sum())
        n_c = int((~grid.treated & wp.any(axis=1)).sum())
        common: dict[str, Any] = {
            "kpi": panel.kpi,
            "method": self.name,
            "n_treated": n_t,
            "n_comparison": n_c,
            "randomised": panel.randomised,
            "n_pre_periods": facts.n_pre_periods,
            "n_post_periods": facts.n_post_periods,
            "pre_mean_treated": facts.pre_mean_treated,
            "assumptions": ("The groups would have had equal KPI levels without training.",),
        }
        if len(means) < 2:
            return Estimate(
                **common,
                effect=None,
                ci_low=None,
                ci_high=None,
                p_value=None,
                se=None,
                notes=("a group has no post-period cells",),
            )
        used = wp.any(axis=1)
        cov = cluster_covariance(psi[used], grid.cluster[used])
        ci = normal_interval(means[0] - means[1], None if cov is None else float(cov[0, 0]))
        return Estimate(
            **common,
            effect=ci.effect,
            ci_low=ci.ci_low,
            ci_high=ci.ci_high,
            p_value=ci.p_value,
            se=ci.se,
            diagnostics={"mean_treated": means[0], "mean_comparison": means[1]},
        )
