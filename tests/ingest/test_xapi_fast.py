"""The fast staging of ``import xapi`` gives the same columns and verdicts as the full one."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import duckdb
import pytest
from tests.ingest.xapi_statements import ADL, statement, write_lines

from impactlens.ingest.xapi import import_statements
from impactlens.store import xapi_bulk, xapi_fast
from impactlens.store.duckdb import DuckDBStore
from impactlens.store.xapi_checks import CHECKS
from impactlens.store.xapi_stage import WRITTEN, stage_sql, typed_source

AGENT = {"mbox": "mailto:a@x.org"}
GROUP = {
    "objectType": "Group",
    "member": [AGENT, {"account": {"homePage": "https://h", "name": "n"}}],
}
SUB = {
    "objectType": "SubStatement",
    "actor": AGENT,
    "verb": {"id": ADL + "attended"},
    "object": {"id": "https://x.org/sub"},
    "context": {"contextActivities": {"parent": [{"id": "https://x.org/p"}]}},
}
CHANGES: list[dict[str, Any]] = [
    {},
    {"id": None},  # a derived id
    {"id": None, "result": None, "context": None},
    {"stored": "2024-01-01T00:00:00Z", "version": "1.0.3"},
    {"authority": AGENT},
    {"authority": {"objectType": "Group", "member": [AGENT, GROUP["member"][1]]}},  # OAuth
    {"authority": {"mbox": "a@x.org"}},
    {"actor": GROUP},
    {"actor": {"objectType": "Group", "member": [{"name": "no ifi"}]}},
    {"actor": {"objectType": "Group"}},
    {"object": {"objectType": "Agent", "mbox": "mailto:b@x.org"}, "context": None},
    {"object": {"objectType": "Group", "member": [AGENT]}, "context": None},
    {"object": {"objectType": "Agent", "mbox_sha1sum": "abc"}, "context": None},
    {"object": SUB, "context": None},
    {"object": {**SUB, "id": "https://x"}, "context": None},
    {"object": {**SUB, "object": {"objectType": "SubStatement"}}, "context": None},
    {"object": {**SUB, "actor": {"openid": "no iri"}}, "context": None},
    {"object": {"objectType": "StatementRef", "id": "00000000-0000-4000-8000-000000000009"}},
    {"context": {"team": GROUP, "instructor": {"account": {"homePage": "x", "name": "y"}}}},
    {"context": {"team": AGENT}},
    {"context": {"revision": "2"}, "object": {"objectType": "Agent", "mbox": "mailto:c@x.org"}},
    {"id": "not-a-uuid"},
    {"actor": {"mbox": "p@x.org"}},
    {"verb": {"id": "completed"}},
    {"verb": None},
    {"object": {"id": "no iri"}},
    {"object": {"objectType": "Thing", "id": "https://x"}},
    {"result": {"score": {"scaled": 1.5, "raw": "5"}, "success": "yes", "duration": "90 min"}},
    {"result": {"score": {"raw": 11, "min": 0, "max": 10}, "duration": "P1Y2M3W4DT5H6M7.5S"}},
    {"timestamp": "2024-03-02T10:00:00-00:00"},
    {"context": {"registration": "r1", "contextActivities": {"sibling": [{"id": "x"}]}}},
    {"context": {"contextActivities": {"parent": [{"id": "no iri"}], "other": {"id": "x:y"}}}},
    {"version": "0.95"},
    {"verb": {"id": ADL + "voided"}},
]


def test_the_rare_checks_need_a_rare_part() -> None:
    # every check left out for statements without a rare part starts with its guard
    rare = xapi_fast._rare()
    guards = ("o_type IN ('Agent', 'Group') AND", "o_type = 'SubStatement' AND")
    guards += tuple(f"{p}_t IS NOT NULL AND" for p in ("auth", "instr", "team"))
    left_out = [c for _, _, c in CHECKS if xapi_fast._reads(c, rare)]
    assert left_out and all(c.startswith(guards) for c in left_out)


def test_fast_staging_matches_the_full_staging(tmp_path: Path) -> None:
    items = [statement(n, **changes) for n, changes in enumerate(CHANGES, start=1)]
    path = write_lines(tmp_path / "s.jsonl", items, blank_after=2)
    literal, fmt = f"'{path}'", "newline_delimited"
    con = duckdb.connect()
    con.execute(stage_sql(typed_source(literal, fmt), "f", typed=True))
    any_bad = " OR ".join(f"({c})" for _, _, c in CHECKS)
    columns = ", ".join(WRITTEN)
    full = con.execute(
        f"SELECT {columns}, ({any_bad}) IS TRUE AS bad FROM f_src ORDER BY ln"
    ).fetchall()
    con.execute(xapi_fast.narrow_sql(literal, fmt, "fast"))
    fast = con.execute(f"SELECT {columns}, bad FROM fast ORDER BY ln").fetchall()
    assert len(fast) == len(CHANGES)
    assert [_sorted(r) for r in fast] == [_sorted(r) for r in full]
    assert sum(r[-1] for r in fast) > 10  # the invalid ones are there
    objects = f"read_json_objects({literal}, format='{fmt}')"
    assert con.execute(xapi_fast.keys_sql(objects)).fetchone() == (0, 0)


# lines the JSON readers take as they are, beside the changed statements: values of
# other types than the checks want, duplicate keys, a null in extensions
ODD_LINES = [
    '{"actor": {"mbox": "mailto:a@x.org"}, "verb": {"id": "' + ADL + 'attempted"}, '
    '"object": {"id": "https://x.org/n"}, "result": {"extensions": {"https://x.org/e": null}}}',
    '{"actor": {"mbox": "mailto:a@x.org"}, "verb": {"id": 5, "display": {"en": 1}}, '
    '"object": {"id": ["https://x.org/a"]}, "result": {"score": {"raw": "7"}}}',
    '{"id": "00000000-0000-4000-8000-0000000000ff", "id": "00000000-0000-4000-8000-00000000000e",'
    ' "actor": {"mbox": "mailto:a@x.org", "mbox": "mailto:b@x.org"}, "verb": {"id": "'
    + ADL
    + 'attempted"}, "object": {"id": "https://x.org/d\\u00e9"}}',
]


def test_the_lines_path_stages_what_the_json_path_stages(tmp_path: Path) -> None:
    items: list[Any] = [statement(n, **c) for n, c in enumerate(CHANGES, start=1)] + ODD_LINES
    path = write_lines(tmp_path / "s.jsonl", items)
    literal, fmt = f"'{path}'", "newline_delimited"
    objects = f"read_json_objects({literal}, format='{fmt}')"
    con = duckdb.connect()
    con.execute(xapi_fast.lines_table_sql(literal, "lines"))
    assert con.execute(xapi_fast.probe_sql("lines")).fetchone() == (0, 0, 0)
    con.execute(xapi_fast.narrow_sql(literal, fmt, "by_lines", lines="lines"))
    # the slowest path, which takes every file (the typed reader refuses duplicate keys)
    con.execute(stage_sql(objects, "j", typed=False))
    any_bad = " OR ".join(f"({c})" for _, _, c in CHECKS if c not in xapi_fast._on_keys())
    columns = ", ".join(WRITTEN)
    json_path = con.execute(
        f"SELECT {columns}, ({any_bad}) IS TRUE, line FROM j_src ORDER BY ln"
    ).fetchall()
    by_lines = con.execute(f"SELECT {columns}, bad, line FROM by_lines ORDER BY ln").fetchall()
    assert len(by_lines) == len(items)
    assert [_sorted(r) for r in by_lines] == [_sorted(r) for r in json_path]
    assert sum(r[-2] for r in by_lines) > 10  # the invalid ones are there


@pytest.mark.parametrize(
    ("lines", "why"),
    [
        (["{}", "", "{}"], (1, 0)),  # a blank line: positions would count it
        (["{}", "   ", "{}"], (1, 0)),
        (["{}", ' {"a": 1}', '{"a": 1}\t'], (2, 0)),  # the JSON readers trim these
        (['{"actor": "a@x.org"}'], (0, 1)),  # the typed reader refuses it
        (['{"result": {"score": [1]}}'], (0, 1)),
        (["[1, 2]"], (0, 1)),
        (['{"result": null}'], (0, 1)),  # the typed values would hide the null
        (['{"context": {"platform": null}}'], (0, 1)),
        (['{"result": {"extensions": {"https://x.org/e": null}}, "verb": {"id": "null"}}'], (0, 0)),
    ],
)
def test_the_probe_sends_other_files_to_the_typed_reader(
    tmp_path: Path, lines: list[str], why: tuple[int, int]
) -> None:
    path = tmp_path / "s.jsonl"
    path.write_text("\n".join(lines) + "\n")
    con = duckdb.connect()
    con.execute(xapi_fast.lines_table_sql(f"'{path}'", "lines"))
    assert con.execute(xapi_fast.probe_sql("lines")).fetchone()[:2] == why


def test_lines_the_csv_reader_or_json_refuse_raise(tmp_path: Path) -> None:
    con = duckdb.connect()
    files = [("cr.jsonl", '{"a": 1}\r\n{"a": 2}\n'), ("bad.jsonl", '{"a": 1}\n{"a": 1\n')]
    for name, text in files:
        (tmp_path / name).write_text(text, newline="")
        with pytest.raises(duckdb.Error):
            con.execute(xapi_fast.lines_table_sql(f"'{tmp_path / name}'", "lines"))
            con.execute(xapi_fast.probe_sql("lines"))


@pytest.mark.parametrize("lines", [False, True])
def test_a_large_file_is_staged_in_file_order(tmp_path: Path, lines: bool) -> None:
    # DuckDB reads a large file on several threads, out of order: ln must stay the position;
    # the lines path parses a row group (122,880 lines) per thread, so three of them here
    n = 250_000 if lines else 40_000
    path = tmp_path / "s.jsonl"
    one = json.dumps(
        {
            "id": "00000000-0000-4000-8000-000000000000",
            "actor": {"mbox": "mailto:a@x.org"},
            "verb": {"id": ADL + "completed"},
            "object": {"id": "https://x.org/a"},
        }
    )
    path.write_text(
        "".join(one.replace("000000000000", f"{i:012d}", 1) + "\n" for i in range(1, n + 1))
    )
    con = duckdb.connect()
    con.execute("SET threads = 4")
    if lines:
        con.execute(xapi_fast.lines_table_sql(f"'{path}'", "lines"))
    con.execute(
        xapi_fast.narrow_sql(
            f"'{path}'", "newline_delimited", "fast", lines="lines" if lines else None
        )
    )
    text = "json_extract_string(line, '$.id') <> statement_id OR " if lines else ""
    misplaced = con.execute(
        f"SELECT count(*), count(*) FILTER (WHERE {text}"
        "statement_id <> printf('00000000-0000-4000-8000-%012d', ln)) FROM fast"
    ).fetchone()
    assert misplaced == (n, 0)


def test_an_import_stores_the_same_rows_either_way(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    valid = [CHANGES[i] for i in (0, 1, 2, 3, 4, 5, 7, 10, 11, 13)]  # valid statements
    items: list[Any] = [statement(n, **c) for n, c in enumerate(valid, start=1)] + ODD_LINES[:1]
    items += [items[0]]  # a repeat: the window path of the write
    path = write_lines(tmp_path / "s.jsonl", items)
    tables = {}
    staged: list[xapi_bulk.Staged] = []
    real = xapi_bulk.stage

    def stage(*args: Any, **kwargs: Any) -> xapi_bulk.Staged:
        staged.insert(0, real(*args, **kwargs))
        return staged[0]

    monkeypatch.setattr(xapi_bulk, "stage", stage)
    monkeypatch.setattr(xapi_bulk, "LINES_FROM", 1)  # a small file takes the lines path too
    for way in ("lines", "typed"):
        if way == "typed":  # what a file the probe turns away goes through
            monkeypatch.setattr(xapi_bulk, "_read_lines", lambda *a: ("typed", False))
        with DuckDBStore(tmp_path / f"{way}.duckdb") as store:
            done = import_statements(store, [path], user="ana")
            assert done.statements == len(items) and done.unchanged == 1
            assert staged[0].text == (way == "lines")
            tables[way] = (
                store.table("xapi_statements")
                .get_backend()
                .raw_sql(
                    "SELECT * EXCLUDE (stored, timestamp, statement), nullif(timestamp, stored), "
                    "replace(statement, strftime(stored, '%Y-%m-%dT%H:%M:%S.%g'), '') "
                    "FROM xapi_statements ORDER BY seq"
                )
                .fetchall(),
                store.table("xapi_statement_refs")
                .get_backend()
                .raw_sql("SELECT * FROM xapi_statement_refs ORDER BY ALL")
                .fetchall(),
            )
    assert tables["lines"][0] and tables["lines"] == tables["typed"]


def test_unknown_keys_are_counted(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "s.jsonl", [statement(1), statement(2, extra=1)])
    objects = f"read_json_objects('{path}', format='newline_delimited')"
    assert duckdb.connect().execute(xapi_fast.keys_sql(objects)).fetchone() == (1, 0)


def test_inline_leaves_quotes_and_fields_alone() -> None:
    sql = "a_t IS NULL AND x.a = 'a' AND f(a) AND a"
    assert xapi_fast.inline(sql, {"a": "j.b", "a_t": "t"}) == (
        "(t) IS NULL AND x.a = 'a' AND f((j.b)) AND (j.b)"
    )
    assert not re.search(r"\(\(", xapi_fast.inline("'a'", {"a": "z"}))


def _sorted(row: tuple[Any, ...]) -> tuple[Any, ...]:
    """Lists compared as sets (their order is not part of what is stored)."""
    return tuple(sorted(v, key=str) if isinstance(v, list) else v for v in row)
