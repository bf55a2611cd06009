"""Event-study effects by periods since each cohort's start, and the pre-trend test.

With a universal base period e = -1 (Callaway & Sant'Anna 2021, section 3.3; Sun &
Abraham 2021), the effect at event time e pools the cohorts::

    ATT(e) = sum_i w_i,g+e [(Y_i,g+e - Y_i,g-1) - (m_C(g+e) - m_C(g-1))] / sum_i w_i,g+e

over treated units i (first exposed period g = g_i) observed at both g+e and g-1,
with ``m_C`` the comparison path. Pre-period effects (e <= -2) are placebo effects:
under parallel trends and no anticipation they are zero, which a Wald test checks.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from impactlens.estimators.comparison_path import ComparisonPath
from impactlens.estimators.grid import PanelGrid
from impactlens.estimators.inference import cluster_covariance, normal_interval, wald_p_value

COLUMNS = ["event_time", "effect", "ci_low", "ci_high", "se", "n_units"]


@dataclass(frozen=True)
class EventStudy:
    """Event-time effects (``table``) and the pre-trend test's p-value."""

    table: pd.DataFrame
    pretrend_p: float | None
    n_pre_coefficients: int


def event_study(
    grid: PanelGrid,
    treated_rows: np.ndarray,
    path: ComparisonPath,
    correction: Callable[[np.ndarray], np.ndarray] | None = None,
    max_lag: int = 8,
) -> EventStudy:
    """Estimate ATT(e) for e in [-min(8, available), ..., +8] with IF-based errors.

    ``table`` has columns event_time, effect, ci_low, ci_high, se, n_units; the base
    period e = -1 is a row with effect 0 by construction. ``correction`` maps the
    comparison units' influence ``(N, K)`` to the extra influence of estimated
    weights (see ``PropensityWeights.correction``).
    """
    n_p = grid.n_periods
    g_all = grid.first[treated_rows]
    usable = (g_all >= 1) & (g_all < n_p)
    rows = treated_rows[usable]
    g = g_all[usable]
    if len(rows) == 0:
        return EventStudy(pd.DataFrame(columns=COLUMNS), None, 0)
    obs = grid.observed[rows]
    base_ok = obs[np.arange(len(rows)), g - 1] & path.defined[g - 1]
    k_pre = min(max_lag, int(g.max()))
    k_post = min(max_lag, n_p - 1 - int(g.min()))
    events = [e for e in range(-k_pre, k_post + 1) if e != -1]

    kept: list[int] = []
    effects: list[float] = []
    counts: list[int] = []
    psi_t_cols: list[np.ndarray] = []
    c_cols: list[np.ndarray] = []
    for e in events:
        t1 = g + e
        inside = (t1 >= 0) & (t1 < n_p) & base_ok
        idx = np.flatnonzero(inside)
        t1 = t1[idx]
        t0 = g[idx] - 1
        ok = obs[idx, t1] & path.defined[t1]
        idx, t1, t0 = idx[ok], t1[ok], t0[ok]
        if len(idx) == 0:
            continue
        wi = grid.w[rows[idx], t1]
        d = (grid.y[rows[idx], t1] - grid.y[rows[idx], t0]) - (path.m[t1] - path.m[t0])
        total = wi.sum()
        att = float((wi * d).sum() / total)
        psi_t = np.zeros(len(rows))
        psi_t[idx] = wi * (d - att) / total
        # d ATT(e) / d m_C(t): -w/W at each unit's g+e, +w/W at its base g-1.
        c = np.bincount(t1, weights=-wi / total, minlength=n_p) + np.bincount(
            t0, weights=wi / total, minlength=n_p
        )
        kept.append(e)
        effects.append(att)
        counts.append(len(idx))
        psi_t_cols.append(psi_t)
        c_cols.append(c)

    cov = None
    n_clusters = 0
    if kept:
        n_all = len(grid.unit_ids)
        psi = np.zeros((n_all, len(kept)))
        psi[rows] = np.column_stack(psi_t_cols)
        psi_c = np.zeros_like(psi)
        psi_c[path.rows] = path.resid @ np.column_stack(c_cols)
        psi += psi_c
        if correction is not None:
            psi += correction(psi_c)
        sample = np.zeros(n_all, dtype=bool)
        sample[rows] = True
        sample[path.rows] = True
        sample |= np.any(psi != 0, axis=1)
        cov = cluster_covariance(psi[sample], grid.cluster[sample])
        n_clusters = len(np.unique(grid.cluster[sample]))

    records: list[dict[str, float | int | None]] = [
        {
            "event_time": -1,
            "effect": 0.0,
            "ci_low": 0.0,
            "ci_high": 0.0,
            "se": 0.0,
            "n_units": int(base_ok.sum()),
        }
    ]
    for k, (e, att, n) in enumerate(zip(kept, effects, counts, strict=True)):
        r = normal_interval(att, None if cov is None else float(cov[k, k]))
        records.append(
            {
                "event_time": e,
                "effect": att,
                "ci_low": r.ci_low,
                "ci_high": r.ci_high,
                "se": r.se,
                "n_units": n,
            }
        )
    table = pd.DataFrame.from_records(records, columns=COLUMNS)
    table = table.sort_values("event_time", ignore_index=True)

    pre = [k for k, e in enumerate(kept) if e <= -2]
    pretrend_p = None
    if pre and cov is not None:
        theta = np.asarray(effects)[pre]
        pretrend_p = wald_p_value(theta, cov[np.ix_(pre, pre)], n_clusters)
    return EventStudy(table=table, pretrend_p=pretrend_p, n_pre_coefficients=len(pre))
