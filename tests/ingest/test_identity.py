"""People may be named by id or identity column, and imports may come in either order."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from impactlens.domain.errors import InputError
from impactlens.ingest.keys import pseudonymise
from impactlens.store.duckdb import DuckDBStore

KEY = b"test-key"
PEOPLE = "person_id,team_id,email,lms_account\nE1,T1,Ann@X.org,L-1\nE2,T1,bob@x.org,\n"
ACTIVITY = (
    "person_id,email,lms_account,asset_id,verb,timestamp\n"
    "E1,,,a1,v,2024-01-01\n"
    ",ann@x.org ,,a2,v,2024-01-01\n"
    ",,l-1,a3,v,2024-01-01\n"
    "E9,,,a4,v,2024-01-01\n"
    ",nobody@x.org,,a5,v,2024-01-01\n"
)
KPIS = "kpi,unit_id,period,value\nsales,E2,2024-01-31,1\nsales,T1,2024-01-31,2\n"


def table(store: DuckDBStore, name: str, *cols: str) -> list[tuple[Any, ...]]:
    data = store.table(name).select(*cols).to_pyarrow().to_pylist()
    return sorted((tuple(r[c] for c in cols) for r in data), key=repr)


@pytest.mark.parametrize("people_first", [True, False])
def test_resolution_is_the_same_in_either_order(
    store: DuckDBStore,
    write: Callable[..., Path],
    load: Callable[..., Any],
    people_first: bool,
) -> None:
    people, activity = write("people.csv", PEOPLE), write("activity.csv", ACTIVITY)
    kpis = write("kpis.csv", KPIS)
    steps = [("people", people), ("activity", activity), ("kpis", kpis)]
    if not people_first:
        steps.reverse()
    summaries = {kind: load(kind, path) for kind, path in steps}
    e1, e2 = pseudonymise(KEY, "E1"), pseudonymise(KEY, "E2")
    got = dict(table(store, "activity", "asset_id", "person_id"))
    assert got["a1"] == got["a2"] == got["a3"] == e1
    assert got["a4"].startswith("u_") and got["a5"].startswith("u_")
    assert got["a4"][2:] == pseudonymise(KEY, "E9")[2:]
    assert table(store, "kpis", "unit_id") == [("T1",), (e2,)]
    assert summaries["activity"].unknown_people == (2 if people_first else 5)
    assert "email" not in store.columns("activity")


def test_identity_values_are_hashed_per_column(
    store: DuckDBStore, write: Callable[..., Path], load: Callable[..., Any]
) -> None:
    load("people", write("people.csv", PEOPLE))
    ids = table(store, "identities", "id_column", "person_id")
    e1, e2 = pseudonymise(KEY, "E1"), pseudonymise(KEY, "E2")
    # e-mails also give their xAPI mbox_sha1sum (lower-cased, and as written when different)
    sums = [("mbox_sha1sum", e1), ("mbox_sha1sum", e1), ("mbox_sha1sum", e2)]
    expected = [("email", e1), ("email", e2), ("lms_account", e1), *sums]
    assert ids == sorted(expected, key=repr)
    hashes = store.values("identities", "value_hash")
    assert all(len(h) == 64 and "@" not in h for h in hashes)


def test_a_stored_pseudonym_is_that_person_unchanged(
    store: DuckDBStore, write: Callable[..., Path], load: Callable[..., Any]
) -> None:
    """`pilot assign` writes pseudonyms when no people file is given: they re-import as is."""
    load("people", write("people.csv", PEOPLE))
    e1, e2 = pseudonymise(KEY, "E1"), pseudonymise(KEY, "E2")
    stranger = pseudonymise(KEY, "E9")  # pseudonym-shaped, but nobody in people
    rows = f"person_id,program,start_date,arm\n{e1},p,2024-01-01,treatment\n"
    rows += f"E2,p,2024-01-01,control\n{stranger},p,2024-01-01,control\n"
    summary = load("participation", write("participation.csv", rows))
    stored = table(store, "participation", "person_id", "arm")
    assert (e1, "treatment") in stored and (e2, "control") in stored
    unknown = [p for p, _ in stored if p.startswith("u_")]
    # the stranger is hashed like any raw id: an unknown person, never a new one
    assert unknown == ["u_" + pseudonymise(KEY, stranger)[2:]] and summary.unknown_people == 1
    # re-importing the same file changes nothing (same keys, same people)
    again = load("participation", write("participation.csv", rows))
    assert table(store, "participation", "person_id", "arm") == stored
    assert again.unknown_people == 1


def test_a_raw_id_and_its_pseudonym_are_one_key(
    store: DuckDBStore, write: Callable[..., Path], load: Callable[..., Any]
) -> None:
    load("people", write("people.csv", PEOPLE))
    e1 = pseudonymise(KEY, "E1")
    rows = f"person_id,program,start_date\nE1,p,2024-01-01\n{e1},p,2024-02-01\n"
    with pytest.raises(InputError, match=r"duplicate key \(person_id, program\): rows 2 and 3"):
        load("participation", write("participation.csv", rows))
