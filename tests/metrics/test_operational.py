"""Operational metrics against figures computed by hand from tiny tables."""

from __future__ import annotations

from typing import Any

import ibis
import pytest

from impactlens.domain.plan import ImpactPlan
from impactlens.metrics.exposure import RUNG_LEVEL
from impactlens.metrics.operational import operational_metrics, program_participants

PLAN = ImpactPlan.model_validate(
    {
        "program": "prog",
        "personas": ["new", "senior"],
        "segments": ["region", "shoe_size"],
        "assets": [{"id": "a1"}, {"id": "a2"}],
    }
)


@pytest.fixture
def tables(make_tables: Any, rows: Any) -> dict[str, Any]:
    r = rows
    people = r.people(
        ("p1", "new", "north"), ("p2", "new", "north"), ("p3", "new", "north"),
        ("p4", "new", "north"), ("p5", "new", "south"), ("p6", "new", "south"),
        ("p7", "new", "south"), ("p8", "senior", "south"), ("p9", "senior", "south"),
        ("p10", "senior", None), ("p11", None, "north"), ("p12", None, "south"),
    )  # fmt: skip
    participation = r.participation(
        "prog",
        ("p1", "completed"), ("p2", "Completed "), ("p3", None), ("p4", "exempt"),
        ("p5", "dropped"), ("p6", "enrolled"), ("p7", "assigned"), ("p8", "completed"),
        ("p9", "completed"), ("p10", "enrolled"),
        ("p11", None, "control"),  # control arm: not offered the program
    ) + r.participation("other", ("p12", "completed"))  # fmt: skip

    def act(person: str, asset: str, program: str | None, minutes: float | None) -> dict:
        return {
            "person_id": person, "asset_id": asset, "verb": "completed",
            "timestamp": "2024-01-10", "program": program, "duration_minutes": minutes,
        }  # fmt: skip

    activity = [
        act("p1", "a1", None, 30),  # counts by asset
        act("p1", "x", "prog", 60),  # counts by program
        act("p2", "a2", None, 90),
        act("p8", "a1", "other", 45),  # a plan asset counts whatever its program
        act("p12", "a1", None, 15),  # a non-participant's activity still counts overall
        act("p3", "zz", "other", 100),  # neither: left out
        act("p5", "a2", None, None),  # a row without duration
    ]
    surveys = r.surveys(
        ("p1", "reaction", "sat", "5", 5.0), ("p2", "reaction", "sat", "4", 4.0),
        ("p8", "reaction", "sat", "3", 3.0), (None, "reaction", "sat", "5", 5.0),
        (None, "reaction", "sat", "4", 4.0), ("p12", "Reaction", "sat", "2", 2.0),
        ("p1", "relevance", "rel", "4", 4.0), (None, "relevance", "rel", "2", 2.0),
        ("p3", "reaction", "sat", "1", 1.0, "2024-02-01", "other"),
    )  # fmt: skip
    return make_tables(
        people=people, participation=participation, activity=activity, surveys=surveys
    )


def _eligible(ids: list[str]) -> Any:
    return ibis.memtable({"person_id": ids})


def test_overall_figures_by_hand(tables: dict[str, Any]) -> None:
    eligible = _eligible([f"p{i}" for i in range(1, 12)] + ["p13", "p13"])
    m = operational_metrics(tables, PLAN, eligible=eligible, min_group_size=3)
    expected = {
        "eligible": 12,  # duplicates counted once
        "reach": 0.75,  # 9 enrolled of 12 eligible
        "assigned": 10,  # control arm and other programs left out
        "enrolled": 9,  # dropped counts as enrolled, exempt and no status as completed
        "completed": 6,
        "dropped": 1,
        "exempt": 1,
        "completion_rate": 0.6667,
        "learning_hours": 4.0,  # (30 + 60 + 90 + 45 + 15) / 60
        "active_learners": 5,
        "hours_per_learner": 0.8,
        "activity_rows": 6,
        "assets_used": 3,
        "satisfaction_mean": 3.833,  # 23 / 6, anonymous answers included
        "satisfaction_n": 6,
        "relevance_mean": 3.0,
        "relevance_n": 2,
        "respondents": 3,  # p1, p2, p8: anonymous and non-participant answers are not people
        "anonymous_responses": 3,
        "response_rate": 0.3333,
    }
    assert {k: m[k] for k in expected} == expected
    assert m["warnings"] == [
        "segment column 'shoe_size' is not in people; it is left out of the breakdowns"
    ]


def test_by_persona_figures(tables: dict[str, Any]) -> None:
    m = operational_metrics(tables, PLAN, eligible=_eligible(["p1"]), min_group_size=1)
    new, senior = m["by_persona"]
    assert new == {
        "persona": "new", "n": 7, "enrolled": 6, "completed": 4, "dropped": 1,
        "completion_rate": 0.6667, "learning_hours": 3.0, "hours_per_learner": 1.0,
        "satisfaction_mean": 4.5, "satisfaction_n": 2, "relevance_mean": 4.0,
        "relevance_n": 1, "response_rate": 0.3333, "suppressed": False,
        "suppressed_reason": None,
    }  # fmt: skip
    assert (senior["n"], senior["completed"], senior["learning_hours"]) == (3, 2, 0.75)
    assert senior["satisfaction_mean"] == 3.0


def test_small_means_hidden_inside_a_shown_group(tables: dict[str, Any]) -> None:
    m = operational_metrics(tables, PLAN, eligible=_eligible(["p1"]), min_group_size=3)
    new = m["by_persona"][0]
    assert new["suppressed"] is False
    assert new["satisfaction_mean"] is None  # two ratings would expose two people
    assert new["satisfaction_n"] == 2


def test_persona_suppression_is_complemented(tables: dict[str, Any]) -> None:
    m = operational_metrics(tables, PLAN, eligible=_eligible(["p1"]), min_group_size=4)
    new, senior = m["by_persona"]
    assert senior["suppressed_reason"] == "small group"
    assert senior["persona"] == "senior" and senior["n"] is None
    # with the total shown, 'new' would give 'senior' back by differencing
    assert new["suppressed_reason"] == "complementary" and new["completed"] is None


def test_by_segment_values_and_missing_value(tables: dict[str, Any]) -> None:
    m = operational_metrics(tables, PLAN, eligible=_eligible(["p1"]), min_group_size=2)
    seg = {(r["segment"], r["value"]): r for r in m["by_segment"]}
    assert list(seg) == [("region", "(not set)"), ("region", "north"), ("region", "south")]
    assert seg[("region", "(not set)")]["suppressed_reason"] == "small group"
    assert seg[("region", "north")]["suppressed_reason"] == "complementary"
    south = seg[("region", "south")]
    assert (south["n"], south["enrolled"], south["completed"]) == (5, 4, 2)


def test_persona_without_people_is_suppressed(make_tables: Any, rows: Any) -> None:
    t = make_tables(
        people=rows.people(*[(f"p{i}", "new", "n") for i in range(6)]),
        participation=rows.participation("prog", *[(f"p{i}", None) for i in range(6)]),
    )
    m = operational_metrics(t, PLAN, eligible=_eligible([]), min_group_size=5)
    new, senior = m["by_persona"]
    assert senior["suppressed_reason"] == "small group"  # zero people is below the threshold
    assert new["suppressed_reason"] == "complementary"
    assert m["assigned"] == 6 and m["completed"] == 6  # no status counts as completed
    assert m["eligible"] == 0 and m["reach"] is None
    assert m["learning_hours"] == 0.0 and m["hours_per_learner"] is None
    assert m["satisfaction_mean"] is None and m["satisfaction_n"] == 0


def test_rung_of_each_status(make_tables: Any, rows: Any) -> None:
    statuses = ["assigned", "enrolled", "dropped", "completed", "exempt", None, ""]
    t = make_tables(
        participation=rows.participation("prog", *[(f"p{i}", s) for i, s in enumerate(statuses)])
    )
    got = program_participants(t["participation"], "prog").order_by("person_id").to_pandas()
    a, e, c = RUNG_LEVEL["assigned"], RUNG_LEVEL["enrolled"], RUNG_LEVEL["completed"]
    assert a < e < c
    assert got["rung"].tolist() == [a, e, e, c, c, c, c]
