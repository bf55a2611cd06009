"""QueryMeter: steps of DuckDB queries reported as one share, moving within each step."""

from __future__ import annotations

import time

import duckdb
import pytest

from impactlens.store.query_progress import QueryMeter

Reports = list[tuple[str, int, int]]


def _setting(con: duckdb.DuckDBPyConnection) -> object:
    row = con.execute("SELECT current_setting('enable_progress_bar')").fetchone()
    return row[0] if row else None


def test_a_long_query_moves_the_bar_within_its_step() -> None:
    con, seen = duckdb.connect(), list[tuple[str, int, int]]()
    con.execute("SET threads = 1")  # one long scan, polled many times
    with QueryMeter(con, lambda *r: seen.append(r), [("first", 1), ("scan", 1)], 0.02) as m:
        m.step("first")
        m.step("scan")  # the first took no time: no clock estimate, DuckDB's progress only
        con.execute("SELECT count(*) FROM range(400000000) WHERE hash(range) % 7 = 0").fetchall()
    inside = [done for label, done, _ in seen if label == "scan" and 50 < done < 100]
    assert inside, seen  # DuckDB's own progress of the scan, polled from the meter's thread
    assert [done for _, done, _ in seen] == sorted(done for _, done, _ in seen)
    assert seen[-1] == ("scan", 100, 100)
    assert _setting(con) is False  # tracking is off again after the meter


def test_a_step_without_query_progress_moves_with_the_clock() -> None:
    con, seen = duckdb.connect(), list[tuple[str, int, int]]()
    with QueryMeter(con, lambda *r: seen.append(r), [("a", 1), ("b", 1)], 0.01) as m:
        m.step("a")
        time.sleep(0.2)
        m.step("b")  # expected to take as long as a did; nothing runs in DuckDB
        time.sleep(0.4)
        during = [done for label, done, _ in seen if label == "b"]
    assert during[0] == 50
    assert 50 < during[-1] <= 95  # moved, and stops at 90% of the step until it ends
    assert seen[-1] == ("b", 100, 100)


def test_skipped_and_unknown_steps() -> None:
    con, seen = duckdb.connect(), list[tuple[str, int, int]]()
    steps = [("a", 1), ("b", 1), ("c", 2)]
    with QueryMeter(con, lambda *r: seen.append(r), steps, 10) as m:
        m.step("b")  # a path without a: a counts as done
        m.step("nothing of the kind")  # ignored
        m.step("a")  # behind: ignored
        m.step("c")
    assert seen == [("b", 25, 100), ("c", 50, 100), ("c", 100, 100)]


def test_a_failure_reports_no_end() -> None:
    con, seen = duckdb.connect(), list[tuple[str, int, int]]()
    with (
        pytest.raises(duckdb.Error),
        QueryMeter(con, lambda *r: seen.append(r), [("a", 1)], 10) as m,
    ):
        m.step("a")
        con.execute("SELECT * FROM no_such_table")
    assert seen == [("a", 0, 100)]
    assert _setting(con) is False


def test_doctests() -> None:
    import doctest

    from impactlens.store import query_progress

    assert doctest.testmod(query_progress).failed == 0
