"""The one-pass fast path stores exactly what the text path stores, and steps aside on problems."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from impactlens.domain.errors import InputError
from impactlens.domain.settings import WorkspaceSettings
from impactlens.ingest import preparation
from impactlens.ingest.base import ImportSummary
from impactlens.ingest.pipeline import import_files
from impactlens.store.duckdb import DuckDBStore
from impactlens.store.staging import DuckDBStaging

from .conftest import snapshot

NBSP = "\u00a0"
# (kind, file name, content): padded values, extras, identities, every parse rule
FILES = [
    (
        "people",
        "people.csv",
        "person_id,manager_id,team_id,email,hire_date,tenure,region\n"
        f"E1,E2,T1,Ann@X.org , 2024-01-01,3,{NBSP}North\n"
        "E2,,T1,bob@x.org,2023-05-06 , 1.5 ,South\n"
        "E3,E2,T2,,,,\n",
    ),
    (
        "activity",
        "activity.csv",
        "person_id,email,asset_id,verb,timestamp,duration_minutes,success,score,device,tag\n"
        "E1,,a1,completed,2024-01-01T10:00:00+02:00,PT1H30M,Yes,7,1,x\n"
        "E1,,a2,completed,1700000000,1:30:15,false,,2, y\n"
        "E9,,a3,completed,1700000000000,45,1, 8.5,3,\n"
        ",Bob@x.org,a3,completed,2024-02-01T10:00:00 CET,,0,,4,z\n"
        ",nobody@x.org,a4,attempted,2024-02-02,,,,5,z\n",
    ),
    (  # padding the casts do not take: the text path trims and parses it
        "activity",
        "padded.csv",
        f"person_id,asset_id,verb,timestamp,success\nE2,a5,completed,{NBSP}1700000000, Yes\n",
    ),
    (
        "surveys",
        "surveys.csv",
        "program,question_id,response,submitted_at,level,person_id\n"
        "sx,applied,yes,2024-01-01,application,E1\n"
        "sx,applied,yes,2024-01-01,application,\n"
        "sx,applied,yes,2024-01-01,application,\n"
        f"sx,pct,{NBSP}40,2024-01-01, Reaction,E2\n",
    ),
    (
        "kpis",
        "kpis.csv",
        "kpi,unit_id,period,value\nsales,E1,2024-01-31,10\nsales,T2,2024-01-31, 5\n",
    ),
    ("costs", "costs.csv", "program,item,amount,prorate_share\nsx,venue,1200,\nsx,food, 50 ,0.5\n"),
]


def _load_all(path: Path, tmp: Path, *, text_only: bool, monkeypatch: pytest.MonkeyPatch) -> Any:
    texts: list[str] = []
    if text_only:
        monkeypatch.setattr(DuckDBStaging, "scan", lambda self, p: None)
    else:
        real = preparation.prepare_text

        def spy(ctx: Any, file: Path, loaded: Any) -> Any:
            texts.append(file.name)
            return real(ctx, file, loaded)

        monkeypatch.setattr("impactlens.ingest.pipeline.prepare_text", spy)
    settings = WorkspaceSettings()
    summaries: list[ImportSummary] = []
    with DuckDBStore(path) as store:
        for kind, name, content in FILES:
            file = tmp / name
            file.write_text(content, encoding="utf-8")
            for _ in range(2):  # the second time changes nothing
                summaries.append(import_files(store, kind, [file], settings=settings, key=b"k"))
        snap = snapshot(store)
    monkeypatch.undo()
    del snap["imports"]  # times differ; the summaries below carry the counts
    counts = [(s.rows, s.inserted, s.replaced, s.unknown_people, s.warnings) for s in summaries]
    return snap, counts, texts


def test_fast_path_stores_what_the_text_path_stores(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fast = _load_all(tmp_path / "fast.duckdb", tmp_path, text_only=False, monkeypatch=monkeypatch)
    text = _load_all(tmp_path / "text.duckdb", tmp_path, text_only=True, monkeypatch=monkeypatch)
    assert fast[:2] == text[:2]
    assert fast[2] == ["padded.csv"] * 2  # every other file took the fast path
    snap, counts, _ = fast
    assert counts[2][:4] == (5, 5, 0, 2) and counts[3][1:3] == (0, 0)
    people = {r["person_id"]: r for r in snap["people"][1]}
    assert sorted(r["region"] for r in people.values() if r["region"]) == ["North", "South"]
    assert sorted(r["tenure"] for r in people.values() if r["tenure"]) == [1.5, 3.0]


def test_fast_path_is_taken_for_clean_files_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []
    real = preparation.prepare_text

    def spy(ctx: Any, path: Path, loaded: Any) -> Any:
        calls.append(path.name)
        return real(ctx, path, loaded)

    monkeypatch.setattr("impactlens.ingest.pipeline.prepare_text", spy)
    good = tmp_path / "good.csv"
    good.write_text("person_id,asset_id,verb,timestamp\nE1,a,v,2024-01-01\n")
    bad = tmp_path / "bad.csv"
    bad.write_text("person_id,asset_id,verb,timestamp\nE1,a,v,2024-01-01\nE1,a,v,2024-01-01\n")
    with DuckDBStore(tmp_path / "s.duckdb") as store:
        import_files(store, "activity", [good], settings=WorkspaceSettings(), key=b"k")
        assert calls == []
        with pytest.raises(InputError, match="duplicate key"):
            import_files(store, "activity", [bad], settings=WorkspaceSettings(), key=b"k")
    assert calls == ["bad.csv"]
