"""Imports parse per the contract, are idempotent, replace by key and keep extra columns."""

from __future__ import annotations

import gzip
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from impactlens.ingest.keys import pseudonymise
from impactlens.store.duckdb import DuckDBStore

KEY = b"test-key"
Load = Callable[..., Any]
Write = Callable[..., Path]


def rows(store: DuckDBStore, table: str, *columns: str) -> list[tuple[Any, ...]]:
    data = store.table(table).select(*columns).to_pyarrow().to_pylist()
    return sorted((tuple(r[c] for c in columns) for r in data), key=repr)


def test_activity_values_parse_per_contract(store: DuckDBStore, write: Write, load: Load) -> None:
    path = write(
        "activity.csv",
        "\ufeffPerson_ID , Asset_Id,VERB,Timestamp,duration_minutes,success,score\n"
        "E1,a1,completed,2024-01-01T10:00:00+02:00,PT1H30M,Yes,7\n"
        "E1,a2,completed,1700000000,1:30:15,false,\n"
        "E1,a3,completed,1700000000000,45,1,8.5\n",
    )
    summary = load("activity", path)
    assert (summary.rows, summary.inserted, summary.replaced) == (3, 3, 0)
    assert rows(store, "activity", "asset_id", "timestamp", "duration_minutes", "success") == [
        ("a1", datetime(2024, 1, 1, 8, 0), 90.0, True),
        ("a2", datetime(2023, 11, 14, 22, 13, 20), 90.25, False),
        ("a3", datetime(2023, 11, 14, 22, 13, 20), 45.0, True),
    ]
    assert rows(store, "activity", "source") == [("import",)] * 3


def test_same_file_twice_changes_nothing_and_a_changed_row_replaces(
    store: DuckDBStore, write: Write, load: Load
) -> None:
    first = write(
        "k.csv", "kpi,unit_id,period,value\nsales,T1,2024-01-31,10\nsales,T2,2024-01-31,20\n"
    )
    load("kpis", first)
    fingerprint = store.fingerprint()
    again = load("kpis", first)
    assert (again.inserted, again.replaced) == (0, 0)
    assert store.fingerprint() == fingerprint
    changed = write(
        "k2.csv", "kpi,unit_id,period,value\nsales,T1,2024-01-31,11\nsales,T3,2024-01-31,5\n"
    )
    summary = load("kpis", changed)
    assert (summary.inserted, summary.replaced) == (1, 1)
    assert store.fingerprint() != fingerprint
    assert rows(store, "kpis", "unit_id", "value") == [("T1", 11.0), ("T2", 20.0), ("T3", 5.0)]
    log = store.imports()
    assert list(log["inserted"]) == [2, 0, 1] and list(log["replaced"]) == [0, 0, 1]


def test_extra_columns_are_kept_typed(store: DuckDBStore, write: Write, load: Load) -> None:
    path = write("p.csv", "person_id,tenure,region,email\nE1,3,North,a@x.org\nE2,,7b,b@x.org\n")
    load("people", path)
    cols = store.columns("people")
    assert cols["tenure"] == "DOUBLE" and cols["region"] == "VARCHAR"
    assert "email" not in cols  # identity columns are stored hashed in identities only
    assert rows(store, "people", "tenure", "region") == [(3.0, "North"), (None, "7b")]
    later = write("p2.csv", "person_id,region\nE3,5\n")  # numbers fit a text column
    load("people", later)
    assert rows(store, "people", "person_id", "region")[0][1] in {"North", "7b", "5"}


def test_people_ids_are_pseudonymised(store: DuckDBStore, write: Write, load: Load) -> None:
    load("people", write("p.csv", "person_id,manager_id,team_id\nE1,E2,T1\nE2,,T1\n"))
    assert rows(store, "people", "person_id", "manager_id", "team_id") == sorted(
        [
            (pseudonymise(KEY, "E1"), pseudonymise(KEY, "E2"), "T1"),
            (pseudonymise(KEY, "E2"), None, "T1"),
        ],
        key=repr,
    )


def test_formats_parquet_jsonl_and_gzip(store: DuckDBStore, tmp_path: Path, load: Load) -> None:
    pq.write_table(
        pa.table({"Program": ["sx"], "item": ["venue"], "amount": [1200.0]}), tmp_path / "c.parquet"
    )
    (tmp_path / "c.jsonl").write_text('{"program": "sx", "item": "trainer", "amount": 800}\n')
    with gzip.open(tmp_path / "c.csv.gz", "wt") as fh:
        fh.write("program,item,amount,prorate_share\nsx,lunch,50,0.5\n")
    summary = load("costs", tmp_path / "c.parquet", tmp_path / "c.jsonl", tmp_path / "c.csv.gz")
    assert summary.inserted == 3
    assert rows(store, "costs", "item", "amount", "prorate_share") == [
        ("lunch", 50.0, 0.5),
        ("trainer", 800.0, 1.0),
        ("venue", 1200.0, 1.0),
    ]


def test_surveys_anonymous_rows_reimport_unchanged(
    store: DuckDBStore, write: Write, load: Load
) -> None:
    path = write(
        "s.csv",
        "program,question_id,response,submitted_at,level\n"
        "sx,applied,yes,2024-01-01,application\n"
        "sx,applied,yes,2024-01-01,application\n"
        "sx,contribution_pct,40,2024-01-01,application\n"
        "sx,comment,great,2024-01-01,reaction\n",
    )
    assert load("surveys", path).inserted == 4  # identical anonymous rows stay distinct
    again = load("surveys", path)
    assert (again.inserted, again.replaced) == (0, 0)
    assert rows(store, "surveys", "response", "response_num") == [
        ("40", 40.0),
        ("great", None),
        ("yes", 1.0),
        ("yes", 1.0),
    ]


def test_survey_with_response_id_replaces(store: DuckDBStore, write: Write, load: Load) -> None:
    head = "response_id,program,question_id,response,submitted_at\n"
    load("surveys", write("a.csv", head + "r1,sx,q,3,2024-01-01\n"))
    summary = load("surveys", write("b.csv", head + "r1,sx,q,4,2024-01-02\n"))
    assert (summary.inserted, summary.replaced) == (0, 1)
    assert rows(store, "surveys", "response_id", "response") == [("r1", "4")]


def test_dates_and_progress(store: DuckDBStore, write: Write, load: Load) -> None:
    seen: list[tuple[int, int]] = []
    path = write("p.csv", "person_id,program,start_date,status,arm\nE1,sx,2024-03-31,Completed,\n")
    load("participation", path, progress=lambda done, total: seen.append((done, total)))
    assert seen == [(1, 4), (2, 4), (3, 4), (4, 4)]
    assert rows(store, "participation", "start_date", "status", "arm") == [
        (date(2024, 3, 31), "completed", None)
    ]


def test_quoted_comment_after_the_sniffer_sample_is_read(
    store: DuckDBStore, write: Write, load: Load
) -> None:
    # the 99,000-person demo failed here: 30,000 plain rows, then a quoted comment with a comma
    body = "".join(f"sx,q{i},3,2024-01-01,plain\n" for i in range(30_000))
    path = write(
        "s.csv",
        "program,question_id,response,submitted_at,comment\n"
        + body
        + 'sx,late,4,2024-01-02,"slow, but ""useful"""\n'
        + 'sx,multi,5,2024-01-03,"two\nlines"\n',
    )
    assert load("surveys", path).inserted == 30_002
    got = store.table("surveys").filter(lambda t: t.question_id.isin(["late", "multi"]))
    assert sorted(got.select("question_id", "comment").to_pyarrow().to_pylist(), key=str) == [
        {"question_id": "late", "comment": 'slow, but "useful"'},
        {"question_id": "multi", "comment": "two\nlines"},
    ]
