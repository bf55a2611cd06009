"""Retention: old person-level rows go, recent ones and the program's effect stay."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path

import pyarrow as pa
import pytest

from impactlens.domain.settings import WorkspaceSettings
from impactlens.services import retention
from impactlens.services.importing import import_data
from impactlens.services.portfolio import Dashboard
from impactlens.services.retention import aggregates, expire_person_data, months_before
from impactlens.services.users import User
from impactlens.services.workspace import Workspace

PLAN = """\
program: sales
kpis:
  - {id: revenue, direction: increase, unit: person, primary: true}
comparison: {method: auto}
"""
PEOPLE = [f"P{i:02d}" for i in range(1, 41)]
TRAINED = PEOPLE[:20]
MONTHS = [f"{y}-{m:02d}-01" for y in (2024, 2025) for m in range(1, 13)]
TODAY = date(2026, 6, 15)  # with 12 months: rows before 2025-06-15 expire
OLD, NEW = "2024-05-10T09:00:00", "2025-09-10T09:00:00"


def _write(path: Path, header: str, rows: list[str]) -> Path:
    path.write_text(header + "\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return path


def _revenue(i: int, p: str, month: str) -> float:
    # a planted effect of +10 for the trained half from mid-2024 on
    lift = 10 if p in TRAINED and month >= "2024-07-01" else 0
    return 100 + i % 7 + int(month[5:7]) + lift


@pytest.fixture
def ws(tmp_path: Path, engine_settings: WorkspaceSettings) -> Workspace:
    """On DuckDB, then on PostgreSQL."""
    ws = Workspace.create(tmp_path / "ws", engine_settings)
    settings = (ws.path / "impactlens.toml").read_text(encoding="utf-8")
    settings = settings.replace("# retention_months = 36", "retention_months = 12")
    (ws.path / "impactlens.toml").write_text(settings, encoding="utf-8")
    (ws.path / "plans" / "sales.yaml").write_text(PLAN, encoding="utf-8")
    d = tmp_path
    files = {
        "people": _write(
            d / "people.csv",
            "person_id,team_id,email",
            [f"{p},T{i % 4},{p.lower()}@x.org" for i, p in enumerate(PEOPLE)],
        ),
        "participation": _write(
            d / "participation.csv",
            "person_id,program,start_date,status",
            [f"{p},sales,2024-07-01,completed" for p in TRAINED],
        ),
        "activity": _write(
            d / "activity.csv",
            "person_id,asset_id,verb,timestamp,program,duration_minutes",
            [f"{p},a1,completed,{t},sales,30" for p in TRAINED for t in (OLD, NEW)],
        ),
        "assessments": _write(
            d / "assessments.csv",
            "person_id,skill,taken_at,score,program",
            [f"{p},pitch,{t},{60 + i},sales" for i, p in enumerate(TRAINED) for t in (OLD, NEW)],
        ),
        "surveys": _write(
            d / "surveys.csv",
            "response_id,person_id,program,question_id,response,submitted_at",
            [f"o{i},{p},sales,q1,4,{OLD}" for i, p in enumerate(TRAINED)]
            + [f"n{i},{p},sales,q1,5,{NEW}" for i, p in enumerate(TRAINED)]
            + [f"anon{i},,sales,q1,3,{OLD}" for i in range(3)],
        ),
        "kpis": _write(
            d / "kpis.csv",
            "kpi,unit_id,period,value",
            [f"revenue,{p},{m},{_revenue(i, p, m)}" for i, p in enumerate(PEOPLE) for m in MONTHS],
        ),
    }
    for kind, path in files.items():
        import_data(ws, kind, [path])
    _statements(ws)
    return Workspace(ws.path)  # the settings as now written


def _statements(ws: Workspace) -> None:
    rows = []
    for seq, (p, stamp) in enumerate((p, t) for p in TRAINED[:3] for t in (OLD, NEW)):
        actor = {"mbox": f"mailto:{p.lower()}@x.org"}
        doc = {"id": f"s{seq}", "actor": actor, "verb": {"id": "completed"}, "timestamp": stamp}
        rows.append(
            {
                "seq": seq,
                "statement_id": f"s{seq}",
                "timestamp": stamp.replace("T", " "),
                "actor_ifi": f"mbox:mailto:{p.lower()}@x.org",
                "verb_id": "completed",
                "statement": json.dumps(doc),
            }
        )
    with ws.store() as store:
        st = store.table("xapi_statements").schema().to_pyarrow()
        frame = pa.Table.from_pylist([{c: r.get(c) for c in st.names} for r in rows])
        store.table("xapi_statements").get_backend().insert(
            "xapi_statements", frame.cast(st) if frame.schema != st else frame
        )
        refs = [
            {"seq": r["seq"], "kind": "agent", "ref": r["actor_ifi"], "related": False}
            for r in rows
        ]
        rt = store.table("xapi_statement_refs").schema().to_pyarrow()
        store.table("xapi_statement_refs").get_backend().insert(
            "xapi_statement_refs", pa.Table.from_pylist(refs, schema=rt)
        )


def _counts(ws: Workspace) -> dict[str, int]:
    with ws.store(read_only=True) as store:
        return {
            t: store.table(t).count().to_pyarrow().as_py()
            for t in (*retention.DATED, "xapi_statement_refs", "people", "participation", "kpis")
        }


def test_months_before_clamps_to_the_end_of_the_month() -> None:
    assert months_before(date(2024, 3, 31), 1) == date(2024, 2, 29)
    assert months_before(TODAY, 12) == date(2025, 6, 15)


def test_no_setting_keeps_everything(tmp_path: Path) -> None:
    assert expire_person_data(Workspace.create(tmp_path / "w")) is None


def test_expiry_removes_old_rows_keeps_recent_ones_and_the_effect(ws: Workspace) -> None:
    board = Dashboard(ws.path)
    before = board.portfolio(User("ops", "analyst"))[0]
    assert before["status"] == "measured" and before["effect"] == pytest.approx(10, abs=1)
    with board.ws.store() as store:  # the board holds the store: count through it
        counts = {t: store.table(t).count().to_pyarrow().as_py() for t in retention.DATED}
    assert counts == {"activity": 40, "assessments": 40, "surveys": 43, "xapi_statements": 6}

    dry = expire_person_data(board.ws, today=TODAY, dry_run=True)
    assert dry is not None and dry.dry_run and dry.cutoff == date(2025, 6, 15)
    assert dry.removed == {"activity": 20, "assessments": 20, "surveys": 20, "xapi_statements": 3}
    done = expire_person_data(board.ws, today=TODAY, by="ops")
    assert done is not None and not done.dry_run
    assert done.removed == {**dry.removed, "xapi_statement_refs": 3}
    assert done.to_dict()["kept"] == ["people", "identities", "participation", "kpis"]
    board._fingerprint = None  # what the server does after an expiry

    with board.ws.store() as store:
        act = store.table("activity").to_pyarrow().to_pylist()
        assert len(act) == 20 and all(r["timestamp"].year == 2025 for r in act)
        surveys = store.table("surveys").to_pyarrow().to_pylist()
        assert sorted(r["response_id"][0] for r in surveys).count("a") == 3  # anonymous stay
        assert {r["response_id"][0] for r in surveys} == {"n", "a"}
        st = store.table("xapi_statements").to_pyarrow().to_pylist()
        assert sorted(r["statement_id"] for r in st) == ["s1", "s3", "s5"]
        refs = store.table("xapi_statement_refs").to_pyarrow().column("seq").to_pylist()
        assert sorted(refs) == [1, 3, 5]
        assert store.table("kpis").count().to_pyarrow().as_py() == 40 * 24
        kept = aggregates(store, "sales")
        audit = store.table("audit_log").to_pyarrow().to_pylist()
    # the totals of what went, per program and month, naming nobody
    by_measure = {(r["source"], r["measure"]): r for r in kept}
    completed = by_measure[("activity", "verb:completed|asset:a1")]
    assert (str(completed["period"]), completed["rows"], completed["people"]) == (
        "2024-05-01",
        20,
        20,
    )
    assert completed["value"] == 600  # 20 x 30 minutes
    score = by_measure[("assessments", "score:pitch:")]
    assert score["value"] / score["rows"] == pytest.approx(sum(60 + i for i in range(20)) / 20)
    assert by_measure[("surveys", "answer:q1|level:")]["value"] == 80  # 20 answers of 4
    assert "@" not in json.dumps(kept, default=str) and "p_" not in json.dumps(kept, default=str)
    assert [a["action"] for a in audit] == ["expire"]
    assert audit[0]["user"] == "ops"
    assert audit[0]["route"] == "people expire: 66 rows before 2025-06-15 removed"

    after = board.portfolio(User("ops", "analyst"))[0]
    for key in ("effect", "ci_low", "ci_high", "evidence"):
        assert after[key] == before[key], key
    again = expire_person_data(board.ws, today=TODAY)
    assert again is not None and again.total == 0
    board.close()


def test_a_failed_expiry_changes_nothing(ws: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    before = _counts(ws)

    def boom(*_: object) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(retention, "_audit", boom)
    with pytest.raises(RuntimeError, match="disk full"):
        expire_person_data(ws, today=TODAY)
    assert _counts(ws) == before
    with ws.store(read_only=True) as store:
        assert store.table("aggregates").count().to_pyarrow().as_py() == 0


REBUILT = {
    "operational": (
        "assigned", "enrolled", "completed", "completion_rate", "reach", "activity_rows",
        "learning_hours", "assets_used", "satisfaction_mean", "satisfaction_n",
        "relevance_mean", "relevance_n", "anonymous_responses",
    ),
    "learner": ("applying_share", "applying_n", "scrap_learning", "exempt_excluded"),
}  # fmt: skip
OPERATIONAL_CAVEAT = (
    "active learners, hours per learner, respondents, response rate and the persona and "
    "segment breakdowns count only records since {}: earlier person-level records expired "
    "under the retention setting"
)
LEARNER_CAVEAT = (
    "learner gain, confidence change and the adjusted participant share count only records "
    "since {}: earlier person-level records expired under the retention setting"
)


def _figures(ws: Workspace) -> tuple[dict[str, dict], list[str]]:
    result = ws.analyze("sales")
    tiers = {tier: {k: result.metrics[tier][k] for k in keys} for tier, keys in REBUILT.items()}
    estimates = result.metrics["learner"]["participant_estimates"]
    tiers["estimates"] = {k: v for k, v in estimates.items() if not k.startswith("adjusted")}
    return tiers, result.warnings


def test_tier_figures_survive_expiry_from_the_aggregates(ws: Workspace, tmp_path: Path) -> None:
    rows = []
    for i, p in enumerate(TRAINED):
        for when, tag, sat, applied, contrib in (
            (OLD, "o", 3 + i % 3, "no", 40),
            (NEW, "n", 5, "yes", 70),
        ):
            rows += [
                f"{tag}s{i},{p},sales,sat,{sat},{when},reaction",
                f"{tag}r{i},{p},sales,useful,{4 - i % 2},{when},Relevance",
                f"{tag}a{i},{p},sales,applied,{applied if i % 4 else 'yes'},{when},application",
                f"{tag}c{i},{p},sales,contribution_pct,{contrib + i},{when},application",
                f"{tag}k{i},{p},sales,confidence_pct,80,{when},application",
            ]
    header = "response_id,person_id,program,question_id,response,submitted_at,level"
    import_data(ws, "surveys", [_write(tmp_path / "levels.csv", header, rows)])
    before, warned = _figures(ws)
    assert before["operational"]["activity_rows"] == 40
    assert before["operational"]["satisfaction_n"] == 40
    assert before["learner"]["applying_share"] == pytest.approx((5 + 20) / 40)
    assert not any("retention" in w for w in warned)

    expire_person_data(ws, today=TODAY)
    after, warned = _figures(ws)
    assert after == before
    assert OPERATIONAL_CAVEAT.format("2025-06-15") in warned
    assert LEARNER_CAVEAT.format("2025-06-15") in warned
    result = ws.analyze("sales")
    assert result.metrics["learner"]["pairs"] == 0  # a pair needs both of a person's scores

    # a second run expires the rest: totals of both runs add up, the caveat moves on
    expire_person_data(ws, today=date(2027, 1, 1))
    with ws.store(read_only=True) as store:
        assert store.table("activity").count().to_pyarrow().as_py() == 0
    again, warned = _figures(ws)
    assert again == before
    assert OPERATIONAL_CAVEAT.format("2026-01-01") in warned


def test_lrs_statements_that_count_as_activity_are_kept_as_that_activity(ws: Workspace) -> None:
    toml = ws.path / "impactlens.toml"
    toml.write_text(
        toml.read_text(encoding="utf-8") + '\n[xapi.activities]\n"urn:course:lrs" = "sales"\n',
        encoding="utf-8",
    )
    ws = Workspace(ws.path)
    adl = "http://adlnet.gov/expapi/verbs/completed"
    rows = [
        {
            "seq": 100 + n,
            "statement_id": f"lrs{n}",
            "timestamp": datetime.fromisoformat(stamp),
            "actor_ifi": f"mbox:mailto:{p.lower()}@x.org",
            "verb_id": adl,
            "object_type": "Activity",
            "object_id": "urn:course:lrs",
            "result_duration_s": 900.0,
            "statement": "{}",
        }
        for n, (p, stamp) in enumerate((p, t) for p in TRAINED[5:9] for t in (OLD, NEW))
    ]
    with ws.store() as store:
        schema = store.table("xapi_statements").schema().to_pyarrow()
        frame = pa.Table.from_pylist([{c: r.get(c) for c in schema.names} for r in rows], schema)
        store.table("xapi_statements").get_backend().insert("xapi_statements", frame)
    before = ws.analyze("sales").metrics["operational"]
    assert before["activity_rows"] == 40 + 8
    assert before["assets_used"] == 2

    expire_person_data(ws, today=TODAY)
    with ws.store(read_only=True) as store:
        kept = {(r["source"], r["measure"]): r for r in aggregates(store, "sales")}
    lrs = kept[("xapi_activity", "verb:completed|asset:urn:course:lrs")]
    assert (lrs["rows"], lrs["people"], lrs["value"]) == (4, 4, 60.0)  # 4 x 15 minutes
    after = ws.analyze("sales").metrics["operational"]
    for key in ("activity_rows", "learning_hours", "assets_used"):
        assert after[key] == before[key], key
