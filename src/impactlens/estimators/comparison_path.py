"""The comparison group's counterfactual path m_C(t) and its influence function.

The path is the period effect of a weighted two-way fixed-effects fit on the
comparison units' cells (unit effect + period effect), not their raw period mean:
in an unbalanced panel (joiners, leavers, gaps) the raw mean moves whenever units
with different levels enter or leave, which a difference-in-differences would read
as a trend (composition bias). With a balanced panel both coincide. This is the
imputation view of DiD (Borusyak, Jaravel & Spiess 2024): untreated outcomes are
unit effect + period effect, estimated on untreated cells.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from impactlens.estimators.grid import PanelGrid

_MAX_SWEEPS = 500
_TOLERANCE = 1e-10


@dataclass(frozen=True)
class ComparisonPath:
    """Period effects of the comparison units, on the KPI's scale.

    Solves ``Y_jt = alpha_j + m_t + e_jt`` by weighted least squares over comparison
    units ``j`` observed at ``t`` (weights ``a_j w_jt``: ``a_j`` the unit weights, ATT
    weights or equal weights in a randomised control arm, ``w_jt`` the cell weights),
    by alternating projections. ``m`` is shifted so that its weighted mean equals the
    weighted mean of the cells (only its changes over time are used).

    Attributes:
        rows: ``(Nc,)`` grid rows of the comparison units with positive weight.
        m: ``(P,)`` the mean path (0 where undefined).
        defined: ``(P,)`` True where some weighted comparison unit is observed.
        resid: ``(Nc, P)`` ``a_j w_jt (Y_jt - alpha_j - m_t) / D_t``, the linearisation
            of m_t in unit j's data (``D_t`` the period's total weight); ``resid @ c`` is
            unit j's influence on any statistic ``sum_t c_t m_t`` whose weights sum to
            zero (a change over time).
    """

    rows: np.ndarray
    m: np.ndarray
    defined: np.ndarray
    resid: np.ndarray

    @classmethod
    def build(cls, grid: PanelGrid, unit_weight: np.ndarray) -> ComparisonPath:
        """Build the path from ``unit_weight`` (``(N,)``, zero for non-comparison rows).

        Examples:
            >>> import pandas as pd
            >>> from impactlens.estimators.base import KpiPanel
            >>> units = pd.DataFrame({"unit_id": ["a", "b"], "group": ["comparison"] * 2,
            ...     "first_period": pd.NaT, "cluster": ["a", "b"]})
            >>> cells = pd.DataFrame({"unit_id": ["a", "b"],
            ...     "period": pd.to_datetime(["2024-01-07"] * 2), "value": [1.0, 4.0]})
            >>> grid = PanelGrid.from_panel(KpiPanel("k", "person", cells, units))
            >>> ComparisonPath.build(grid, np.array([2.0, 1.0])).m.tolist()
            [2.0]
        """
        rows = np.flatnonzero(unit_weight > 0)
        aw = unit_weight[rows][:, None] * grid.w[rows]
        denom = aw.sum(axis=0)
        defined = denom > 0
        y = np.nan_to_num(grid.y[rows])
        safe_denom = np.where(defined, denom, 1.0)
        unit_total = aw.sum(axis=1)
        safe_unit = np.where(unit_total > 0, unit_total, 1.0)
        ay = aw * y
        ay_unit, ay_period = ay.sum(axis=1), ay.sum(axis=0)
        m = np.where(defined, ay_period / safe_denom, 0.0)
        for _ in range(_MAX_SWEEPS):
            alpha = (ay_unit - aw @ m) / safe_unit
            new = np.where(defined, (ay_period - alpha @ aw) / safe_denom, 0.0)
            done = np.max(np.abs(new - m), initial=0.0) < _TOLERANCE
            m = new
            if done:
                break
        alpha = (ay_unit - aw @ m) / safe_unit
        total = denom.sum()
        if total > 0:
            shift = float((ay_period.sum() - denom @ m) / total)
            m = np.where(defined, m + shift, 0.0)
            alpha = alpha - shift
        resid = np.where(aw > 0, aw * (y - alpha[:, None] - m[None, :]) / safe_denom, 0.0)
        return cls(rows=rows, m=m, defined=defined, resid=resid)
