"""The contract's rules for who is trained, who is compared and when."""

from __future__ import annotations

import ibis
import pandas as pd

from impactlens.domain.plan import ImpactPlan
from impactlens.metrics.exposure import build_roster


def _plan(**extra: object) -> ImpactPlan:
    base: dict[str, object] = {
        "program": "p",
        "kpis": [{"id": "k", "direction": "increase", "unit": "person"}],
    }
    base.update(extra)
    return ImpactPlan.model_validate(base)


def _tables(people: pd.DataFrame, part: pd.DataFrame) -> dict[str, ibis.Table]:
    con = ibis.duckdb.connect()
    for col in ("status", "arm"):
        part[col] = part[col].astype("string")
    part["trained_from"] = pd.to_datetime(part.get("trained_from"))
    return {
        "people": con.create_table("people", people),
        "participation": con.create_table("participation", part),
    }


PEOPLE = pd.DataFrame(
    {
        "person_id": [f"p{i}" for i in range(8)],
        "team_id": ["t1", "t1", "t2", "t2", "t3", "t3", "t4", "t4"],
        "persona": ["a"] * 8,
        "department": ["Care", "Care", "Care", "Sales", "Care", "Care", "Care", "Care"],
    }
)


def _part(rows: list[tuple[str, str | None, str | None]]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "person_id": [r[0] for r in rows],
            "program": ["p"] * len(rows),
            "start_date": pd.to_datetime(["2025-03-01"] * len(rows)),
            "status": [r[1] for r in rows],
            "arm": [r[2] for r in rows],
            "trained_from": [pd.NaT] * len(rows),
        }
    )


def test_rung_decides_who_is_trained_and_below_rung_is_in_neither_group() -> None:
    part = _part(
        [
            ("p0", "completed", None),
            ("p1", "dropped", None),
            ("p2", None, None),
            ("p3", "exempt", None),
            ("ghost", "completed", None),
        ]
    )
    roster = build_roster(
        _tables(PEOPLE, part), _plan(comparison={"eligible": {"department": "Care"}})
    )
    assert set(roster.trained["person_id"]) == {"p0", "p2", "p3"}  # no status = completed
    # comparison: eligible (Care) people with no participation row; p3 is Sales and trained
    assert set(roster.comparison["person_id"]) == {"p4", "p5", "p6", "p7"}
    assert roster.unknown_participants == 1
    text = " ".join(roster.warnings)
    assert "1 participants are below the rung 'completed'" in text
    assert "1 trained people are outside comparison.eligible" in text


def test_enrolled_rung_counts_dropped_as_trained() -> None:
    part = _part([("p0", "completed", None), ("p1", "dropped", None), ("p2", "assigned", None)])
    roster = build_roster(_tables(PEOPLE, part), _plan(participants={"status": "enrolled"}))
    assert set(roster.trained["person_id"]) == {"p0", "p1"}


def test_randomised_programs_compare_by_arm_whatever_the_status() -> None:
    part = _part(
        [
            ("p0", "dropped", "treatment"),
            ("p1", "completed", "treatment"),
            ("p2", None, "control"),
            ("p4", "completed", None),
        ]
    )
    roster = build_roster(_tables(PEOPLE, part), _plan())
    assert roster.randomised
    assert set(roster.trained["person_id"]) == {"p0", "p1"}
    assert set(roster.comparison["person_id"]) == {"p2"}
    assert any("no arm" in w for w in roster.warnings)


def test_eligible_on_a_missing_column_leaves_no_comparison_and_warns() -> None:
    part = _part([("p0", "completed", None)])
    plan = _plan(comparison={"eligible": {"division": "x"}})
    roster = build_roster(_tables(PEOPLE, part), plan)
    assert roster.comparison.empty
    text = " ".join(roster.warnings)
    assert "'division'" in text and "columns: department, person_id, persona, team_id" in text


def test_eligible_list_means_any_of_the_values() -> None:
    part = _part([("p0", "completed", None)])
    plan = _plan(comparison={"eligible": {"department": ["Care", "Sales"]}})
    roster = build_roster(_tables(PEOPLE, part), plan)
    assert len(roster.comparison) == 7
