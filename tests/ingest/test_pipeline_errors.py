"""Every bad input gives one InputError naming file, row and column, and changes nothing."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from impactlens.domain.errors import InputError
from impactlens.store.duckdb import DuckDBStore

PEOPLE = "person_id,team_id,email,tenure\nE1,T1,ann@x.org,3\nE2,T1,bob@x.org,1.5\n"
ACTIVITY = "person_id,asset_id,verb,timestamp\nE1,a1,completed,2024-01-01T10:00:00\n"


@pytest.fixture
def loaded(store: DuckDBStore, write: Callable[..., Path], load: Callable[..., object]) -> None:
    """A store with some data, so 'unchanged' means something."""
    load("people", write("people0.csv", PEOPLE))
    load("activity", write("activity0.csv", ACTIVITY))
    load("costs", write("costs0.csv", "program,item,amount\nsx,venue,100\n"))


CASES = [
    (
        "activity",
        "a.csv",
        "person_id,asset_id,timestamp\nE1,a1,2024-01-01\n",
        1,
        None,
        "missing required column 'verb'; found: person_id, asset_id, timestamp",
    ),
    (
        "participation",
        "p.csv",
        "person_id,program,start_date\nE1,sx,2024-01-01\nE2,sx,2024-13-01\n",
        3,
        "start_date",
        "not a date: '2024-13-01' (expected ISO 8601, e.g. 2024-03-31)",
    ),
    (
        "activity",
        "a.csv",
        "person_id,asset_id,verb,timestamp\nE1,a1,done,yesterday\n",
        2,
        "timestamp",
        "not a timestamp: 'yesterday' (expected ISO 8601 or epoch seconds/milliseconds)",
    ),
    (
        "kpis",
        "k.csv",
        "kpi,unit_id,period,value\nsales,T1,2024-01-31,10\nsales,T2,2024-01-31,ten\n",
        3,
        "value",
        "not a number: 'ten'",
    ),
    (
        "activity",
        "a.csv",
        "person_id,asset_id,verb,timestamp,duration_minutes\nE1,a,v,2024-01-01,1h\n",
        2,
        "duration_minutes",
        "not a duration: '1h' (expected minutes, H:M:S or ISO 8601 such as PT1H30M)",
    ),
    (
        "activity",
        "a.csv",
        "person_id,asset_id,verb,timestamp,success\nE1,a,v,2024-01-01,maybe\n",
        2,
        "success",
        "not yes/no: 'maybe' (expected yes, no, true, false, 1 or 0)",
    ),
    (
        "activity",
        "a.csv",
        "person_id,asset_id,verb,timestamp\nE1,a,v,2024-01-01\nE2,a,v,2024-01-01\n"
        "E1,a,v,2024-01-01T00:00:00\n",
        4,
        None,
        "duplicate key (person_id, asset_id, verb, timestamp): rows 2 and 4",
    ),
    ("activity", "a.csv", "", None, None, "empty file: no header and no rows"),
    (
        "activity",
        "a.csv",
        "person_id,asset_id,verb,timestamp\n",
        None,
        None,
        "empty file: no rows below the header",
    ),
    (
        "participation",
        "p.csv",
        "person_id,program,start_date,status\nE1,sx,2024-01-01,done\n",
        2,
        "status",
        "invalid value 'done'; expected one of: assigned, enrolled, completed, dropped, exempt",
    ),
    (
        "participation",
        "p.csv",
        "person_id,program,start_date,arm\nE1,sx,2024-01-01,placebo\n",
        2,
        "arm",
        "invalid value 'placebo'; expected one of: treatment, control",
    ),
    (
        "assessments",
        "s.csv",
        "person_id,skill,taken_at,score,phase\nE1,x,2024-01-01,3,during\n",
        2,
        "phase",
        "invalid value 'during'; expected one of: pre, post, followup",
    ),
    (
        "surveys",
        "v.csv",
        "program,question_id,response,submitted_at,level\nsx,q,5,2024-01-01,fun\n",
        2,
        "level",
        "invalid value 'fun'; expected one of: reaction, relevance, confidence, intent, "
        "application, preference",
    ),
    (
        "costs",
        "c.csv",
        "program,item,amount,category\nsx,x,1,travel\n",
        2,
        "category",
        "invalid value 'travel'; expected one of: needs_assessment, development, delivery, "
        "participant_time, evaluation, overhead",
    ),
    (
        "costs",
        "c.csv",
        "program,item,amount,prorate_share\nsx,x,1,0.5\nsx,y,1,1.5\n",
        3,
        "prorate_share",
        "'1.5' is outside 0-1",
    ),
    (
        "people",
        "p.csv",
        "person_id,tenure\nE3,4\nE4,four\n",
        3,
        "tenure",
        "not a number: 'four' (earlier imports made 'tenure' a number column)",
    ),
    (
        "kpis",
        "k.csv",
        "kpi,unit_id,period,value\nsales,,2024-01-31,10\n",
        2,
        "unit_id",
        "empty value; every row needs one",
    ),
    (
        "activity",
        "a.csv",
        "person_id,asset_id,verb,timestamp\nE1,a,v,2024-01-01\n,a,v,2024-01-02\n",
        3,
        "person_id",
        "no person_id (nor an identity column) on this row",
    ),
    (
        "activity",
        "a.txt",
        "person_id,asset_id,verb,timestamp\nE1,a,v,2024-01-01\n",
        None,
        None,
        "unsupported file type; use .csv, .csv.gz, .parquet, .jsonl or .ndjson",
    ),
    (
        "activity",
        "a.jsonl",
        '{"person_id": "E1", "asset_id": "a", "verb": "v", "timestamp": "2024-01-01"}\n'
        '{"person_id": "E2", "asset_id": "a", "verb": "v", "timestamp": "soon"}\n',
        2,
        "timestamp",
        "not a timestamp: 'soon' (expected ISO 8601 or epoch seconds/milliseconds)",
    ),
]


@pytest.mark.usefixtures("loaded")
@pytest.mark.parametrize(("kind", "name", "content", "row", "column", "problem"), CASES)
def test_bad_input_is_one_clear_error_and_changes_nothing(
    store: DuckDBStore,
    snap: Callable[[], object],
    write: Callable[..., Path],
    load: Callable[..., object],
    kind: str,
    name: str,
    content: str,
    row: int | None,
    column: str | None,
    problem: str,
) -> None:
    before = snap()
    path = write(name, content)
    with pytest.raises(InputError) as caught:
        load(kind, path)
    err = caught.value
    assert (err.file, err.row, err.column, err.problem) == (str(path), row, column, problem)
    assert snap() == before


@pytest.mark.usefixtures("loaded")
def test_not_utf8_names_the_line_of_the_first_bad_byte(
    store: DuckDBStore,
    snap: Callable[[], object],
    write: Callable[..., Path],
    load: Callable[..., object],
) -> None:
    before = snap()
    lines = ["person_id,asset_id,verb,timestamp"] + [f"E{i},a,v,2024-01-01" for i in range(9)]
    data = ("\n".join(lines) + "\n").encode() + "Zoë,a,v,2024-01-02\n".encode("latin-1")
    path = write("latin.csv", data)
    with pytest.raises(InputError) as caught:
        load("activity", path)
    assert str(caught.value) == (
        f"{path}, row 11: not UTF-8 text (first bad byte on this line); save the file as UTF-8"
    )
    assert snap() == before


@pytest.mark.usefixtures("loaded")
def test_parquet_rows_are_record_numbers(
    snap: Callable[[], object], tmp_path: Path, load: Callable[..., object]
) -> None:
    before = snap()
    path = tmp_path / "k.parquet"
    table = {"kpi": ["a", "a", "a"], "unit_id": ["T1", "T2", "T3"]}
    table |= {"period": ["2024-01-31"] * 3, "value": ["1", "2", "x"]}
    pq.write_table(pa.table(table), path)
    with pytest.raises(InputError) as caught:
        load("kpis", path)
    assert (caught.value.row, caught.value.column) == (3, "value")
    assert snap() == before


@pytest.mark.usefixtures("loaded")
def test_second_bad_file_rolls_back_the_first(
    store: DuckDBStore,
    snap: Callable[[], object],
    write: Callable[..., Path],
    load: Callable[..., object],
) -> None:
    before = snap()
    good = write("good.csv", "person_id,asset_id,verb,timestamp,extra\nE2,a9,v,2024-02-01,x\n")
    bad = write("bad.csv", "person_id,asset_id,verb,timestamp\nE2,a9,v,later\n")
    with pytest.raises(InputError) as caught:
        load("activity", good, bad)
    assert caught.value.file == str(bad)
    assert snap() == before
    assert len(store.imports()) == 3
