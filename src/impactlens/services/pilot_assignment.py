"""``impactlens pilot assign``: stratified, re-randomised, optionally wait-listed and staggered.

Units (teams, or people) are randomised within strata: the combinations of the
chosen people columns and quartile bins of the units' baseline KPI. The draw is
repeated until every covariate's |standardised mean difference| is below the
threshold (re-randomisation, Morgan & Rubin 2012, Annals of Statistics 40:1263; the
analysis then stays valid as a randomisation test over the accepted draws). The
seed, the number of draws and the balance table are recorded in the store, printed,
and frozen into the registration. Every eligible member of a unit gets a
participation row with the unit's arm.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pyarrow as pa

from impactlens.ingest.keys import pseudonymise
from impactlens.metrics.panel import program_seed
from impactlens.services.pilot_design import PilotInputError, _history_frame, _kpi_of

if TYPE_CHECKING:
    from impactlens.services.workspace import Workspace

MAX_SMD, MAX_DRAWS, BINS = 0.1, 1000, 4
WAVE_GAP = timedelta(weeks=4)  # between staggered waves
WAIT = timedelta(weeks=12)  # a wait-listed control's later start, when the plan sets no end


@dataclass(frozen=True)
class Assignment:
    """The drawn assignment: participation rows, balance and what to record."""

    rows: pd.DataFrame
    balance: list[dict[str, Any]]
    seed: int
    draws: int
    max_smd: float
    units: dict[str, str]  # unit id -> arm
    unit: str
    strata: list[str]
    threshold: float = MAX_SMD

    @property
    def balanced(self) -> bool:
        """Whether a draw met the balance threshold (else the best of the draws is kept)."""
        return self.max_smd < self.threshold

    def record(self) -> dict[str, Any]:
        """The JSON kept in the store and frozen into the registration."""
        return {
            "unit": self.unit,
            "seed": self.seed,
            "draws": self.draws,
            "max_smd": round(self.max_smd, 4),
            "threshold": self.threshold,
            "balanced": self.balanced,
            "strata": self.strata,
            "balance": self.balance,
            "n_treatment": sum(a == "treatment" for a in self.units.values()),
            "n_control": sum(a == "control" for a in self.units.values()),
            "units": self.units,
        }


def _smd(x: np.ndarray, treated: np.ndarray) -> np.ndarray:
    """|SMD| of each column of ``x`` (units x covariates) between arms."""
    xt, xc = x[treated], x[~treated]
    pooled = np.sqrt((xt.var(axis=0, ddof=1) + xc.var(axis=0, ddof=1)) / 2)
    diff = np.abs(xt.mean(axis=0) - xc.mean(axis=0))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(pooled > 0, diff / pooled, np.where(diff > 0, np.inf, 0.0))


def _draw(strata: np.ndarray, share: float, rng: np.random.Generator) -> np.ndarray:
    """Treatment flags: a random ``share`` within each stratum, the total kept at share x n.

    Strata are visited in random order and each takes floor(c_k) - floor(c_(k-1)) treated
    units, with c_k = u + share x (units so far), u uniform: systematic rounding, so no
    stratum is off its share by a unit or more and the arms' sizes differ by at most one.
    """
    treated = np.zeros(len(strata), dtype=bool)
    carry = rng.random()
    for s in rng.permutation(np.unique(strata)):
        idx = np.flatnonzero(strata == s)
        before = np.floor(carry)
        carry += share * len(idx)
        n_t = int(np.floor(carry) - before)
        treated[rng.permutation(idx)[:n_t]] = True
    return treated


def _units(ws: Workspace, program: str, unit: str, strata: list[str]) -> pd.DataFrame:
    """One row per unit: id, stratum columns, baseline KPI, and its eligible members."""
    plan, _ = ws.plan(program)
    spec = _kpi_of(plan, None)
    rows, people = _history_frame(ws, plan, spec)
    people = people[people["eligible"]].copy()
    extra = [c for c in strata if c not in people.columns]
    if extra:
        with ws.store(read_only=True) as store:
            columns = list(store.columns("people"))
            missing = [c for c in extra if c not in columns]
            if missing:
                raise PilotInputError(
                    f"no people column {missing[0]!r} to stratify by "
                    f"(columns: {', '.join(columns)})"
                )
            more = store.table("people").select("person_id", *extra).to_pyarrow().to_pandas()
        people = people.merge(more, on="person_id", how="left")
    key = "team_id" if unit == "team" else "person_id"
    people = people.dropna(subset=[key])
    base = rows.groupby("unit_id")["value"].mean()
    if spec.unit == "team":
        people["baseline"] = people["team_id"].map(base)
    else:
        people["baseline"] = people["person_id"].map(base)
    agg: dict[str, Any] = {
        c: (c, lambda s: s.mode().iloc[0] if s.notna().any() else None) for c in strata
    }
    units = people.groupby(key).agg(
        baseline=("baseline", "mean"), members=("person_id", list), **agg
    )
    return units.reset_index().rename(columns={key: "unit_id"}).sort_values("unit_id")


def assign_pilot(
    ws: Workspace,
    program: str,
    *,
    unit: str = "team",
    strata: list[str] | None = None,
    share: float = 0.5,
    waves: int = 1,
    wait_list: bool = False,
    seed: int | None = None,
    start: date | None = None,
    max_smd: float = MAX_SMD,
    by: str = "cli",
) -> Assignment:
    """Draw, balance-check and record the assignment of ``program``'s pilot."""
    plan, _ = ws.plan(program)
    section = plan.pilot
    start = start or (section.start if section else None)
    if start is None:
        raise PilotInputError("give the assignment date: --start DATE or pilot.start in the plan")
    if not 0 < share < 1:
        raise PilotInputError(f"share must be between 0 and 1 (exclusive), got {share}")
    if waves < 1:
        raise PilotInputError(f"waves must be at least 1, got {waves}")
    strata = list(strata or [])
    units = _units(ws, program, unit, strata)
    n = len(units)
    if n < 2 * waves:
        raise PilotInputError(
            f"{n} {'teams' if unit == 'team' else 'people'} cannot fill two arms"
            + (f" over {waves} waves" if waves > 1 else "")
        )
    baseline = units["baseline"].astype(float)
    filled = baseline.fillna(baseline.mean() if baseline.notna().any() else 0.0)
    key = (
        units[strata].astype(str).agg("|".join, axis=1)
        if strata
        else pd.Series("", index=units.index)
    )
    # as many baseline bins as keep strata at two units or more on average
    n_bins = max(1, min(BINS, n // (2 * key.nunique())))
    bins = pd.qcut(filled.rank(method="first"), n_bins, labels=False)
    stratum = (key + "|q" + bins.astype(str)).to_numpy()
    covariates = pd.DataFrame({"baseline_kpi": filled.to_numpy()})
    for c in strata:
        for level in sorted(units[c].dropna().astype(str).unique()):
            covariates[f"{c}={level}"] = (units[c].astype(str) == level).astype(float).to_numpy()
    x = covariates.to_numpy(dtype=float)
    seed = program_seed(program) if seed is None else seed
    rng = np.random.default_rng(seed)
    best: tuple[float, np.ndarray] | None = None
    draws = 0
    while draws < MAX_DRAWS:
        draws += 1
        treated = _draw(stratum, share, rng)
        if treated.all() or not treated.any():
            continue
        worst = float(np.max(_smd(x, treated))) if x.shape[1] else 0.0
        if best is None or worst < best[0]:
            best = (worst, treated)
        if worst < max_smd:
            break
    assert best is not None  # two units or more always give a two-armed draw eventually
    worst, treated = best
    smd = _smd(x, treated)
    balance = [
        {
            "covariate": name,
            "mean_treatment": round(float(x[treated, j].mean()), 4),
            "mean_control": round(float(x[~treated, j].mean()), 4),
            "smd": round(float(smd[j]), 4),
        }
        for j, name in enumerate(covariates.columns)
    ]
    wave = np.zeros(n, dtype=int)
    t_idx = rng.permutation(np.flatnonzero(treated))
    wave[t_idx] = np.arange(len(t_idx)) % waves
    end = section.end if section and section.end else None
    wait_from = (end + timedelta(days=1)) if end else start + WAIT + WAVE_GAP * (waves - 1)
    records = []
    for i, row in enumerate(units.itertuples()):
        arm = "treatment" if treated[i] else "control"
        begins = start + WAVE_GAP * int(wave[i]) if treated[i] else start
        cohort = f"wave {wave[i] + 1}" if treated[i] and waves > 1 else arm
        for person in row.members:
            records.append(
                {
                    "person_id": person,
                    "program": program,
                    "start_date": begins.isoformat(),
                    "arm": arm,
                    "trained_from": wait_from.isoformat() if wait_list and not treated[i] else "",
                    "cohort": cohort,
                    "status": "assigned",
                }
            )
    result = Assignment(
        rows=pd.DataFrame(records),
        balance=balance,
        seed=seed,
        draws=draws,
        max_smd=worst,
        units={
            str(u): ("treatment" if t else "control")
            for u, t in zip(units["unit_id"], treated, strict=True)
        },
        unit=unit,
        strata=strata,
        threshold=max_smd,
    )
    _record(ws, program, result, by)
    return result


def _record(ws: Workspace, program: str, assignment: Assignment, by: str) -> None:
    row = {
        "program": program,
        "created_at": datetime.now(UTC).replace(tzinfo=None),
        "created_by": by,
        "seed": assignment.seed,
        "record": json.dumps(assignment.record(), sort_keys=True),
    }
    with ws.store() as store:
        store.table("pilot_assignments").get_backend().insert(
            "pilot_assignments", pa.Table.from_pylist([row])
        )


def latest_assignment(ws: Workspace, program: str) -> dict[str, Any] | None:
    """The last recorded assignment of ``program`` (None when there is none)."""
    with ws.store(read_only=True) as store:
        t = store.table("pilot_assignments")
        rows = (
            t.filter(t.program == program).order_by(t.created_at.desc()).limit(1).to_pyarrow()
        ).to_pylist()
    return json.loads(rows[0]["record"]) if rows else None


def write_assignment(
    assignment: Assignment, out: Path, ws: Workspace, people_file: Path | None = None
) -> Path:
    """Write the rows as CSV; with ``people_file`` the pseudonyms become the HR file's ids.

    The store keeps only pseudonyms, and an import takes an id that is exactly a stored
    pseudonym as that person, so the file re-imports either way; the people file only
    makes it readable to whoever hands out the training (original ids).
    """
    rows = assignment.rows.copy()
    if people_file is not None:
        raw = pd.read_csv(people_file, dtype=str, usecols=lambda c: c.lower() == "person_id")
        key = ws.key()
        back = {pseudonymise(key, r): r for r in raw.iloc[:, 0].dropna()}
        rows["person_id"] = rows["person_id"].map(lambda p: back.get(p, p))
    out.parent.mkdir(parents=True, exist_ok=True)
    rows.to_csv(out, index=False)
    return out
