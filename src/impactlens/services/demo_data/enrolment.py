"""Who joins each program, when, how far they get, and the effect planted on their KPI.

Selection is on levels and covariates only (a unit's fixed effect, tenure); no one
selects on their future trend, so a difference-in-differences that compares
changes is unbiased while a naive comparison of levels is not.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from impactlens.services.demo_data.catalogue import ProgramSpec
from impactlens.services.demo_data.kpis import KpiPanel
from impactlens.services.demo_data.timeline import DAY, first_exposed, iso

CARE_EFFECT = 3.0  # csat points once the effect has fully built up
CARE_RAMP_WEEKS = 4
PILOT_EFFECT = -0.75  # complaints per 100 deliveries for a team whose members all completed
PILOT_RAMP_WEEKS = 5
MAX_PILOT_TEAMS = 60


@dataclass(frozen=True)
class Enrolment:
    """A program's participation rows and the effect it plants on its KPI panel."""

    participation: pd.DataFrame
    effect: np.ndarray  # same shape as the KPI panel's expected values


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _standardise(x: np.ndarray) -> np.ndarray:
    sd = x.std()
    return (x - x.mean()) / (sd if sd > 0 else 1.0)


def ramp(first: np.ndarray, periods: int, full: float, weeks: int) -> np.ndarray:
    """Units x periods effect: 0 before ``first``, then ``full`` reached over ``weeks``.

    ``first`` is each unit's first exposed period index (``periods`` or more: never).

    Examples:
        >>> ramp(np.array([1, 9]), 5, 2.0, 2).tolist()
        [[0.0, 1.0, 2.0, 2.0, 2.0], [0.0, 0.0, 0.0, 0.0, 0.0]]
    """
    event_time = np.arange(periods)[None, :] - first[:, None]
    built = np.minimum(1.0, (event_time + 1) / weeks)
    return np.where(event_time >= 0, full * built, 0.0)


def _rows(
    spec: ProgramSpec,
    people: pd.DataFrame,
    cohort: np.ndarray,
    status: np.ndarray,
    start: np.ndarray,
    end: np.ndarray,
) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "person_id": people["person_id"].to_numpy(),
            "program": spec.id,
            "cohort": cohort,
            "start_date": iso(start),
            "end_date": iso(end),
            "status": status,
        }
    )


def _self_selected(
    rng: np.random.Generator,
    spec: ProgramSpec,
    people: pd.DataFrame,
    panel: KpiPanel,
    *,
    intercept: float,
    on_level: float,
    on_tenure: float,
    dropout: float,
) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """Voluntary enrolment in cohorts; returns rows, completer mask and start dates."""
    n = len(people)
    starts = spec.start_dates()
    hire = people["hire"].to_numpy().astype("datetime64[D]")
    term = people["termination"].to_numpy().astype("datetime64[D]")
    # only people with a few months of KPI history who stay past the last wave may join
    eligible = (hire <= starts[0] - 84 * DAY) & (np.isnat(term) | (term > starts[-1] + 28 * DAY))
    level = _standardise(panel.level)
    tenure = _standardise(np.log(people["tenure_years"].to_numpy() + 0.25))
    joins = eligible & (rng.random(n) < _sigmoid(intercept + on_level * level + on_tenure * tenure))
    wave = rng.integers(0, len(starts), n)
    start = starts[wave]
    # weaker performers drop out a little more often: still selection on levels only
    drops = joins & (rng.random(n) < _sigmoid(np.log(dropout / (1 - dropout)) - 0.3 * level))
    completes = joins & ~drops
    days = spec.weeks * 7 + rng.integers(-3, 8, n)
    end = np.where(completes, start + days * DAY, np.datetime64("NaT"))
    status = np.where(completes, "completed", "dropped")
    cohort = np.array([f"{spec.cohort_prefix} {w + 1}" for w in wave])
    rows = _rows(spec, people, cohort, status, start, end.astype("datetime64[D]"))
    return rows[joins].reset_index(drop=True), completes, start


def care_excellence(
    rng: np.random.Generator, spec: ProgramSpec, agents: pd.DataFrame, panel: KpiPanel
) -> Enrolment:
    """An effective program that high performers and seniors self-select into.

    Completers gain ``CARE_EFFECT`` csat points, built up over ``CARE_RAMP_WEEKS``
    weeks from their first exposed period; dropouts gain nothing.
    """
    rows, completes, start = _self_selected(
        rng, spec, agents, panel, intercept=-1.25, on_level=1.1, on_tenure=0.4, dropout=0.11
    )
    first = first_exposed(panel.periods, start)
    first[~completes] = len(panel.periods)
    effect = ramp(first, len(panel.periods), CARE_EFFECT, CARE_RAMP_WEEKS)
    return Enrolment(participation=rows, effect=effect)


def masterclass(
    rng: np.random.Generator, spec: ProgramSpec, reps: pd.DataFrame, panel: KpiPanel
) -> Enrolment:
    """A well-loved program with no KPI effect at all (the vanity trap)."""
    rows, _, _ = _self_selected(
        rng, spec, reps, panel, intercept=-0.55, on_level=0.7, on_tenure=0.2, dropout=0.08
    )
    return Enrolment(participation=rows, effect=np.zeros_like(panel.expected))


def pilot_team_count(field_teams: int) -> int:
    """How many Field Ops teams the randomised pilot takes: about two in three, even.

    Examples:
        >>> pilot_team_count(90), pilot_team_count(18), pilot_team_count(3)
        (60, 12, 2)
    """
    return max(2, min(MAX_PILOT_TEAMS, 2 * (field_teams // 3)))


def packaging_pilot(
    rng: np.random.Generator, spec: ProgramSpec, people: pd.DataFrame, panel: KpiPanel
) -> Enrolment:
    """A team-randomised pilot: region-stratified pairs, one team of each pair treated.

    Every member of a pilot team gets a row with the team's arm and the assignment
    date as start_date; treatment members complete at ~85%.  A treatment team's
    complaints fall by ``PILOT_EFFECT`` times its share of completers.
    """
    teams = pd.DataFrame({"team_id": panel.unit_ids})
    region = people.groupby("team_id")["location"].first().reindex(teams["team_id"]).to_numpy()
    chosen = np.sort(rng.choice(len(teams), pilot_team_count(len(teams)), replace=False))
    order = chosen[np.lexsort((rng.random(len(chosen)), region[chosen]))]
    flip = rng.random(len(order) // 2) < 0.5
    treated_first = np.repeat(flip, 2)
    second = np.tile([False, True], len(order) // 2)
    arm_of = dict(zip(teams["team_id"].to_numpy()[order], treated_first ^ second, strict=True))

    assigned = spec.start_dates()[0]
    hire = people["hire"].to_numpy().astype("datetime64[D]")
    term = people["termination"].to_numpy().astype("datetime64[D]")
    on_team = people["team_id"].isin(list(arm_of)).to_numpy()
    present = on_team & (hire <= assigned) & (np.isnat(term) | (term >= assigned))
    members = people[present]
    treated = members["team_id"].map(arm_of).to_numpy().astype(bool)
    n = len(members)
    draw = rng.random(n)
    status = np.where(
        treated,
        np.where(draw < 0.85, "completed", np.where(draw < 0.95, "dropped", "enrolled")),
        "assigned",
    )
    start = np.full(n, assigned)
    end = np.where(
        status == "completed", assigned + rng.integers(14, 36, n) * DAY, np.datetime64("NaT")
    ).astype("datetime64[D]")
    rows = _rows(spec, members, np.full(n, f"{spec.cohort_prefix} 2026-Q2"), status, start, end)
    rows["arm"] = np.where(treated, "treatment", "control")

    share = (
        rows.assign(done=rows["status"].eq("completed"), team=members["team_id"].to_numpy())
        .groupby("team")["done"]
        .mean()
    )
    team_share = np.array([share.get(t, 0.0) if arm_of.get(t) else 0.0 for t in panel.unit_ids])
    first = np.full(len(teams), len(panel.periods))
    first[team_share > 0] = first_exposed(panel.periods, np.array([assigned]))[0]
    effect = ramp(first, len(panel.periods), PILOT_EFFECT, PILOT_RAMP_WEEKS)
    return Enrolment(participation=rows, effect=effect * team_share[:, None])
