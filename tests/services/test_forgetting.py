"""Erasure: every row of one person goes, in one transaction, and nothing else moves."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from impactlens.domain.errors import ImpactLensError
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
def ws(tmp_path: Path) -> Workspace:
    ws = Workspace.create(tmp_path / "ws")
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
        "identities": 2,  # email and lms_account
        "participation": 1,
        "activity": 2,
        "assessments": 1,
        "surveys": 1,
        "kpis": 6,
    }
    assert first.cleared == {"people.manager_id": 5}
    second = forget_person(ws, " p03@X.ORG ", by="email")
    assert second.person == p03 and second.removed["participation"] == 1
    assert second.removed["kpis"] == 6 and second.removed["identities"] == 2

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
