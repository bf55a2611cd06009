"""Success-case sampling: the trained units to interview, best and worst.

Brinkerhoff's Success Case Method (*The Success Case Method*, 2003) samples the
extremes of the trained: the few who got the most out of the program and the few
who got the least, and interviews them to learn what made the difference. Each
trained unit is ranked by its own post-minus-pre KPI change relative to the
comparison path over the same periods (a one-unit difference-in-differences), so a
season that lifts everyone does not make everyone a success. The ids are the
store's pseudonyms; the block is marked for analysts only, since it points at people.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from impactlens.estimators.base import KpiPanel
from impactlens.estimators.grid import PanelGrid

METHOD = (
    "Success Case Method (Brinkerhoff 2003): trained units with the largest and smallest "
    "KPI improvement relative to the comparison group, to interview"
)


def _comparison_path(grid: PanelGrid) -> np.ndarray:
    """``(P,)`` unweighted mean KPI of the comparison units per period (NaN if none)."""
    rows = np.flatnonzero(~grid.treated)
    obs = grid.observed[rows]
    n = obs.sum(axis=0)
    total = np.where(obs, np.nan_to_num(grid.y[rows]), 0.0).sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n > 0, total / np.maximum(n, 1), np.nan)


def unit_changes(panel: KpiPanel) -> pd.DataFrame:
    """Each trained unit's own change and its change relative to the comparison path.

    Columns: ``unit_id``, ``change`` (mean of its post cells minus mean of its pre
    cells, NaN without both), ``relative_change`` (``change`` minus the comparison
    path's change over the unit's own pre and post periods; NaN without comparison
    units), ``n_pre``, ``n_post``.
    """
    grid = PanelGrid.from_panel(panel)
    rows = np.flatnonzero(grid.treated)
    pre, post = grid.pre_post_masks(rows)
    y = np.nan_to_num(grid.y[rows])
    n_pre, n_post = pre.sum(axis=1), post.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        own = np.where(post, y, 0).sum(1) / n_post - np.where(pre, y, 0).sum(1) / n_pre
    path = _comparison_path(grid)
    defined = ~np.isnan(path)
    m = np.nan_to_num(path)
    pre_c, post_c = pre & defined[None, :], post & defined[None, :]
    with np.errstate(invalid="ignore", divide="ignore"):
        path_change = (post_c @ m) / post_c.sum(1) - (pre_c @ m) / pre_c.sum(1)
    ok = (n_pre > 0) & (n_post > 0)
    return pd.DataFrame(
        {
            "unit_id": grid.unit_ids[rows],
            "change": np.where(ok, own, np.nan),
            "relative_change": np.where(ok, own - path_change, np.nan),
            "n_pre": n_pre.astype(int),
            "n_post": n_post.astype(int),
        }
    )


def success_cases(panel: KpiPanel, direction: str, *, n: int = 5) -> dict[str, Any]:
    """The ``n`` best and ``n`` worst trained units of one KPI, for interviews.

    "Best" is the largest improvement in the KPI's better direction. Units without
    both pre and post cells are left out; with fewer than ``2 n`` ranked units the
    two lists are split so that no unit appears in both.
    """
    changes = unit_changes(panel).dropna(subset=["relative_change"])
    sign = -1.0 if direction == "decrease" else 1.0
    changes = changes.assign(improvement=sign * changes["relative_change"])
    ranked = changes.sort_values(["improvement", "unit_id"], ascending=[False, True])
    k = min(n, len(ranked) // 2)

    def rows(frame: pd.DataFrame) -> list[dict[str, Any]]:
        return [
            {
                "unit_id": str(r.unit_id),
                "change": round(float(r.change), 6),
                "relative_change": round(float(r.relative_change), 6),
                "n_pre": int(r.n_pre),
                "n_post": int(r.n_post),
            }
            for r in frame.itertuples()
        ]

    return {
        "kpi": panel.kpi,
        "unit": panel.unit_kind,
        "ranked_units": len(ranked),
        "best": rows(ranked.head(k)),
        "worst": rows(ranked.tail(k).iloc[::-1]),
    }
