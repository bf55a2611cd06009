"""The parse macros: the fast forms give exactly what the plain contract rules give."""

from __future__ import annotations

import itertools
import random

import duckdb
import pyarrow as pa
import pytest

from impactlens.store.parsing import MACROS

NUM = r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$"
# The reference rules, written the slow, obvious way.
REFERENCE_TS = f"""CASE
    WHEN regexp_matches(x, '{NUM}') THEN CASE
        WHEN abs(TRY_CAST(x AS DOUBLE)) >= 1e11
        THEN make_timestamp(TRY_CAST(TRY_CAST(x AS DOUBLE) * 1000 AS BIGINT))
        ELSE make_timestamp(TRY_CAST(TRY_CAST(x AS DOUBLE) * 1000000 AS BIGINT)) END
    ELSE TRY_CAST(TRY_CAST(x AS TIMESTAMPTZ) AS TIMESTAMP) END"""
REFERENCE_BOOL = """CASE WHEN lower(x) IN ('yes', 'y', 'true', 't', '1') THEN true
    WHEN lower(x) IN ('no', 'n', 'false', 'f', '0') THEN false END"""

DATES = ["2024-01-01", "2024-1-1", "2024-02-30", "10000-01-01", "0001-01-01", "-2024-01-01"]
TIMES = ["", "T10:00:00", " 10:00", "T23:59:59.123456789", "T24:00:00", "T1:2:3", "10:00"]
ZONES = ["", "Z", "z", "+02:00", "-05:00", "+0530", "-08", " UTC", " GMT", " CET", "+14:00"]
ZONES += [" America/New_York", " Europe/Paris", " Z", "UTC", " -03:00", "-"]
OTHERS = ["1700000000", "1700000000000", "-1", "1e9", ".5", "infinity", "-infinity", "epoch"]
OTHERS += ["yesterday", "2024-01-01 BC", "20240101", "2024/01/01", "", "T", "2024-01-01T"]


def _timestamps() -> list[str]:
    texts = ["".join(p) for p in itertools.product(DATES, TIMES, ZONES)] + OTHERS
    rng = random.Random(7)  # random mutations reach shapes no list holds
    alphabet = "0123456789-+:TZ .eE/aA"
    for text in list(texts):
        chars = list(text)
        for _ in range(2):
            if chars:
                chars[rng.randrange(len(chars))] = rng.choice(alphabet)
        texts.append("".join(chars))
    return texts


@pytest.fixture(scope="module")
def con() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    for macro in MACROS:
        con.execute(macro)
    return con


def test_timestamps_match_the_timestamptz_rule(con: duckdb.DuckDBPyConnection) -> None:
    texts = _timestamps()
    con.register("t", pa.table({"i": range(len(texts)), "x": texts}))
    fast = [r[0] for r in con.execute("SELECT il_ts(x) FROM t ORDER BY i").fetchall()]
    # one value per query: DuckDB's TIMESTAMPTZ cast can carry a zone name over to
    # the next values of the same vector, which the fast form is immune to
    slow = [
        con.execute(f"SELECT {REFERENCE_TS} FROM (SELECT ? AS x)", [x]).fetchone() for x in texts
    ]
    differ = [(x, f, s) for x, f, s in zip(texts, fast, slow, strict=True) if (f,) != s]
    assert differ == []
    assert sum(f is not None for f in fast) > len(texts) // 6  # the battery parses, too


def test_offsets_are_applied(con: duckdb.DuckDBPyConnection) -> None:
    got = con.execute(
        "SELECT il_ts('2024-01-01T10:00:00+02:00'), il_ts('2024-01-01 10:00:00-0500'), "
        "il_ts('2024-01-01T10:00:00Z'), il_ts('2024-01-01T10:00:00 CET')"
    ).fetchone()
    assert got is not None
    assert [str(v) for v in got] == [
        "2024-01-01 08:00:00",
        "2024-01-01 15:00:00",
        "2024-01-01 10:00:00",
        "2024-01-01 09:00:00",
    ]


def test_yes_no_matches_the_in_list_rule(con: duckdb.DuckDBPyConnection) -> None:
    texts = ["yes", "Y", "TRUE", "t", "1", "no", "N", "False", "f", "0", "maybe", "", "10"]
    con.register("b", pa.table({"x": texts}))
    differ = con.execute(
        f"SELECT x FROM b WHERE il_bool(x) IS DISTINCT FROM ({REFERENCE_BOOL})"
    ).fetchall()
    assert differ == []


def test_a_zone_name_does_not_leak_into_later_values(con: duckdb.DuckDBPyConnection) -> None:
    # DuckDB 1.5's TIMESTAMPTZ cast applies a zone name to the zone-less values after it
    got = con.execute(
        "SELECT il_ts(x) FROM (VALUES (1, '2024-01-01T10:00:00 Europe/Paris'), "
        "(2, '2024-01-01T10:00:00')) v(i, x) ORDER BY i"
    ).fetchall()
    assert [str(r[0]) for r in got] == ["2024-01-01 09:00:00", "2024-01-01 10:00:00"]
