"""KPI panels: first exposed period, wait-listed controls, team KPIs."""

from __future__ import annotations

import ibis
import numpy as np
import pandas as pd
import pytest

from impactlens.domain.errors import ImpactLensError
from impactlens.domain.plan import ImpactPlan
from impactlens.metrics.exposure import build_roster
from impactlens.metrics.panel import build_panel

WEEKS = pd.date_range("2025-01-05", periods=10, freq="W-SUN")


def _setup(part_rows: list[dict[str, object]], unit: str = "person"):
    people = pd.DataFrame(
        {
            "person_id": ["a", "b", "c", "d"],
            "team_id": ["t1", "t1", "t2", "t2"],
            "persona": ["x"] * 4,
            "tenure_years": [1.0, 2.0, 3.0, 4.0],
            "location": ["north", "south", "north", "south"],
        }
    )
    part = pd.DataFrame(part_rows)
    part["program"] = "p"
    for col in ("status", "arm"):
        if col not in part:
            part[col] = None
        part[col] = part[col].astype("string")
    part["start_date"] = pd.to_datetime(part["start_date"])
    part["trained_from"] = pd.to_datetime(part.get("trained_from", pd.NaT))
    ids = ["a", "b", "c", "d"] if unit == "person" else ["t1", "t2"]
    kpis = pd.DataFrame(
        [(u, w, float(i)) for u in ids for i, w in enumerate(WEEKS)],
        columns=["unit_id", "period", "value"],
    )
    kpis["kpi"] = "k"
    kpis["weight"] = np.nan
    con = ibis.duckdb.connect()
    tables = {
        "people": con.create_table("people", people),
        "participation": con.create_table("participation", part),
        "kpis": con.create_table("kpis", kpis),
    }
    plan = ImpactPlan.model_validate(
        {
            "program": "p",
            "kpis": [{"id": "k", "direction": "increase", "unit": unit}],
            "comparison": {"covariates": ["tenure_years", "location"]},
        }
    )
    roster = build_roster(tables, plan)
    return build_panel(tables, plan, plan.kpis[0], roster)


def test_first_exposed_period_is_first_period_ending_on_or_after_start() -> None:
    panel = _setup([{"person_id": "a", "start_date": "2025-01-15"}])  # a Wednesday
    units = panel.units.set_index("unit_id")
    assert units.loc["a", "first_period"] == pd.Timestamp("2025-01-19")
    assert pd.isna(units.loc["b", "first_period"])  # observational comparison: never exposed
    assert list(units["group"]) == ["treated", "comparison", "comparison", "comparison"]
    # numeric covariates stay numeric, categories become one-hot columns
    assert {"tenure_years", "location=north", "location=south"} <= set(panel.covariates)
    assert units.loc["a", "cluster"] == "t1"


def test_wait_listed_control_loses_periods_from_trained_from() -> None:
    panel = _setup(
        [
            {"person_id": "a", "start_date": "2025-01-15", "arm": "treatment"},
            {
                "person_id": "b",
                "start_date": "2025-01-15",
                "arm": "control",
                "trained_from": "2025-02-10",
            },
        ]
    )
    assert panel.randomised
    b = panel.cells[panel.cells["unit_id"] == "b"]
    assert b["period"].max() == pd.Timestamp("2025-02-09")
    # a randomised control's start date is its assignment date
    units = panel.units.set_index("unit_id")
    assert units.loc["b", "first_period"] == pd.Timestamp("2025-01-19")


def test_team_is_trained_from_earliest_member_and_reports_share() -> None:
    panel = _setup(
        [
            {"person_id": "a", "start_date": "2025-02-01"},
            {"person_id": "b", "start_date": "2025-01-20", "status": "assigned"},
        ],
        unit="team",
    )
    units = panel.units.set_index("unit_id")
    assert units.loc["t1", "group"] == "treated"
    assert units.loc["t1", "share_trained"] == 0.5
    assert units.loc["t1", "first_period"] == pd.Timestamp("2025-02-02")
    assert units.loc["t2", "group"] == "comparison"
    assert units.loc["t1", "tenure_years"] == 1.5  # team mean of members


def test_mixed_arms_in_a_team_are_an_error() -> None:
    with pytest.raises(ImpactLensError, match="both arms"):
        _setup(
            [
                {"person_id": "a", "start_date": "2025-01-15", "arm": "treatment"},
                {"person_id": "b", "start_date": "2025-01-15", "arm": "control"},
            ],
            unit="team",
        )
