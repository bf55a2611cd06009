"""The synthetic organisation: teams, people, managers and their HR attributes."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from impactlens.services.demo_data.timeline import DAY, END, REGIONS, WEEKS, iso

#: Department -> (share of teams, job role, persona for new hires, persona for seniors).
DEPARTMENTS: dict[str, tuple[float, str, str, str]] = {
    "Customer Care": (0.45, "Customer Service Agent", "new agent", "senior agent"),
    "Sales": (0.25, "Account Executive", "new rep", "senior rep"),
    "Field Ops": (0.30, "Delivery Driver", "new driver", "senior driver"),
}
LEAD_ROLE, LEAD_PERSONA = "Team Lead", "team lead"
MIN_TEAM_SIZE = 6
NEW_HIRE_YEARS = 2.0  # tenure below this makes a "new" persona

_FIRST = (
    "anna emma lena sofia mila julia sara eva nora lea ines marta clara lucia elin ida "
    "freya chloe amelia zoe liam noah lucas finn jonas elias ben paul max leon mateo "
    "hugo daan sem lars erik oscar james oliver jack tom pablo diego"
)
_LAST = (
    "jansen devries bakker visser smit meyer schmidt fischer weber wagner becker hoffmann "
    "schulz koch richter larsen hansen nielsen berg lindqvist johansson garcia martinez "
    "lopez sanchez perez gomez fernandez murphy kelly walsh smith jones taylor brown wilson "
    "evans peeters maes claes"
)
FIRST_NAMES, LAST_NAMES = _FIRST.split(), _LAST.split()

PEOPLE_COLUMNS = [
    "person_id",
    "team_id",
    "manager_id",
    "role",
    "location",
    "persona",
    "hire_date",
    "termination_date",
    "email",
    "lms_account",
    "department",
    "tenure_years",
    "employment_type",
    "fte",
]


@dataclass(frozen=True)
class Organisation:
    """Everyone in the demo company.

    ``people`` has the contract's people columns plus internal ones used by the
    simulation (``team_index``, ``hire``/``termination`` as datetime64, ``is_lead``);
    ``teams`` has team_id, department, location and manager_id.
    """

    people: pd.DataFrame
    teams: pd.DataFrame

    def members(self, department: str, *, leads: bool = False) -> pd.DataFrame:
        """The people of a department (team leads only when ``leads``)."""
        p = self.people
        keep = p["department"].eq(department)
        if not leads:
            keep &= ~p["is_lead"]
        return p[keep]


def _team_frame(rng: np.random.Generator, teams: int) -> pd.DataFrame:
    shares = np.array([d[0] for d in DEPARTMENTS.values()])
    counts = np.floor(shares * teams).astype(int)
    counts[0] += teams - counts.sum()
    departments = rng.permutation(np.repeat(list(DEPARTMENTS), counts))
    return pd.DataFrame(
        {
            "team_id": [f"T{i + 1:03d}" for i in range(teams)],
            "department": departments,
            "location": rng.choice(list(REGIONS), size=teams),
        }
    )


def _names(rng: np.random.Generator, numbers: np.ndarray) -> list[str]:
    first = rng.choice(FIRST_NAMES, size=len(numbers))
    last = rng.choice(LAST_NAMES, size=len(numbers))
    return [f"{f}.{s}.{n}@demo-corp.example" for f, s, n in zip(first, last, numbers, strict=True)]


def build_organisation(rng: np.random.Generator, people: int, teams: int) -> Organisation:
    """Draw an organisation of ``people`` people in ``teams`` teams.

    Each team has one department and region; its first member is its team lead
    (the members' manager); team leads report to their department's first lead.

    Examples:
        >>> org = build_organisation(np.random.default_rng(1), 120, 12)
        >>> len(org.people), org.people["team_id"].nunique(), org.people["is_lead"].sum()
        (120, 12, np.int64(12))
    """
    if teams < 3 or people < teams * MIN_TEAM_SIZE:
        raise ValueError(f"need at least 3 teams and {MIN_TEAM_SIZE} people per team")
    team = _team_frame(rng, teams)
    sizes = MIN_TEAM_SIZE + rng.multinomial(people - MIN_TEAM_SIZE * teams, [1 / teams] * teams)
    team_index = np.repeat(np.arange(teams), sizes)
    is_lead = np.zeros(people, dtype=bool)
    is_lead[np.concatenate([[0], np.cumsum(sizes)[:-1]])] = True

    numbers = rng.permutation(people) + 1
    ids = np.array([f"E{n:05d}" for n in numbers], dtype=object)
    dept = team["department"].to_numpy()[team_index]

    # Tenure in years at END: leads are more senior; a gamma gives ~12% hired in the window.
    tenure = np.where(is_lead, 1.0 + rng.gamma(3.0, 2.5, people), rng.gamma(2.0, 2.5, people))
    tenure = np.minimum(tenure, 35.0)
    hire = END - np.round(tenure * 365.25).astype(int) * DAY
    tenure_years = np.round((END - hire).astype(int) / 365.25, 2)

    # About 5% of non-leads leave during the window (at least 8 weeks after joining).
    window_start = END - (WEEKS - 1) * 7 * DAY
    earliest = np.maximum(hire + 56 * DAY, window_start)
    span = (END - 7 * DAY - earliest).astype(int)
    leaves = (~is_lead) & (rng.random(people) < 0.05) & (span > 0)
    offset = (rng.random(people) * np.maximum(span, 1)).astype(int)
    termination = np.where(leaves, earliest + offset * DAY, np.datetime64("NaT"))

    role = np.where(is_lead, LEAD_ROLE, [DEPARTMENTS[d][1] for d in dept])
    new_persona = np.array([DEPARTMENTS[d][2] for d in dept])
    senior_persona = np.array([DEPARTMENTS[d][3] for d in dept])
    persona = np.where(
        is_lead, LEAD_PERSONA, np.where(tenure_years < NEW_HIRE_YEARS, new_persona, senior_persona)
    )
    part_time = (~is_lead) & (rng.random(people) < 0.18)
    fte = np.where(part_time, rng.choice([0.5, 0.6, 0.8], size=people), 1.0)

    lead_of_team = ids[is_lead]
    team = team.assign(manager_id=lead_of_team)
    head = team.groupby("department", sort=False)["manager_id"].first()
    manager = lead_of_team[team_index].copy()
    lead_manager = head.reindex(dept).to_numpy()
    manager[is_lead] = lead_manager[is_lead]
    manager[is_lead & (manager == ids)] = ""  # department heads report outside the demo

    lms = rng.choice(np.arange(1000, 100000), size=people, replace=False)
    frame = pd.DataFrame(
        {
            "person_id": ids,
            "team_id": team["team_id"].to_numpy()[team_index],
            "manager_id": manager,
            "role": role,
            "location": team["location"].to_numpy()[team_index],
            "persona": persona,
            "hire_date": iso(hire),
            "termination_date": iso(termination.astype("datetime64[D]")),
            "email": _names(rng, numbers),
            "lms_account": [f"lms-{n}" for n in lms],
            "department": dept,
            "tenure_years": tenure_years,
            "employment_type": np.where(part_time, "part-time", "full-time"),
            "fte": fte,
            "team_index": team_index,
            "hire": hire,
            "termination": termination.astype("datetime64[D]"),
            "is_lead": is_lead,
        }
    )
    return Organisation(people=frame, teams=team)
