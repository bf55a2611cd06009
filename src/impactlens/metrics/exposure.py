"""Who is trained, who is compared, and from when: the contract's rules, once.

The contract ("Who is trained, who is compared, and when") is implemented here and
nowhere else; estimators, metrics and reports read the resulting :class:`Roster`.
Queries are Ibis expressions; only per-person rows of one program and the people
columns the plan names are brought into memory.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import ibis
import pandas as pd

from impactlens.domain.plan import ImpactPlan

# assigned < enrolled < completed; dropped counts as enrolled, exempt as completed and
# a row without status as completed (contract).
RUNG_LEVEL: dict[str | None, int] = {
    "assigned": 0,
    "enrolled": 1,
    "dropped": 1,
    "completed": 2,
    "exempt": 2,
    None: 2,
}


@dataclass(frozen=True)
class Roster:
    """One program's people: eligibility, participation and exposure.

    ``people`` has one row per person in the people table (sorted by person_id) with
    columns person_id, team_id, eligible, participant, level, meets_rung, start_date,
    arm, trained_from, status, plus the people columns the plan uses.
    """

    program: str
    people: pd.DataFrame
    randomised: bool
    rung: int
    unknown_participants: int = 0
    warnings: tuple[str, ...] = field(default_factory=tuple)

    @property
    def trained(self) -> pd.DataFrame:
        """People in the treated group (the treatment arm when randomised)."""
        p = self.people
        if self.randomised:
            return p[p["arm"] == "treatment"]
        return p[p["meets_rung"]]

    @property
    def comparison(self) -> pd.DataFrame:
        """People in the comparison group (the control arm when randomised)."""
        p = self.people
        if self.randomised:
            return p[p["arm"] == "control"]
        return p[p["eligible"] & ~p["participant"]]


def _eligible_mask(
    people: pd.DataFrame, rules: Mapping[str, Any], available: Sequence[str]
) -> tuple[pd.Series, list[str]]:
    """Who could have been trained, and warnings for rules naming columns people lack.

    A rule on a missing column cannot be evaluated, so nobody counts as eligible: the
    analysis then has no comparison group (and says so) rather than a wrong one.
    """
    mask = pd.Series(True, index=people.index)
    warnings: list[str] = []
    for column, wanted in rules.items():
        if column not in available:
            warnings.append(
                f"comparison.eligible names the people column {column!r}, which no people "
                f"import has (columns: {', '.join(sorted(available)) or 'none yet'}); "
                "nobody can be compared until it is imported"
            )
            mask &= False
            continue
        values = wanted if isinstance(wanted, list) else [wanted]
        as_text = {str(v) for v in values}
        mask &= people[column].astype("string").isin(as_text).fillna(False).astype(bool)
    return mask, warnings


def plan_people_columns(plan: ImpactPlan, available: Sequence[str]) -> list[str]:
    """People columns the analysis of ``plan`` reads (covariates, segments, eligibility)."""
    wanted = ["person_id", "team_id", "persona"]
    wanted += list(plan.comparison.covariates) + list(plan.segments)
    wanted += list(plan.comparison.eligible)
    seen: list[str] = []
    for col in wanted:
        if col in available and col not in seen:
            seen.append(col)
    return seen


def build_roster(tables: Mapping[str, ibis.Table], plan: ImpactPlan) -> Roster:
    """Apply the contract's rules to the store's people and participation tables.

    A rule naming a column people do not have is a warning, never an error (the
    contract: analyze always emits a document; ``check`` reports the gap).
    """
    people_t = tables["people"]
    cols = plan_people_columns(plan, people_t.columns)
    people = people_t.select(*cols).order_by("person_id").to_pandas()
    part_t = tables["participation"]
    part = (
        part_t.filter(part_t.program == plan.program)
        .select("person_id", "start_date", "status", "arm", "trained_from")
        .order_by("person_id")
        .to_pandas()
    )
    warnings: list[str] = []
    known = part["person_id"].isin(people["person_id"])
    unknown = int((~known).sum())
    if unknown:
        warnings.append(
            f"{unknown} participation rows name people who are not in the people data; "
            "they are left out (see the data-health summary)"
        )
    part = part[known]
    part = part.assign(level=part["status"].map(lambda s: RUNG_LEVEL.get(s, 2)).astype(int))
    rung = RUNG_LEVEL[plan.participants.status]
    people = people.merge(part, on="person_id", how="left")
    people["participant"] = people["start_date"].notna()
    people["meets_rung"] = people["participant"] & (people["level"].fillna(-1) >= rung)
    people["eligible"], eligibility_warnings = _eligible_mask(
        people, plan.comparison.eligible, people_t.columns
    )
    warnings += eligibility_warnings
    randomised = bool(part["arm"].notna().any())
    if randomised:
        no_arm = int((people["participant"] & people["arm"].isna()).sum())
        if no_arm:
            warnings.append(
                f"{no_arm} participants have no arm in a randomised program; "
                "they are left out (intention to treat uses arms only)"
            )
    else:
        below = int((people["participant"] & ~people["meets_rung"]).sum())
        if below:
            warnings.append(
                f"{below} participants are below the rung '{plan.participants.status}' "
                "(e.g. dropped or only assigned); they are in neither group"
            )
        outside = int((people["meets_rung"] & ~people["eligible"]).sum())
        if outside:
            warnings.append(
                f"{outside} trained people are outside comparison.eligible; they are still analysed"
            )
    return Roster(
        program=plan.program,
        people=people.reset_index(drop=True),
        randomised=randomised,
        rung=rung,
        unknown_participants=unknown,
        warnings=tuple(warnings),
    )
