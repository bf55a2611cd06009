"""Erasure: every row of one person goes, in one transaction, and nothing else moves."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from impactlens.domain.errors import ImpactLensError
from impactlens.domain.settings import WorkspaceSettings
from impactlens.ingest.keys import identity_hash, pseudonymise
from impactlens.services.forgetting import forget_person
from impactlens.services.importing import import_data
from impactlens.services.workspace import Workspace
from impactlens.store.schema import DATA_TABLES

PLAN = """\
program: sales
kpis:
  - {id: revenue, direction: increase, unit: person, primary: true}
comparison: {method: auto}
"""
MONTHS = [f"2024-{m:02d}-01" for m in range(1, 7)]
PEOPLE = [f"P{i:02d}" for i in range(1, 13)]


def _write(path: Path, header: str, rows: list[str]) -> Path:
    path.write_text(header + "\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def ws(tmp_path: Path, engine_settings: WorkspaceSettings) -> Workspace:
    """On DuckDB, then on PostgreSQL."""
    ws = Workspace.create(tmp_path / "ws", engine_settings)
    (ws.path / "plans" / "sales.yaml").write_text(PLAN, encoding="utf-8")
    d = tmp_path
    people = [
        f"{p},T{i % 3},{'' if p == 'P01' else 'P01' if i < 6 else 'P02'},"
        f"{'rep' if i % 2 else 'lead'},{p.lower()}@x.org,lms-{p.lower()}"
        for i, p in enumerate(PEOPLE)
    ]
    files = {
        "people": _write(
            d / "people.csv", "person_id,team_id,manager_id,persona,email,lms_account", people
        ),
        # P03 by e-mail (mixed case), X99 is nobody: kept as a u_ reference
        "participation": _write(
            d / "participation.csv",
            "person_id,email,program,start_date,status",
            [f"{p},,sales,2024-03-01,completed" for p in PEOPLE[:6] if p != "P03"]
            + [",P03@X.org,sales,2024-03-01,completed", "X99,,sales,2024-03-01,completed"],
        ),
        "activity": _write(
            d / "activity.csv",
            "lms_account,asset_id,verb,timestamp,program",
            [
                f"lms-{p.lower()},a1,completed,2024-03-0{n}T10:00:00,sales"
                for p in PEOPLE[:6]
                for n in (2, 3)
            ],
        ),
        "assessments": _write(
            d / "assessments.csv",
            "person_id,skill,taken_at,score",
            [f"{p},pitch,2024-02-01T09:00:00,{50 + i}" for i, p in enumerate(PEOPLE)],
        ),
        "surveys": _write(
            d / "surveys.csv",
            "response_id,person_id,program,question_id,response,submitted_at",
            [f"r{i},{p},sales,q1,{1 + i % 5},2024-04-01T12:00:00" for i, p in enumerate(PEOPLE[:6])]
            + [f"anon{i},,sales,q1,4,2024-04-01T12:00:00" for i in range(3)],
        ),
        "kpis": _write(
            d / "kpis.csv",
            "kpi,unit_id,period,value",
            [
                f"revenue,{p},{m},{100 + i + j}"
                for i, p in enumerate(PEOPLE)
                for j, m in enumerate(MONTHS)
            ]
            + [f"team_revenue,T0,{m},1000" for m in MONTHS],
        ),
    }
    for kind, path in files.items():
        import_data(ws, kind, [path])
    return ws


def _snapshot(ws: Workspace) -> dict[str, pd.DataFrame]:
    with ws.store(read_only=True) as store:
        return {t: store.table(t).to_pyarrow().to_pandas() for t in DATA_TABLES}


def _others(frame: pd.DataFrame, gone: set[str]) -> pd.DataFrame:
    """Rows that name none of ``gone``, manager links to them emptied, in a fixed order."""
    frame = frame.copy()
    for column in ("person_id", "unit_id"):
        if column in frame:
            frame = frame[~frame[column].isin(gone)]
    if "manager_id" in frame:
        frame["manager_id"] = frame["manager_id"].where(~frame["manager_id"].isin(gone), None)
    return frame.sort_values(list(frame.columns)).reset_index(drop=True)


def _names(frames: dict[str, pd.DataFrame]) -> set[str]:
    found: set[str] = set()
    for frame in frames.values():
        for column in ("person_id", "manager_id", "unit_id"):
            if column in frame:
                found.update(frame[column].dropna())
    return found


def test_forget_by_person_id_and_by_email_erases_them_everywhere(ws: Workspace) -> None:
    key = ws.key()
    p01, p03 = pseudonymise(key, "P01"), pseudonymise(key, "P03")
    before = _snapshot(ws)
    assert {p01, p03} <= _names(before)
    assert (before["people"]["manager_id"] == p01).sum() == 5

    first = forget_person(ws, "P01")
    assert first.person == p01
    assert first.removed == {
        "people": 1,
        "identities": 3,  # email, lms_account and the e-mail's xAPI mbox_sha1sum
        "participation": 1,
        "activity": 2,
        "assessments": 1,
        "surveys": 1,
        "kpis": 6,
    }
    assert first.cleared == {"people.manager_id": 5}
    second = forget_person(ws, " p03@X.ORG ", by="email")
    assert second.person == p03 and second.removed["participation"] == 1
    assert second.removed["kpis"] == 6 and second.removed["identities"] == 3

    after = _snapshot(ws)
    gone = {p01, p03}
    assert not gone & _names(after)
    for table in DATA_TABLES:
        pd.testing.assert_frame_equal(_others(after[table], gone), _others(before[table], gone))
    assert len(after["people"]) == len(before["people"]) - 2
    # P01 managed P02-P06; P03 is gone too, so four links are left empty
    assert after["people"]["manager_id"].isna().sum() == 4
    assert after["surveys"]["person_id"].isna().sum() == 3  # anonymous answers stay
    assert (after["kpis"]["kpi"] == "team_revenue").sum() == 6
    hashes = set(after["identities"]["value_hash"])
    assert identity_hash(key, "email", "p03@x.org") not in hashes
    assert identity_hash(key, "email", "p04@x.org") in hashes

    result = ws.analyze("sales")  # the analysis still runs on what is left
    assert result.program == "sales"


def test_unresolved_references_are_erased_too(ws: Workspace) -> None:
    ghost = "u_" + pseudonymise(ws.key(), "X99")[2:]
    assert ghost in set(_snapshot(ws)["participation"]["person_id"])
    gone = forget_person(ws, "X99")
    assert gone.removed["participation"] == 1 and gone.total == 1
    assert ghost not in set(_snapshot(ws)["participation"]["person_id"])


def test_unknown_person_and_second_run_change_nothing(ws: Workspace) -> None:
    forget_person(ws, "P05")
    with ws.store(read_only=True) as store:
        fingerprint = store.fingerprint()
        audits = store.table("audit_log").count().to_pyarrow().as_py()
    for raw, by in (("P05", "person_id"), ("nobody@x.org", "email"), ("E404", "person_id")):
        with pytest.raises(ImpactLensError) as err:
            forget_person(ws, raw, by=by)
        assert str(err.value) == (
            f"no person with {by} {raw!r} in the store (never imported, or already "
            "forgotten); nothing was changed"
        )
    with ws.store(read_only=True) as store:
        assert store.fingerprint() == fingerprint
        assert store.table("audit_log").count().to_pyarrow().as_py() == audits


def test_the_audit_log_records_the_size_but_not_the_person(ws: Workspace) -> None:
    gone = forget_person(ws, "P07")
    with ws.store(read_only=True) as store:
        rows = store.table("audit_log").to_pyarrow().to_pylist()
    assert len(rows) == 1
    assert rows[0]["action"] == "forget"
    assert rows[0]["route"] == f"people forget: {gone.total} rows removed"
    assert "P07" not in str(rows) and gone.person[2:] not in str(rows)


def test_an_unknown_lookup_column_is_refused(ws: Workspace) -> None:
    with pytest.raises(ImpactLensError, match="cannot find people by 'phone'; use one of: "):
        forget_person(ws, "123", by="phone")
    with pytest.raises(ImpactLensError, match="give the person's identifier"):
        forget_person(ws, "  ")


def _statement(sid: str, seq: int, actor: dict, instructor: dict | None = None) -> dict:
    doc: dict = {
        "id": sid,
        "actor": actor,
        "verb": {"id": "http://adlnet.gov/expapi/verbs/completed"},
        "object": {"id": "http://x.org/a1", "objectType": "Activity"},
    }
    if instructor:
        doc["context"] = {"instructor": instructor}
    return doc


def _ifi(agent: dict) -> str:
    if "account" in agent:
        return f"account:{agent['account']['homePage']}|{agent['account']['name']}"
    key = next(k for k in ("mbox", "mbox_sha1sum") if k in agent)
    return f"{key}:{agent[key]}"


def _insert_statements(ws: Workspace, docs: list[dict]) -> None:
    import json

    import pyarrow as pa

    with ws.store() as store:
        for table in ("xapi_statements", "xapi_statement_refs"):
            schema = store.table(table).schema().to_pyarrow()
            if table == "xapi_statements":
                rows = [
                    {
                        "seq": i,
                        "statement_id": d["id"],
                        "actor_ifi": _ifi(d["actor"]),
                        "object_id": d["object"]["id"],
                        "statement": json.dumps(d),
                    }
                    for i, d in enumerate(docs)
                ]
            else:
                rows = [
                    {"seq": i, "kind": "agent", "ref": _ifi(d["actor"]), "related": False}
                    for i, d in enumerate(docs)
                ]
                rows += [
                    {
                        "seq": i,
                        "kind": "agent",
                        "ref": _ifi(d["context"]["instructor"]),
                        "related": True,
                    }
                    for i, d in enumerate(docs)
                    if "context" in d
                ]
            full = [{c: r.get(c) for c in schema.names} for r in rows]
            store.table(table).get_backend().insert(
                table, pa.Table.from_pylist(full, schema=schema)
            )


def _statements(ws: Workspace) -> tuple[list[dict], list[dict]]:
    with ws.store(read_only=True) as store:
        st = store.table("xapi_statements").order_by("seq").to_pyarrow().to_pylist()
        refs = store.table("xapi_statement_refs").order_by(["seq", "ref"]).to_pyarrow().to_pylist()
    return st, refs


def test_forget_replaces_the_persons_xapi_agent_by_a_tombstone(ws: Workspace) -> None:
    import hashlib
    import json

    p02_sum = hashlib.sha1(b"mailto:p02@x.org").hexdigest()
    docs = [
        _statement("s0", 0, {"mbox": "mailto:P01@X.org"}),  # case differs from the import
        _statement("s1", 1, {"account": {"homePage": "https://lms.x.org", "name": "lms-p01"}}),
        _statement("s2", 2, {"mbox": "mailto:p04@x.org"}, instructor={"mbox": "mailto:p01@x.org"}),
        _statement("s3", 3, {"mbox_sha1sum": p02_sum}),
        _statement("s4", 4, {"mbox": "mailto:p05@x.org"}),
    ]
    _insert_statements(ws, docs)
    before, _ = _statements(ws)

    gone = forget_person(ws, "P01")
    assert gone.tombstoned == {"xapi_statements": 3, "xapi_statement_refs": 3}
    after, refs = _statements(ws)
    stones = {json.loads(r["statement"])["actor"]["account"]["name"] for r in after[:2]}
    assert len(stones) == 1  # one random tombstone per erasure
    dead = f"account:urn:impactlens:forgotten|{stones.pop()}"
    assert [r["actor_ifi"] for r in after] == [
        dead,
        dead,
        "mbox:mailto:p04@x.org",
        f"mbox_sha1sum:{p02_sum}",
        "mbox:mailto:p05@x.org",
    ]
    first = json.loads(after[0]["statement"])
    assert first["actor"] == {
        "objectType": "Agent",
        "account": {"homePage": "urn:impactlens:forgotten", "name": dead.rpartition("|")[2]},
    }
    assert first["verb"] == docs[0]["verb"] and first["id"] == "s0"
    third = json.loads(after[2]["statement"])
    assert third["actor"] == {"mbox": "mailto:p04@x.org"}
    assert third["context"]["instructor"]["account"]["homePage"] == "urn:impactlens:forgotten"
    assert after[3:] == before[3:]
    assert not any("p01" in r["ref"].lower() for r in refs)
    assert sum(r["ref"] == dead for r in refs) == 3
    assert "p01@" not in json.dumps(after).lower() and "lms-p01" not in json.dumps(after)

    # a hashed mbox is matched from the raw e-mail the operator gives
    second = forget_person(ws, "p02@x.org", by="email")
    assert second.tombstoned == {"xapi_statements": 1, "xapi_statement_refs": 1}
    assert _statements(ws)[0][3]["actor_ifi"].startswith("account:urn:impactlens:forgotten|")


def test_a_failed_forget_leaves_statements_untouched(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    from impactlens.services import forgetting

    _insert_statements(ws, [_statement("s0", 0, {"mbox": "mailto:p01@x.org"})])
    before = _statements(ws)
    people = _snapshot(ws)["people"]

    def boom(*_: object) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(forgetting, "_audit", boom)
    with pytest.raises(RuntimeError, match="disk full"):
        forget_person(ws, "P01")
    assert _statements(ws) == before
    pd.testing.assert_frame_equal(_snapshot(ws)["people"], people)


def test_a_person_randomised_in_a_pilot_becomes_a_tombstone_unit(ws: Workspace) -> None:
    import hashlib
    import json
    from datetime import datetime

    import pyarrow as pa

    from impactlens.services.pilot_review import registration
    from impactlens.services.pilots import canonical

    key = ws.key()
    p01, p02 = pseudonymise(key, "P01"), pseudonymise(key, "P02")
    units = {p01: "treatment", p02: "control", pseudonymise(key, "P03"): "treatment"}
    assignment = {"unit": "person", "seed": 7, "units": units}
    record = {"program": "sales", "unit": "person", "assignment": assignment}
    at = datetime(2024, 7, 1)
    with ws.store() as store:
        backend = store.table("pilot_assignments").get_backend()
        backend.insert(
            "pilot_assignments",
            pa.Table.from_pylist(
                [{"program": "sales", "created_at": at, "created_by": "ana", "seed": 7,
                  "record": json.dumps(assignment, sort_keys=True)}]
            ),
        )  # fmt: skip
        backend.insert(
            "pilot_registrations",
            pa.Table.from_pylist(
                [{"program": "sales", "registered_at": at, "registered_by": "ana",
                  "sha256": hashlib.sha256(canonical(record).encode()).hexdigest(),
                  "record": canonical(record)}]
            ),
        )  # fmt: skip

    erased = forget_person(ws, "P01")
    assert erased.tombstoned == {"pilot_assignments": 1, "pilot_registrations": 1}
    with ws.store(read_only=True) as store:
        stored = store.table("pilot_assignments").to_pyarrow().to_pylist()
        reg = registration(store, "sales")
        raw = store.table("pilot_registrations").to_pyarrow().to_pylist()
    assert len(stored) == 1 and len(raw) == 1
    kept = json.loads(stored[0]["record"])["units"]
    frozen = reg["assignment"]["units"] if reg else {}
    for arms in (kept, frozen):
        assert p01 not in arms and arms[p02] == "control"
        # the same arms as before, one of them under a tombstone id
        assert sorted(arms.values()) == ["control", "treatment", "treatment"]
        assert [u for u in arms if u.startswith("forgotten-")] != []
    assert p01 not in raw[0]["record"]
    assert raw[0]["sha256"] == hashlib.sha256(raw[0]["record"].encode()).hexdigest()
    assert stored[0]["created_by"] == "ana" and stored[0]["seed"] == 7
