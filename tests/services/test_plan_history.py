"""Plan history: each new plan version is recorded once, with key-level changes and a diff."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from impactlens.services.plan_history import history_caveat, key_changes, plan_history, record_plan
from impactlens.services.workspace import Workspace

V1 = "program: p\nkpis:\n  - {id: csat, direction: increase, unit: person, target: 80}\n"
V2 = "program: p\nkpis:\n  - {id: nps, direction: increase, unit: person, target: 80}\n"


def test_changes_are_recorded_once_and_flagged_after_launch(tmp_path: Path) -> None:
    ws = Workspace.create(tmp_path / "ws")
    participation = tmp_path / "part.csv"
    participation.write_text("person_id,program,start_date\nE1,p,2026-03-01\n")
    from impactlens.services.importing import import_data

    import_data(ws, "participation", [participation])
    with ws.store() as store:
        assert record_plan(store, "p", V1, by="ann", now=datetime(2026, 2, 1))
        assert not record_plan(store, "p", V1, by="ann", now=datetime(2026, 2, 2))
        assert record_plan(store, "p", V2, by="bob", now=datetime(2026, 4, 1))
        history = plan_history(store, "p")
    assert len(history) == 1  # the first version is the baseline, not a change
    change = history[0]
    assert change["after_launch"] and change["recorded_by"] == "bob"
    assert {"key": "kpis[csat].direction", "before": "increase", "after": None} in change["changes"]
    assert "-  - {id: csat" in change["diff"] and "+  - {id: nps" in change["diff"]
    caveat = history_caveat(history)
    assert caveat is not None and caveat.startswith("plan changed after launch: 1 change")


def test_change_before_launch_is_not_a_caveat(tmp_path: Path) -> None:
    ws = Workspace.create(tmp_path / "ws")
    with ws.store() as store:
        record_plan(store, "p", V1, by="ann")
        record_plan(store, "p", V2, by="ann")
        history = plan_history(store, "p")
    assert len(history) == 1 and not history[0]["after_launch"]  # no participation: no launch
    assert history_caveat(history) is None


def test_key_changes_ignore_formatting() -> None:
    assert key_changes(V1, V1.replace("  - {", "  -   {")) == []
    assert key_changes("a: 1", "a: 2\nb: 3") == [
        {"key": "a", "before": 1, "after": 2},
        {"key": "b", "before": None, "after": 3},
    ]
