"""``impactlens pilot design``: how small an effect a pilot can see, and how big it must be.

From the KPI's history before launch it estimates the KPI's SD, the intra-team
correlation and r2 (how much a unit's earlier mean explains of its later one); the
history is split into an earlier and a later half of its periods. ``sd`` is the SD of
the units' later-half means, ``r2`` the squared correlation of earlier and later
means, and ``icc`` the one-way ANOVA estimator on the people's earlier-half means
grouped by team (Donner & Koval 1980, Biometrics 36:19; ``n0`` for unequal teams).
The closed form of ``estimators.power`` then gives the minimum detectable effect and
the units the plan's target needs; a simulation with the analysis's own randomised
ANCOVA checks the power of the design at that effect.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from scipy import special

from impactlens.domain.errors import ImpactLensError
from impactlens.domain.plan import ImpactPlan, KpiSpec
from impactlens.estimators.power import check_design, mde_people, mde_teams, needed_units, power_at
from impactlens.estimators.power_simulation import SimulatedDesign, simulated_power
from impactlens.metrics.exposure import build_roster
from impactlens.metrics.panel import program_seed

if TYPE_CHECKING:
    from impactlens.services.workspace import Workspace

DRAWS = 300


class PilotInputError(ImpactLensError):
    """A pilot design or assignment that cannot be made as asked."""


@dataclass(frozen=True)
class KpiHistory:
    """The variance facts of one KPI before launch."""

    kpi: str
    kpi_unit: str  # person | team
    sd: float
    icc: float
    r2: float
    teams: int
    people: int
    team_size: float
    mean: float
    periods: int


@dataclass(frozen=True)
class PilotDesign:
    """The contract's ``pilot design`` document (``to_dict``) and the sentence to print."""

    kpi: str
    unit: str
    share: float
    icc: float
    r2: float
    sd: float
    alpha: float
    power: float
    mde: float
    mde_relative: float | None
    needed_for_target: int | None
    team_size: float
    teams: int | None = None
    people: int | None = None
    target_effect: float | None = None
    power_at_target: float | None = None
    simulation: dict[str, Any] = field(default_factory=dict)
    history: dict[str, Any] = field(default_factory=dict)
    sentence: str = ""

    def to_dict(self) -> dict[str, Any]:
        """The JSON document: the contract's keys first, rounded."""
        out = {k: v for k, v in asdict(self).items() if v is not None or k == "needed_for_target"}
        rounded = ("icc", "r2", "sd", "mde", "mde_relative", "team_size", "power_at_target")
        for key in (*rounded, "target_effect"):
            if isinstance(out.get(key), float):
                out[key] = round(out[key], 4)
        # the contract: `people` replaces `teams` in a people design
        out.pop("people" if out["unit"] == "team" else "teams", None)
        return out


def _history_frame(ws: Workspace, plan: ImpactPlan, kpi: KpiSpec) -> tuple[pd.DataFrame, Any]:
    """KPI rows of eligible units before launch, and the roster's people."""
    with ws.store(read_only=True) as store:
        tables = {n: store.table(n) for n in ("people", "participation", "kpis")}
        roster = build_roster(tables, plan)
        k = tables["kpis"]
        rows = (
            k.filter(k.kpi == kpi.id)
            .select("unit_id", "period", "value")
            .order_by(["unit_id", "period"])
            .to_pyarrow()
            .to_pandas()
        )
    people = roster.people
    starts = pd.to_datetime(people["start_date"]).dropna()
    launch = plan.pilot.start if plan.pilot and plan.pilot.start else None
    cut = pd.Timestamp(launch) if launch else (starts.min() if len(starts) else None)
    if cut is not None:
        rows = rows[pd.to_datetime(rows["period"]) < cut]
    eligible = people[people["eligible"]]
    if kpi.unit == "team":
        keep = set(eligible["team_id"].dropna().astype(str))
    else:
        keep = set(eligible["person_id"].astype(str))
    if keep:
        rows = rows[rows["unit_id"].astype(str).isin(keep)]
    rows = rows.dropna(subset=["value"])
    if rows.empty or rows["period"].nunique() < 2:
        raise PilotInputError(
            f"KPI {kpi.id!r} has no history before launch for the plan's eligible units "
            "(at least two periods are needed): import its past values with "
            "`impactlens import kpis FILE` first"
        )
    return rows, people


def _icc(values: np.ndarray, groups: np.ndarray) -> float:
    """One-way ANOVA intraclass correlation, clipped to [0, 1].

    Examples:
        >>> _icc(np.array([1.0, 1.1, 3.0, 3.1, 5.0, 5.2]), np.array([0, 0, 1, 1, 2, 2])) > 0.95
        True
    """
    frame = pd.DataFrame({"y": values, "g": groups})
    sizes = frame.groupby("g")["y"].size()
    g, n = len(sizes), len(frame)
    if g < 2 or n <= g:
        return 0.0
    means = frame.groupby("g")["y"].transform("mean")
    msb = float(((means - frame["y"].mean()) ** 2).sum()) / (g - 1)
    msw = float(((frame["y"] - means) ** 2).sum()) / (n - g)
    n0 = (n - float((sizes**2).sum()) / n) / (g - 1)
    denom = msb + (n0 - 1) * msw
    return float(min(1.0, max(0.0, (msb - msw) / denom))) if denom > 0 else 0.0


def kpi_history(ws: Workspace, plan: ImpactPlan, kpi: KpiSpec) -> KpiHistory:
    """SD, intra-team correlation and r2 of ``kpi`` from its history before launch."""
    rows, people = _history_frame(ws, plan, kpi)
    periods = np.sort(rows["period"].unique())
    half = periods[len(periods) // 2]
    early = rows[rows["period"] < half].groupby("unit_id")["value"].mean()
    late = rows[rows["period"] >= half].groupby("unit_id")["value"].mean()
    both = pd.concat({"pre": early, "post": late}, axis=1).dropna()
    sd = float(late.std(ddof=1)) if len(late) > 1 else 0.0
    r2 = float(np.corrcoef(both["pre"], both["post"])[0, 1] ** 2) if len(both) > 2 else 0.0
    r2 = 0.0 if not math.isfinite(r2) else min(r2, 0.99)
    team_of = people.set_index("person_id")["team_id"]
    if kpi.unit == "team":
        icc, teams = 1.0, int(late.size)
        members = people[people["team_id"].isin(late.index)].groupby("team_id").size()
        size = float(members.mean()) if len(members) else 1.0
        n_people = int(members.sum())
    else:
        team = early.index.map(team_of)
        known = ~pd.isna(team)
        icc = _icc(early.to_numpy()[known], np.asarray(team[known]).astype(str))
        teams = int(pd.Series(late.index.map(team_of)).nunique())
        n_people = int(late.size)
        size = n_people / max(teams, 1)
    if not sd > 0:
        raise PilotInputError(f"KPI {kpi.id!r} does not vary between units: no effect can be seen")
    return KpiHistory(
        kpi.id, kpi.unit, sd, icc, r2, teams, n_people, size, float(late.mean()), len(periods)
    )


def _kpi_of(plan: ImpactPlan, kpi_id: str | None) -> KpiSpec:
    chosen = kpi_id or (plan.pilot.primary_kpi if plan.pilot else None)
    if chosen is None:
        if not plan.kpis:
            raise PilotInputError(f"the plan of {plan.program!r} names no KPI to design for")
        return plan.primary_kpis()[0]
    try:
        return plan.kpi(chosen)
    except KeyError:
        known = ", ".join(k.id for k in plan.kpis) or "none"
        raise PilotInputError(
            f"the plan of {plan.program!r} has no KPI {chosen!r} (KPIs: {known})"
        ) from None


def _sentence(d: PilotDesign, kpi: KpiSpec, baseline: float | None) -> str:
    units = "teams" if d.unit == "team" else "people"
    n = d.teams if d.unit == "team" else d.people
    move = "drop" if kpi.direction == "decrease" else "rise"
    see = (
        f"{d.mde_relative:.0%} {move} ({d.mde:.3g})" if d.mde_relative else f"{move} of {d.mde:.3g}"
    )
    if d.target_effect is None or d.needed_for_target is None:
        return f"With {n} {units} you could see a {see}; the plan sets no target to compare."
    rel = abs(d.target_effect / baseline) if baseline else None
    target = f"{rel:.0%} ({abs(d.target_effect):.3g})" if rel else f"{abs(d.target_effect):.3g}"
    if n is not None and d.needed_for_target > n:
        return (
            f"With {n} {units} you could only see a {see}; your target is {target}: "
            f"it needs {d.needed_for_target} {units}."
        )
    return (
        f"With {n} {units} you could see a {see}; your target is {target}, "
        f"which needs {d.needed_for_target} {units}."
    )


def design_pilot(
    ws: Workspace,
    program: str,
    *,
    kpi: str | None = None,
    unit: str | None = None,
    teams: int | None = None,
    people: int | None = None,
    share: float | None = None,
    alpha: float | None = None,
    power: float | None = None,
    draws: int = DRAWS,
) -> PilotDesign:
    """The minimum detectable effect and the units the target needs, checked by simulation."""
    plan, _ = ws.plan(program)
    section = plan.pilot
    unit = unit or (section.unit if section else "team")
    share = share if share is not None else (section.share if section else 0.5)
    alpha = alpha if alpha is not None else (section.alpha if section else 0.05)
    power = power if power is not None else (section.power if section else 0.8)
    if unit not in ("team", "people"):
        raise PilotInputError(f"unit must be 'team' or 'people', got {unit!r}")
    other = people if unit == "team" else teams
    if other is not None:
        named, wanted, switch = ("people", "teams", "people")
        if unit == "people":
            named, wanted, switch = "teams", "people", "team"
        raise PilotInputError(
            f"{named} is for a design that randomises {named}; this one randomises {wanted}: "
            f"give {wanted} instead (or unit {switch})"
        )
    try:
        check_design(alpha, power, share)
    except ValueError as exc:
        raise PilotInputError(str(exc)) from None
    spec = _kpi_of(plan, kpi)
    if unit == "people" and spec.unit == "team":
        raise PilotInputError(
            f"KPI {spec.id!r} is measured per team: randomise teams (--unit team), not people"
        )
    h = kpi_history(ws, plan, spec)
    given = teams if unit == "team" else people
    n = given if given is not None else (h.teams if unit == "team" else h.people)
    if n < 2 or round(share * n) < 1 or round(share * n) > n - 1:
        raise PilotInputError(
            f"{n} {'teams' if unit == 'team' else 'people'} cannot fill two arms with share "
            f"{share:g}: each arm needs at least one"
        )
    icc = h.icc if unit == "team" else 0.0
    size = h.team_size if unit == "team" else 1.0
    if unit == "team":
        mde = mde_teams(h.sd, icc, h.r2, share, n, size, alpha, power)
    else:
        mde = mde_people(h.sd, h.r2, share, n, alpha, power)
    baseline = spec.baseline if spec.baseline is not None else h.mean
    target_effect = (
        spec.target - spec.baseline
        if spec.target is not None and spec.baseline is not None
        else None
    )
    needed = (
        None
        if target_effect is None
        else needed_units(
            target_effect,
            h.sd,
            h.r2,
            share,
            alpha,
            power,
            icc=icc if unit == "team" else None,
            team_size=size,
        )
    )
    se = mde / _multiplier(alpha, power)  # the design's standard error
    sim = SimulatedDesign.build(n, size if spec.unit == "person" else 1.0, share, h.sd, icc, h.r2)
    seed = program_seed(program)
    simulated = simulated_power(sim, mde, alpha, draws, seed)
    design = PilotDesign(
        kpi=spec.id,
        unit=unit,
        share=share,
        icc=h.icc,  # reported for people designs too, where it does not enter the formula
        r2=h.r2,
        sd=h.sd,
        alpha=alpha,
        power=power,
        mde=mde,
        mde_relative=mde / abs(baseline) if baseline else None,
        needed_for_target=needed,
        team_size=h.team_size,
        teams=n if unit == "team" else h.teams,
        people=n if unit == "people" else None,
        target_effect=target_effect,
        power_at_target=power_at(target_effect, se, alpha) if target_effect else None,
        simulation={
            "draws": draws,
            "seed": seed,
            "estimator": "randomised ANCOVA (intention to treat), cluster-robust t",
            "power_at_mde": round(simulated, 3),
            "closed_form_power": power,
        },
        history={"periods": h.periods, "units": h.teams if spec.unit == "team" else h.people},
    )
    return _with_sentence(design, spec, baseline)


def _multiplier(alpha: float, power: float) -> float:
    return float(special.ndtri(1 - alpha / 2) + special.ndtri(power))


def _with_sentence(design: PilotDesign, spec: KpiSpec, baseline: float | None) -> PilotDesign:
    return replace(design, sentence=_sentence(design, spec, baseline))
