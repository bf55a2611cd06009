"""The planted truth, in exactly the estimand ``analyze`` reports as ``effect``.

contract.md, "Who is trained, who is compared, and when": the average planted
effect over every written post-start (trained unit, period) cell.  Trained units
are derived from the participation rows as written, with the contract's rules,
so the truth cannot drift from what the analysis sees.
"""

from __future__ import annotations

import pandas as pd

#: contract.md: assigned < enrolled < completed; dropped counts as enrolled, exempt as
#: completed, and a row without status counts as completed.
RUNG_LEVEL = {"assigned": 0, "enrolled": 1, "dropped": 1, "completed": 2, "exempt": 2}


def _filled(column: pd.Series) -> pd.Series:
    return column.fillna("").astype(str)


def trained_starts(
    participation: pd.DataFrame,
    people: pd.DataFrame,
    *,
    rung: str = "completed",
    unit: str = "person",
) -> pd.Series:
    """Each treated unit's start date (ISO text), indexed by unit_id.

    Randomised programs (any row with an ``arm``) are intention to treat: every
    treatment-arm unit whatever its status.  Otherwise units at or above ``rung``.
    A team is treated from the earliest start of its qualifying members.

    Examples:
        >>> p = pd.DataFrame({"person_id": ["a", "b", "c"], "program": "x",
        ...     "start_date": ["2026-01-05", "2026-01-12", "2026-01-05"],
        ...     "status": ["completed", "dropped", ""]})
        >>> trained_starts(p, pd.DataFrame({"person_id": [], "team_id": []})).to_dict()
        {'a': '2026-01-05', 'c': '2026-01-05'}
    """
    rows = participation
    if "arm" in rows and _filled(rows["arm"]).ne("").any():
        rows = rows[_filled(rows["arm"]) == "treatment"]
    else:
        status = _filled(rows["status"]) if "status" in rows else pd.Series("", index=rows.index)
        level = status.replace("", "completed").map(RUNG_LEVEL)
        rows = rows[level >= RUNG_LEVEL[rung]]
    if unit == "team":
        units = rows["person_id"].map(people.set_index("person_id")["team_id"])
    else:
        units = rows["person_id"]
    return rows["start_date"].groupby(units.to_numpy()).min()


def average_planted_effect(kpi_rows: pd.DataFrame, starts: pd.Series) -> float:
    """Mean of the rows' ``effect`` over treated units' periods ending on/after their start.

    Only rows present in ``kpi_rows`` count, so gaps in the KPI file are left out.

    Examples:
        >>> rows = pd.DataFrame({"unit_id": ["a", "a", "a", "b"],
        ...     "period": ["2026-01-04", "2026-01-11", "2026-01-18", "2026-01-18"],
        ...     "effect": [0.0, 1.0, 3.0, 0.0]})
        >>> average_planted_effect(rows, pd.Series({"a": "2026-01-05"}))
        2.0
    """
    start = kpi_rows["unit_id"].map(starts)
    # ISO dates compare correctly as text
    post = start.notna() & (kpi_rows["period"] >= start.fillna(""))
    if not post.any():
        raise ValueError("no treated post-period cells: the truth is undefined")
    return float(kpi_rows.loc[post, "effect"].mean())
