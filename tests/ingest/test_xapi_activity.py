"""LRS statements counted as activity: verb map, programs, actors resolved to people."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from tests.ingest.xapi_statements import ADL, COURSE, statement, write_lines

from impactlens.services.importing import import_data
from impactlens.services.workspace import Workspace

PLAN = """\
program: sales
kpis:
  - {id: revenue, direction: increase, unit: person, primary: true}
comparison: {method: auto}
assets:
  - {id: "https://courses.example.com/au/1"}
"""
SETTINGS = """
[xapi]
account_home_page = "https://lms.x"

[xapi.activities]
"https://courses.example.com/au/2" = "sales"
"""
PEOPLE = [f"P{i:02d}" for i in range(1, 13)]
MONTHS = [f"2024-{m:02d}-01" for m in range(1, 7)]


def _write(path: Path, header: str, rows: list[str]) -> Path:
    path.write_text(header + "\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return path


def _statements() -> list[dict[str, Any]]:
    def one(n: int, actor: dict[str, Any], au: int, minutes: int, **more: Any) -> dict[str, Any]:
        result = {"completion": True, "duration": f"PT{minutes}M", "score": {"scaled": 0.8}}
        obj = {"id": f"{COURSE}{au}"}
        return statement(n, actor=actor, object=obj, result=result, context=None, **more)

    sha1 = hashlib.sha1(b"mailto:p03@x.org").hexdigest()
    voiding = statement(
        9,
        verb={"id": ADL + "voided"},
        object={"objectType": "StatementRef", "id": "00000000-0000-4000-8000-000000000005"},
        result=None,
        context=None,
    )
    return [
        one(1, {"mbox": "mailto:P01@X.org"}, 1, 30),  # case differs from people's email
        one(2, {"account": {"homePage": "https://lms.x", "name": "lms-p02"}}, 2, 60),
        one(3, {"mbox_sha1sum": sha1}, 1, 90),
        one(4, {"mbox": "mailto:ghost@x.org"}, 1, 45),  # nobody: left out, counted
        one(5, {"mbox": "mailto:p04@x.org"}, 1, 20, verb={"id": ADL + "experienced"}),
        one(6, {"mbox": "mailto:p05@x.org"}, 1, 20, verb={"id": "https://x.org/verbs/liked"}),
        one(7, {"mbox": "mailto:p06@x.org"}, 9, 20),  # another course: not this program
        one(8, {"account": {"homePage": "https://other", "name": "lms-p07"}}, 1, 20),
        voiding,  # voids statement 5
    ]


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    return sales_workspace(tmp_path)


def sales_workspace(tmp_path: Path) -> Workspace:
    """People, participation, KPIs and 9 LRS statements of the `sales` program."""
    ws = Workspace.create(tmp_path / "ws")
    (ws.path / "plans" / "sales.yaml").write_text(PLAN, encoding="utf-8")
    with (ws.path / "impactlens.toml").open("a", encoding="utf-8") as fh:
        fh.write(SETTINGS)
    d = tmp_path
    # statements first: people imported later must still resolve
    import_data(ws, "xapi", [write_lines(d / "statements.jsonl", _statements())])
    people = [f"{p},T{i % 3},{p.lower()}@x.org,lms-{p.lower()}" for i, p in enumerate(PEOPLE)]
    import_data(ws, "people", [_write(d / "p.csv", "person_id,team_id,email,lms_account", people)])
    part = [f"{p},sales,2024-03-01,completed" for p in PEOPLE[:6]]
    import_data(
        ws, "participation", [_write(d / "t.csv", "person_id,program,start_date,status", part)]
    )
    kpis = [
        f"revenue,{p},{m},{100 + i + j}" for i, p in enumerate(PEOPLE) for j, m in enumerate(MONTHS)
    ]
    import_data(ws, "kpis", [_write(d / "k.csv", "kpi,unit_id,period,value", kpis)])
    return Workspace(ws.path)  # reread the settings


def test_statements_count_as_program_activity(ws: Workspace) -> None:
    result = ws.analyze("sales")
    op = result.metrics["operational"]
    # P01 (mbox, case folded), P02 (account of the configured homePage, program by the
    # activity map), P03 (mbox_sha1sum); not the voided, unmapped-verb, other-course ones
    assert op["activity_rows"] == 3
    assert op["active_learners"] == 3
    assert op["learning_hours"] == pytest.approx((30 + 60 + 90) / 60)
    assert any(
        "2 LRS statements from 2 actors that match no person are left out" in w
        for w in result.warnings
    )


def test_unmatched_actors_on_data_health_pseudonymised(ws: Workspace) -> None:
    health = ws.analyze("sales").data_health["xapi"]
    assert health["statements"] == 9
    assert health["counted_statements"] == 6  # mapped verbs on activities, not voided
    assert (health["unmatched_actors"], health["unmatched_statements"]) == (2, 2)
    assert all(s.startswith("u_") for s in health["samples"])
    assert "ghost" not in json.dumps(health) and "lms-p07" not in json.dumps(health)


def test_rows_read_like_activity(ws: Workspace) -> None:
    from impactlens.ingest.xapi_activity import statement_activity

    with ws.store(read_only=True) as store:
        table, match = statement_activity(store, ws.key(), ws.settings, store.table("activity"))
        rows = table.order_by("asset_id", "verb").to_pyarrow().to_pylist()
    assert len(match.people) == 4  # P01, P02, P03, P06 (P04 only has a voided one)
    by_asset = {(r["asset_id"], r["person_id"]): r for r in rows}
    p02 = next(r for r in rows if r["asset_id"] == COURSE + "2")
    assert p02["program"] == "sales" and p02["verb"] == "completed"
    assert (p02["score"], p02["max_score"], p02["progress_pct"]) == (80.0, 100.0, 100.0)
    assert p02["duration_minutes"] == 60.0 and p02["source"] == "xapi"
    assert {r["verb"] for r in rows} == {"completed"}  # experienced was voided
    assert len(by_asset) == 4
