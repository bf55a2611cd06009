"""Group-time difference-in-differences for staggered cohorts (Callaway & Sant'Anna 2021).

Each cohort g (units first exposed in period g) is compared with never-exposed (or
not-yet-exposed) units period by period: ATT(g, t) = E[Y_t - Y_b | G = g] - E[Y_t - Y_b
| control], with b = g - 1 for t >= g and b = t - 1 before (the "varying" base period
of R ``did``). The headline effect is the "simple" aggregation, the group-size-weighted
mean of the post-period ATT(g, t) (Callaway & Sant'Anna 2021, section 3.1), which on
a balanced panel is the contract's estimand: the mean effect over treated post cells.

The ATT(g, t) and their aggregations come from moderndid (a port of R ``did`` checked
against it on mpdta); this module adapts a :class:`KpiPanel` to moderndid's long frame
and turns its unit influence functions into cluster-robust errors with the project's
own :func:`cluster_covariance`, so units sharing a team shock are not counted as
independent and no bootstrap randomness enters the result.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

import numpy as np
import pandas as pd

from impactlens.estimators.base import Estimate, KpiPanel
from impactlens.estimators.grid import PanelGrid, panel_facts
from impactlens.estimators.inference import cluster_covariance, normal_interval, wald_p_value

Control = Literal["never", "notyet"]
Method = Literal["dr", "ipw", "reg"]
MAX_LAG = 8
# moderndid 0.2.0 treats an unbalanced panel as repeated cross-sections and refits on
# every cell per ATT(g, t): 160k cells took 211 s, so larger panels are balanced only.
MAX_UNBALANCED_CELLS = 20_000
EVENT_COLUMNS = ["event_time", "effect", "ci_low", "ci_high", "se", "n_units"]
CONTROL_LABEL = {"never": "never-treated units", "notyet": "not-yet-treated units"}
ASSUMPTIONS = (
    "Parallel trends: without the program each cohort's KPI would have moved like the "
    "comparison units' (given the covariates, when there are some).",
    "No anticipation: the KPI did not move before each unit's first exposed period.",
    "Overlap: every cohort resembles some comparison units on the covariates.",
    "No spillover: training one unit does not change a comparison unit's KPI.",
    "Irreversible exposure: once a cohort starts it stays exposed.",
)


@dataclass(frozen=True)
class LongFrame:
    """A panel as moderndid's long frame, and the unit order of its influence functions.

    ``frame`` has columns id (row of the unit in the grid, 1-based), t (period index
    1..P), g (first exposed period index, 0 when never exposed within the panel), y,
    w and covariates x0, x1, ...; ``rows`` are the grid rows of the units moderndid
    keeps, in the order of its influence-function rows.
    """

    frame: pd.DataFrame
    rows: np.ndarray
    xformla: str | None
    balanced: bool
    notes: tuple[str, ...]


def long_frame(grid: PanelGrid, panel: KpiPanel, *, balance: bool = True) -> LongFrame:
    """Spread ``grid`` into moderndid's long frame, dropping what moderndid cannot use.

    Treated units exposed from the first period have no pre-period and are dropped;
    treated units whose first period is after the last one are never exposed in the
    data and count as never treated. With ``balance`` units missing any period are
    dropped (R ``did``'s default); otherwise the panel stays unbalanced.
    """
    notes: list[str] = []
    n_p = grid.n_periods
    g = np.where(grid.treated & (grid.first < n_p), grid.first + 1, 0)
    keep = grid.observed.any(axis=1)
    early = keep & grid.treated & (grid.first == 0)
    if early.any():
        notes.append(
            f"{int(early.sum())} trained units were exposed from the first period (no "
            "pre-period) and are left out"
        )
    keep &= ~early
    complete = np.asarray(grid.observed.all(axis=1), dtype=bool)
    balanced = bool(complete[keep].all())
    if balance and not balanced:
        dropped = int((keep & ~complete).sum())
        notes.append(
            f"the panel is unbalanced: {dropped} units missing a period are dropped to "
            "balance it (R did's default)"
        )
        keep &= complete
        balanced = True
    unit_w = np.where(grid.observed, grid.w, 0.0).sum(axis=1) / np.maximum(
        grid.observed.sum(axis=1), 1
    )
    rows = np.flatnonzero(keep)
    obs = grid.observed[rows]
    r_idx, t_idx = np.nonzero(obs)
    unit = rows[r_idx]
    frame = pd.DataFrame(
        {
            "id": unit + 1,
            "t": t_idx + 1,
            "g": g[unit],
            "y": grid.y[unit, t_idx],
            "w": unit_w[unit],
        }
    )
    xformla = None
    names: list[str] = []
    design = np.ones((len(rows), 1))
    for k, col in enumerate(panel.covariates):
        x = pd.to_numeric(panel.units[col], errors="coerce").to_numpy(dtype=float)[rows]
        if np.isnan(x).all():
            continue
        if np.isnan(x).any():
            notes.append(f"covariate {col!r} has missing values, filled with its mean")
            x = np.where(np.isnan(x), np.nanmean(x), x)
        # A constant column or a full set of one-hot levels is collinear with the
        # intercept and makes every cell's propensity and outcome fits singular.
        grown = np.column_stack([design, x])
        if np.linalg.matrix_rank(grown) == design.shape[1]:
            continue
        design = grown
        frame[f"x{k}"] = x[r_idx]
        names.append(f"x{k}")
    if names:
        xformla = "~ " + " + ".join(names)
    # moderndid sorts by (t, g, id) and keeps units in order of first appearance, with
    # never-treated (g = 0, coded inf) last within a period.
    first_t = np.argmax(obs, axis=1)
    g_key = np.where(g[rows] == 0, np.iinfo(np.int64).max, g[rows])
    order = np.lexsort((rows, g_key, first_t))
    return LongFrame(frame, rows[order], xformla, balanced, tuple(notes))


class CallawaySantAnna:
    """Group-time effects aggregated over cohorts, by moderndid (Callaway & Sant'Anna 2021).

    Examples:
        >>> CallawaySantAnna().method
        'dr'
    """

    name: ClassVar[str] = "staggered"

    def __init__(self, control: Control = "never", method: Method = "dr") -> None:
        """Choose the comparison units and how each ATT(g, t) adjusts for covariates.

        Args:
            control: "never" compares each cohort with never-treated units, "notyet"
                also with cohorts not yet exposed at t.
            method: "dr" doubly robust (Sant'Anna & Zhao 2020), "ipw" inverse
                probability weighting, "reg" outcome regression.
        """
        if control not in CONTROL_LABEL:
            raise ValueError(f"control must be 'never' or 'notyet', not {control!r}")
        if method not in ("dr", "ipw", "reg"):
            raise ValueError(f"method must be 'dr', 'ipw' or 'reg', not {method!r}")
        self.control = control
        self.method = method

    @property
    def label(self) -> str:
        """The method as a person reads it."""
        return (
            "group-time difference-in-differences (Callaway & Sant'Anna 2021, "
            f"{CONTROL_LABEL[self.control]})"
        )

    def fit(self, panel: KpiPanel) -> Estimate:
        """Estimate the effect on the trained for ``panel``."""
        grid = PanelGrid.from_panel(panel)
        facts = panel_facts(grid)
        base: dict[str, Any] = {
            "kpi": panel.kpi,
            "method": self.label,
            "n_treated": int(grid.treated.sum()),
            "n_comparison": int((~grid.treated).sum()),
            "n_pre_periods": facts.n_pre_periods,
            "n_post_periods": facts.n_post_periods,
            "pre_mean_treated": facts.pre_mean_treated,
            "assumptions": ASSUMPTIONS,
        }
        data = long_frame(grid, panel)
        if not self._usable(data):
            unbalanced = long_frame(grid, panel, balance=False)
            if self._usable(unbalanced) and len(unbalanced.frame) > MAX_UNBALANCED_CELLS:
                return _empty(
                    base,
                    (
                        *data.notes,
                        "balancing the panel leaves no trained or no comparison units, and "
                        f"moderndid's unbalanced-panel estimator is too slow beyond "
                        f"{MAX_UNBALANCED_CELLS:,} cells ({len(unbalanced.frame):,} here)",
                    ),
                )
            data = unbalanced
        notes = list(data.notes)
        g = data.frame.groupby("id")["g"].first()
        n_t, n_c = int((g > 0).sum()), int((g == 0).sum())
        base |= {"n_treated": n_t, "n_comparison": n_c}
        if n_t == 0:
            return _empty(base, (*notes, "no trained unit with a pre-period and KPI data"))
        if n_c == 0 and self.control == "never":
            return _empty(base, (*notes, "no never-trained units to compare with"))
        if not data.balanced:
            notes.append(
                "the panel is unbalanced and balancing it would leave no trained or no "
                "comparison units: moderndid's unbalanced-panel (repeated cross-section) "
                "estimator is used"
            )
        try:
            fitted = self._moderndid(data, notes)
        except (ValueError, np.linalg.LinAlgError) as err:
            return _empty(base, (*notes, f"moderndid could not estimate any effect: {err}"))
        return self._estimate(base, grid, data, fitted, notes)

    def _usable(self, data: LongFrame) -> bool:
        """True when ``data`` holds trained units and the comparison this control needs."""
        g = data.frame["g"]
        return bool((g > 0).any()) and (self.control == "notyet" or bool((g == 0).any()))

    def _moderndid(self, data: LongFrame, notes: list[str]) -> dict[str, Any]:
        """Run att_gt and the simple and dynamic aggregations; warnings join ``notes``."""
        # imported here: moderndid pulls in polars and scipy.stats, ~1 s the CLI
        # should not pay for commands that never fit this estimator
        from moderndid import aggte, att_gt

        weighted = bool((data.frame["w"] != 1.0).any())
        if weighted:
            notes.append("cell weights vary: each unit enters with its mean cell weight")
        caught: list[warnings.WarningMessage] = []
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                gt = att_gt(
                    data=data.frame,
                    yname="y",
                    tname="t",
                    idname="id",
                    gname="g",
                    xformla=data.xformla,
                    weightsname="w" if weighted else None,
                    est_method=self.method,
                    control_group="nevertreated" if self.control == "never" else "notyettreated",
                    panel=data.balanced,
                    allow_unbalanced_panel=not data.balanced,
                    cband=False,
                    boot=False,
                )
                simple = aggte(gt, type="simple", cband=False)
                dynamic = aggte(gt, type="dynamic", cband=False, min_e=-MAX_LAG, max_e=MAX_LAG)
        finally:
            notes += _condense(str(w.message) for w in caught if "pre-test" not in str(w.message))
        return {"gt": gt, "simple": simple, "dynamic": dynamic}

    def _estimate(
        self,
        base: dict[str, Any],
        grid: PanelGrid,
        data: LongFrame,
        fitted: dict[str, Any],
        notes: list[str],
    ) -> Estimate:
        gt, simple, dynamic = fitted["gt"], fitted["simple"], fitted["dynamic"]
        n = int(gt.n_units)
        g_order = np.asarray(gt.G, dtype=float)
        g_rows = data.frame.groupby("id")["g"].first().reindex(data.rows + 1).to_numpy(float)
        g_rows = np.where(g_rows == 0, np.inf, g_rows)
        if len(g_rows) == n and np.array_equal(g_rows, g_order):
            cluster = grid.cluster[data.rows]
        else:
            cluster = np.arange(n)
            notes.append("moderndid's unit order is unknown here: errors are unit-level")
        # moderndid's influence functions are scaled so that se = sqrt(sum IF^2) / n.
        psi_gt = np.asarray(gt.influence_func, dtype=float) / n
        cov_gt = cluster_covariance(psi_gt, cluster)
        psi = np.asarray(simple.influence_func_overall, dtype=float) / n
        cov = cluster_covariance(psi, cluster)
        ci = normal_interval(float(simple.overall_att), None if cov is None else float(cov[0, 0]))
        n_clusters = len(np.unique(cluster))
        events, pretrend_p = _event_table(dynamic, gt, cluster, n, n_clusters)
        periods = pd.to_datetime(grid.periods)
        gt_table = [
            {
                "group": periods[int(gg) - 1].date().isoformat(),
                "time": periods[int(tt) - 1].date().isoformat(),
                "att": float(a),
                "se": None if cov_gt is None else float(np.sqrt(cov_gt[k, k])),
            }
            for k, (gg, tt, a) in enumerate(zip(gt.groups, gt.times, gt.att_gt, strict=True))
        ]
        pre = np.flatnonzero(np.asarray(gt.groups) > np.asarray(gt.times))
        p_cells = None
        if len(pre) and cov_gt is not None:
            theta = np.asarray(gt.att_gt, dtype=float)[pre]
            p_cells = wald_p_value(theta, cov_gt[np.ix_(pre, pre)], n_clusters)
        return Estimate(
            **base,
            effect=ci.effect,
            ci_low=ci.ci_low,
            ci_high=ci.ci_high,
            p_value=ci.p_value,
            se=ci.se,
            pretrend_p=pretrend_p,
            event_study=events,
            notes=tuple(dict.fromkeys(notes)),
            diagnostics={
                "control_group": CONTROL_LABEL[self.control],
                "estimation_method": self.method,
                "base_period": "varying",
                "n_clusters": n_clusters,
                "n_cohorts": len(np.unique(np.asarray(gt.groups))),
                "balanced_panel": data.balanced,
                "pretrend_p_group_time": p_cells,
                "group_time": gt_table,
            },
        )


def _event_table(
    dynamic: Any, gt: Any, cluster: np.ndarray, n: int, n_clusters: int
) -> tuple[pd.DataFrame, float | None]:
    """Event-time effects with cluster-robust intervals, and the Wald test of e < 0."""
    e_all = np.asarray(dynamic.event_times, dtype=float).astype(int)
    att = np.asarray(dynamic.att_by_event, dtype=float)
    cov = cluster_covariance(np.asarray(dynamic.influence_func, dtype=float) / n, cluster)
    # units behind each event time: the cohorts with an ATT(g, g + e) cell
    groups, times = np.asarray(gt.groups, dtype=float), np.asarray(gt.times, dtype=float)
    sizes = pd.Series(np.asarray(gt.G, dtype=float)).value_counts()
    records = []
    for k, e in enumerate(e_all):
        cohorts = np.unique(groups[times - groups == e])
        r = normal_interval(float(att[k]), None if cov is None else float(cov[k, k]))
        records.append(
            {
                "event_time": int(e),
                "effect": r.effect,
                "ci_low": r.ci_low,
                "ci_high": r.ci_high,
                "se": r.se,
                "n_units": int(sizes.reindex(cohorts).fillna(0).sum()),
            }
        )
    table = pd.DataFrame.from_records(records, columns=EVENT_COLUMNS)
    pre = np.flatnonzero((e_all < 0) & np.isfinite(att))
    pretrend_p = None
    if len(pre) and cov is not None:
        pretrend_p = wald_p_value(att[pre], cov[np.ix_(pre, pre)], n_clusters)
    return table, pretrend_p


def _condense(messages: Iterable[str]) -> list[str]:
    """One note per kind of warning: moderndid repeats one per (g, t) cell.

    Examples:
        >>> _condense(["No units in group 4.0 at 5", "No units in group 7.0 at 9", "x"])
        ['No units in group 4.0 at 5 (and 1 similar)', 'x']
    """
    kinds: dict[str, list[str]] = {}
    for m in messages:
        kinds.setdefault(re.sub(r"\d+(\.\d+)?", "#", m), []).append(m)
    return [
        ms[0] + (f" (and {len(ms) - 1} similar)" if len(ms) > 1 else "") for ms in kinds.values()
    ]


def _empty(fields: dict[str, Any], notes: tuple[str, ...]) -> Estimate:
    return Estimate(
        **fields, effect=None, ci_low=None, ci_high=None, p_value=None, se=None, notes=notes
    )
