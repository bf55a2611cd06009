"""Fully loaded program costs (Phillips: needs assessment to overhead), in EUR.

Sized so that, against the planted truth, the care program pays back clearly, the
masterclass loses money and the pilot is positive but within its uncertainty.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from impactlens.services.demo_data.catalogue import CARE, MASTERCLASS, PILOT


@dataclass(frozen=True)
class CostProfile:
    """How a program's costs arise: fixed costs at 5,000 people, then per learner."""

    needs_assessment: float
    development: float
    evaluation: float
    overhead: float
    delivery_per_learner: float  # facilitators, coaches, venues, licences
    hours_per_learner: float  # time away from work
    loaded_rate: float  # EUR per hour of salary and benefits
    development_share: float = 1.0  # prorate_share of development charged to the program


_PROFILE: dict[str, CostProfile] = {
    # development is shared with another care curriculum
    CARE: CostProfile(18_000, 140_000, 22_000, 35_000, 380.0, 14.0, 34.0, 0.6),
    MASTERCLASS: CostProfile(8_000, 60_000, 9_000, 25_000, 750.0, 16.0, 48.0),
    PILOT: CostProfile(12_000, 45_000, 28_000, 18_000, 420.0, 5.0, 31.0),
}

_ITEMS = {
    "needs_assessment": "Needs analysis and stakeholder interviews",
    "development": "Design and content development",
    "delivery": "Facilitators, coaches, venues and licences",
    "participant_time": "Participants' time away from work (hours x loaded rate)",
    "evaluation": "Impact evaluation and reporting",
    "overhead": "L&D overhead (share of team and platform)",
}

COST_COLUMNS = ["program", "item", "category", "amount", "prorate_share", "currency"]


def program_costs(participation: pd.DataFrame, people: int) -> pd.DataFrame:
    """One cost row per program and category; fixed costs scale with the org's size.

    Learners are the participation rows outside a control arm; the care program's
    development is shared with another curriculum (``prorate_share`` 0.6).

    Examples:
        >>> p = pd.DataFrame({"person_id": ["E1"], "program": ["packaging-pilot"],
        ...                   "arm": ["treatment"]})
        >>> costs = program_costs(p, 5000)
        >>> pilot = costs[costs["program"] == "packaging-pilot"].set_index("category")["amount"]
        >>> float(pilot["delivery"]), float(pilot["participant_time"])
        (420.0, 155.0)
    """
    scale = people / 5000
    rows = []
    for program, cost in _PROFILE.items():
        mine = participation[participation["program"] == program]
        if "arm" in mine:
            mine = mine[mine["arm"].fillna("") != "control"]
        learners = len(mine)
        amounts = {
            "needs_assessment": cost.needs_assessment * scale,
            "development": cost.development * scale,
            "delivery": cost.delivery_per_learner * learners,
            "participant_time": cost.hours_per_learner * cost.loaded_rate * learners,
            "evaluation": cost.evaluation * scale,
            "overhead": cost.overhead * scale,
        }
        for category, amount in amounts.items():
            rows.append(
                {
                    "program": program,
                    "item": _ITEMS[category],
                    "category": category,
                    "amount": round(amount, 0),
                    "prorate_share": cost.development_share if category == "development" else 1.0,
                    "currency": "EUR",
                }
            )
    return pd.DataFrame(rows, columns=COST_COLUMNS)
