"""The balanced blocks synthetic control and synthetic DiD are fitted on.

A KPI panel may have several start-date cohorts and gaps. Each cohort becomes one
block: the periods in which its trained units are observed, and the comparison
units observed in every compared period (synthetic weights need complete series;
units with gaps are left out, with a note).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from impactlens.estimators.grid import PanelGrid

MIN_PRE = 2


@dataclass(frozen=True)
class Cohort:
    """One start date's balanced block.

    Attributes:
        start: grid index of the cohort's first exposed period.
        cols: ``(T,)`` grid period indices of the block, sorted; the first ``t0`` are pre.
        t0: number of pre-periods in the block.
        y_c: ``(N0, T)`` comparison units' KPI (complete).
        y_tr: ``(N1, T)`` the cohort's treated units' KPI, 0 where not observed.
        w_tr: ``(N1, T)`` their cell weights, 0 where not observed.
    """

    start: int
    cols: np.ndarray
    t0: int
    y_c: np.ndarray
    y_tr: np.ndarray
    w_tr: np.ndarray

    @property
    def n_treated(self) -> int:
        """Treated units in the cohort."""
        return int(self.y_tr.shape[0])

    @property
    def post_cells(self) -> float:
        """Total weight of the cohort's treated post cells: its share of the estimand."""
        return float(self.w_tr[:, self.t0 :].sum())

    def treated_mean(self, keep: np.ndarray | None = None) -> np.ndarray:
        """``(T,)`` cell-weighted mean path of the treated units (``keep`` selects rows)."""
        w = self.w_tr if keep is None else self.w_tr[keep]
        y = self.y_tr if keep is None else self.y_tr[keep]
        total = w.sum(axis=0)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(total > 0, (w * y).sum(axis=0) / total, np.nan)


def build_cohorts(
    grid: PanelGrid,
) -> tuple[list[Cohort], np.ndarray, np.ndarray, list[str]] | str:
    """Balanced blocks per start-date cohort, comparison and treated rows, notes.

    Returns a sentence instead when no block can be built.
    """
    notes: list[str] = []
    obs = grid.observed
    treated = np.flatnonzero(grid.treated & grid.has_first & (grid.first < grid.n_periods))
    n_lost = int(grid.treated.sum()) - len(treated)
    if n_lost:
        notes.append(f"{n_lost} trained units have no period after their start and are left out")
    if len(treated) == 0:
        return "no trained unit has KPI periods after its start"
    comparison = np.flatnonzero(~grid.treated)
    if len(comparison) < 2:
        return "a synthetic comparison needs at least two untrained units"
    cols_by_start: dict[int, np.ndarray] = {}
    for start in np.unique(grid.first[treated]):
        rows = treated[grid.first[treated] == start]
        cols = np.flatnonzero(obs[rows].any(axis=0))
        if (cols < start).sum() >= MIN_PRE and (cols >= start).any():
            cols_by_start[int(start)] = cols
    if not cols_by_start:
        return (
            f"a synthetic comparison needs at least {MIN_PRE} pre-periods and one "
            "post-period with trained units observed"
        )
    used = np.unique(np.concatenate(list(cols_by_start.values())))
    complete = comparison[obs[np.ix_(comparison, used)].all(axis=1)]
    if len(complete) < len(comparison):
        notes.append(
            f"{len(comparison) - len(complete)} untrained units with gaps in the compared "
            "periods are left out (synthetic weights need complete series)"
        )
    if len(complete) < 2:
        return (
            "fewer than two untrained units are observed in every compared period: "
            "a synthetic comparison needs complete series"
        )
    cohorts = []
    for start, cols in cols_by_start.items():
        rows = treated[grid.first[treated] == start]
        cohorts.append(
            Cohort(
                start=start,
                cols=cols,
                t0=int((cols < start).sum()),
                y_c=grid.y[np.ix_(complete, cols)],
                y_tr=np.nan_to_num(grid.y[np.ix_(rows, cols)]),
                w_tr=grid.w[np.ix_(rows, cols)],
            )
        )
    kept = np.concatenate([treated[grid.first[treated] == s] for s in cols_by_start])
    if len(kept) < len(treated):
        notes.append(
            f"{len(treated) - len(kept)} trained units in cohorts with fewer than {MIN_PRE} "
            "pre-periods are left out"
        )
    return cohorts, complete, np.sort(kept), notes
