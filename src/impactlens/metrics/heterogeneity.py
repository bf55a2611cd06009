"""Effects by persona and by plan segment, with intervals and a Holm correction.

Each group's effect is the KPI's chosen estimator fitted on a sub-panel: the trained
units of the group, against the group's own comparison units when there are at
least :data:`OWN_COMPARISON_MIN` of them (like compared with like, and within-group
randomisation stays valid for randomised pilots), otherwise against the whole
comparison group (the estimator's weighting on covariates then does the matching).
Which comparison was used is stated on every row.

Testing many groups finds "significant" ones by chance. The p-values are adjusted
with Holm's step-down method (Holm 1979, Scand. J. Statist. 6:65), which controls
the family-wise error rate under any dependence between tests; the groups of
different segments overlap (a person has a persona and a location), so
Benjamini-Hochberg's independence-type condition cannot be assumed. The family is
every group tested for one KPI. Groups with fewer trained units than the privacy
threshold keep their label and lose their figures (``suppress_groups``).
"""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np
import pandas as pd

from impactlens.domain.plan import ImpactPlan
from impactlens.estimators.base import Estimate, KpiPanel
from impactlens.metrics.privacy import suppress_groups

OWN_COMPARISON_MIN = 30
MAX_GROUPS = 20  # per dimension: more groups than this is a list, not a breakdown
CORRECTION = "Holm"
NOT_SET = "(not set)"


class _Fits(Protocol):
    def fit(self, panel: KpiPanel) -> Estimate: ...


def holm(p_values: list[float | None]) -> list[float | None]:
    """Holm step-down adjusted p-values (None stays None).

    Sorted ascending, p_(i) becomes max_{j<=i} min(1, (m - j + 1) p_(j)).

    Examples:
        >>> holm([0.01, 0.04, 0.03, None])
        [0.03, 0.06, 0.06, None]
    """
    idx = [i for i, p in enumerate(p_values) if p is not None]
    m = len(idx)
    order = sorted(idx, key=lambda i: p_values[i])  # type: ignore[arg-type, return-value]
    out: list[float | None] = [None] * len(p_values)
    running = 0.0
    for rank, i in enumerate(order):
        p = p_values[i]
        assert p is not None
        running = max(running, min(1.0, (m - rank) * p))
        out[i] = float(f"{running:.6g}")
    return out


def unit_groups(panel: KpiPanel, people: pd.DataFrame, column: str) -> pd.Series:
    """Each panel unit's value of a people column (a team's: its members' commonest).

    Indexed like ``panel.units``; missing values become ``(not set)``.
    """
    p = people[["person_id", "team_id", column]] if "team_id" in people else None
    if panel.unit_kind == "team" and p is not None:
        members = p[p["team_id"].notna()].assign(team_id=lambda f: f["team_id"].astype(str))
        values = members[column].astype("string").fillna(NOT_SET)
        # the commonest value among the team's members (ties: first in sort order)
        counts = pd.crosstab(members["team_id"], values)
        lookup = counts.idxmax(axis=1)
    else:
        lookup = people.set_index(people["person_id"].astype(str))[column].astype("string")
    mapped = panel.units["unit_id"].astype(str).map(lookup)
    return mapped.astype("string").fillna(NOT_SET)


def sub_panel(panel: KpiPanel, keep: np.ndarray) -> KpiPanel:
    """The panel restricted to the units where ``keep`` is True."""
    units = panel.units[keep].reset_index(drop=True)
    old_rows = np.flatnonzero(keep)
    new_row = np.full(len(panel.units), -1, dtype=np.int64)
    new_row[old_rows] = np.arange(len(old_rows))
    cells = panel.cells
    unit_col = cells["unit_id"]
    if isinstance(unit_col.dtype, pd.CategoricalDtype):
        codes = unit_col.cat.codes.to_numpy(dtype=np.int64)
    else:
        codes = pd.Index(panel.units["unit_id"].astype(str)).get_indexer(unit_col.astype(str))
    mapped = np.where(codes >= 0, new_row[np.maximum(codes, 0)], -1)
    mine = mapped >= 0
    sub_cells = cells[mine].copy()
    sub_cells["unit_id"] = pd.Categorical.from_codes(
        mapped[mine], categories=units["unit_id"].astype(str)
    )
    return KpiPanel(
        kpi=panel.kpi,
        unit_kind=panel.unit_kind,
        cells=sub_cells.reset_index(drop=True),
        units=units,
        covariates=panel.covariates,
        randomised=panel.randomised,
        seed=panel.seed,
    )


def _dimensions(plan: ImpactPlan, people: pd.DataFrame) -> list[str]:
    dims = ["persona"] if plan.personas else []
    dims += [s for s in plan.segments if s not in dims]
    return [d for d in dims if d in people.columns]


def _group_row(
    panel: KpiPanel, estimator: _Fits, dim: str, value: str, labels: pd.Series
) -> dict[str, Any]:
    is_treated = (panel.units["group"] == "treated").to_numpy()
    in_group = (labels == value).to_numpy(dtype=bool)
    own = ~is_treated & in_group
    use_own = int(own.sum()) >= OWN_COMPARISON_MIN
    keep = (is_treated & in_group) | (own if use_own else ~is_treated)
    row: dict[str, Any] = {
        "dimension": dim,
        "group": value,
        "kpi": panel.kpi,
        "n_treated": int((is_treated & in_group).sum()),
        "n_comparison": int((keep & ~is_treated).sum()),
        "comparison": f"same {dim}" if use_own else "all comparison units",
    }
    try:
        est = estimator.fit(sub_panel(panel, keep))
    except Exception as exc:
        return row | {"effect": None, "ci_low": None, "ci_high": None, "p_value": None,
                      "note": f"not estimable: {exc}"}  # fmt: skip
    return row | {
        "effect": None if est.effect is None else round(est.effect, 6),
        "ci_low": None if est.ci_low is None else round(est.ci_low, 6),
        "ci_high": None if est.ci_high is None else round(est.ci_high, 6),
        "p_value": None if est.p_value is None else float(f"{est.p_value:.6g}"),
        "note": "; ".join(est.notes) if est.effect is None else "",
    }


def heterogeneity(
    panel: KpiPanel,
    estimator: _Fits,
    plan: ImpactPlan,
    people: pd.DataFrame,
    *,
    min_group_size: int,
) -> list[dict[str, Any]]:
    """Rows of effects by persona and by each plan segment for one KPI's panel.

    Args:
        panel: The KPI's whole panel.
        estimator: The estimator chosen for the KPI (refitted per group).
        plan: The plan, for its personas and segments.
        people: The roster's people (person_id, team_id and the segment columns).
        min_group_size: Groups with fewer trained units are suppressed.

    Returns:
        One dict per (dimension, group) with effect, 95% interval, p-value,
        ``p_adjusted`` (Holm, over every group of this KPI) and ``correction``.
    """
    is_treated = panel.units["group"] == "treated"
    n_total = int(is_treated.sum())
    blocks: list[list[dict[str, Any]]] = []
    for dim in _dimensions(plan, people):
        labels = unit_groups(panel, people, dim)
        present = set(labels[is_treated])
        order = [v for v in plan.personas if v in present] if dim == "persona" else []
        order += sorted(present - set(order))
        if len(order) < 2 or len(order) > MAX_GROUPS:
            continue  # one group is the overall effect; too many is not a breakdown
        blocks.append([_group_row(panel, estimator, dim, v, labels) for v in order])
    flat = [r for block in blocks for r in block]
    adjusted = holm([r["p_value"] for r in flat])
    for r, p in zip(flat, adjusted, strict=True):
        r["p_adjusted"] = p
        r["correction"] = CORRECTION
    out: list[dict[str, Any]] = []
    for block in blocks:
        out += suppress_groups(
            block,
            "n_treated",
            min_group_size,
            total=n_total,
            labels={"dimension", "group", "kpi", "comparison", "correction"},
        )
    return out
