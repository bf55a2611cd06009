"""The comparison group's weighted mean path m_C(t) and its influence function."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from impactlens.estimators.grid import PanelGrid


@dataclass(frozen=True)
class ComparisonPath:
    """Weighted mean of the comparison units in each period.

    ``m[t] = sum_j a_j w_jt Y_jt / sum_j a_j w_jt`` over comparison units ``j``
    observed at ``t``, with ``a_j`` the unit weights (ATT weights, or equal weights
    in a randomised control arm) and ``w_jt`` the cell weights.

    Attributes:
        rows: ``(Nc,)`` grid rows of the comparison units with positive weight.
        m: ``(P,)`` the mean path (0 where undefined).
        defined: ``(P,)`` True where some weighted comparison unit is observed.
        resid: ``(Nc, P)`` ``a_j w_jt (Y_jt - m_t) / D_t``, the linearisation of m_t
            in unit j's data (``D_t`` the denominator); ``resid @ c`` is unit j's
            influence on any statistic ``sum_t c_t m_t``.
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
        with np.errstate(invalid="ignore", divide="ignore"):
            m = np.where(defined, (aw * y).sum(axis=0) / denom, 0.0)
            resid = np.where(aw > 0, aw * (y - m[None, :]) / np.where(defined, denom, 1.0), 0.0)
        return cls(rows=rows, m=m, defined=defined, resid=resid)
