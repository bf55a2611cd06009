"""``import xapi``: columnar parse, xAPI checks by line, atomic, idempotent, voiding."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import pytest
from tests.ingest.xapi_statements import ADL, COURSE, statement, write_lines

from impactlens.domain.errors import InputError
from impactlens.ingest.xapi import StatementsError, import_statements
from impactlens.store import xapi_bulk
from impactlens.store.base import Store

VOIDED = ADL + "voided"


@pytest.fixture
def store(writable_store: Store) -> Store:
    """DuckDB, then PostgreSQL."""
    return writable_store


def _rows(store: Store, sql: str) -> list[tuple[Any, ...]]:
    return store.table("xapi_statements").get_backend().raw_sql(sql).fetchall()


def _count(store: Store) -> int:
    return int(store.table("xapi_statements").count().to_pyarrow().as_py())


def test_statements_land_in_columns_with_refs(store: Store, tmp_path: Path) -> None:
    path = write_lines(tmp_path / "s.jsonl", [statement(1), statement(2)])
    done = import_statements(store, [path], user="ana")
    assert (done.statements, done.inserted, done.unchanged) == (2, 2, 0)
    row = _rows(
        store,
        "SELECT seq, actor_ifi, verb_id, object_type, object_id, registration, timestamp, "
        "result_score_scaled, result_score_raw, result_score_min, result_score_max, "
        "result_success, result_completion, result_duration_s, context_activities, version, "
        "voided FROM xapi_statements WHERE statement_id = '00000000-0000-4000-8000-000000000001'",
    )[0]
    assert row[:6] == (
        1,
        "mbox:mailto:p01@x.org",
        ADL + "completed",
        "Activity",
        COURSE + "1",
        "aaaaaaaa-0000-4000-8000-000000000001",  # lower-cased
    )
    assert str(row[6]) == "2024-03-02 08:00:00"  # +02:00 converted to naive UTC
    assert row[7:14] == (0.5, 5.0, 0.0, 10.0, True, True, 5400.0)  # PT1H30M in seconds
    assert set(json.loads(row[14])) == {
        "https://courses.example.com/course",
        "https://courses.example.com/program",
    }
    assert row[15:] == ("1.0.0", False)
    stored = json.loads(_rows(store, "SELECT statement FROM xapi_statements WHERE seq = 1")[0][0])
    assert stored["authority"] == {
        "objectType": "Agent",
        "account": {"homePage": "urn:impactlens", "name": "ana"},
    }
    assert stored["version"] == "1.0.0" and stored["stored"].endswith("Z")
    assert stored["result"]["duration"] == "PT1H30M"  # the rest exactly as sent
    refs = _rows(store, "SELECT kind, ref, related FROM xapi_statement_refs WHERE seq = 1")
    assert sorted(refs) == [
        ("activity", COURSE + "1", False),
        ("activity", "https://courses.example.com/course", True),
        ("activity", "https://courses.example.com/program", True),
        ("agent", "account:urn:impactlens|ana", True),  # the authority
        ("agent", "mbox:mailto:coach@x.org", True),  # the instructor
        ("agent", "mbox:mailto:p01@x.org", False),
    ]


def test_a_json_array_file_and_canonical_ifis(store: Store, tmp_path: Path) -> None:
    group = {
        "objectType": "Group",
        "member": [{"account": {"homePage": "https://lms.x", "name": "u7"}}],
    }
    items = [
        statement(1, actor={"account": {"homePage": "https://lms.x", "name": "u1"}}),
        statement(2, actor={"mbox_sha1sum": "A" * 40}),
        statement(3, actor={"openid": "https://id.x/me"}),
        statement(4, actor=group),
    ]
    path = tmp_path / "s.json"
    path.write_text(json.dumps(items, indent=2), encoding="utf-8")
    assert import_statements(store, [path]).inserted == 4
    ifis = _rows(store, "SELECT actor_ifi FROM xapi_statements ORDER BY seq")
    assert [r[0] for r in ifis] == [
        "account:https://lms.x|u1",
        "mbox_sha1sum:" + "a" * 40,
        "openid:https://id.x/me",
        None,  # an anonymous group
    ]
    members = _rows(store, "SELECT ref FROM xapi_statement_refs WHERE seq = 4 AND related")
    assert ("account:https://lms.x|u7",) in members


def test_reimport_is_a_no_op(store: Store, tmp_path: Path) -> None:
    no_id = statement(3, id=None)
    path = write_lines(tmp_path / "s.jsonl", [statement(1), statement(2), no_id])
    import_statements(store, [path])
    before = _rows(store, "SELECT statement_id, seq FROM xapi_statements ORDER BY seq")
    again = import_statements(store, [path])
    assert (again.inserted, again.unchanged) == (0, 3)
    assert _rows(store, "SELECT statement_id, seq FROM xapi_statements ORDER BY seq") == before
    # a statement without id gets a UUID derived from its content
    assert len(before[2][0]) == 36 and before[2][0].count("-") == 4


def test_seq_continues_and_duplicates_in_a_file_land_once(store: Store, tmp_path: Path) -> None:
    import_statements(store, [write_lines(tmp_path / "a.jsonl", [statement(1)])])
    path = write_lines(tmp_path / "b.jsonl", [statement(2), statement(2), statement(3)])
    assert import_statements(store, [path]).inserted == 2
    assert _rows(store, "SELECT seq FROM xapi_statements ORDER BY seq") == [(1,), (2,), (3,)]


def test_a_new_file_continues_seq_in_file_order_past_blank_lines(
    store: Store, tmp_path: Path
) -> None:
    import_statements(store, [write_lines(tmp_path / "a.jsonl", [statement(1)])])
    items = [statement(4), statement(2), statement(3)]
    path = write_lines(tmp_path / "b.jsonl", items, blank_after=1)
    assert import_statements(store, [path]).inserted == 3
    ids = _rows(store, "SELECT seq, right(statement_id, 1) FROM xapi_statements ORDER BY seq")
    assert ids == [(1, "1"), (2, "4"), (3, "2"), (4, "3")]


def test_the_statement_is_stored_as_written_with_the_lrs_properties_first(
    store: Store, tmp_path: Path
) -> None:
    # key order and spacing are the file's: the text is not re-serialised
    text = json.dumps(statement(1, id=None, version="1.0.3"), indent=None, sort_keys=True)
    import_statements(store, [write_lines(tmp_path / "s.jsonl", ["  " + text])], user="ana")
    stored, sid = _rows(store, "SELECT statement, statement_id FROM xapi_statements")[0]
    assert stored.endswith(text[1:])
    head = json.loads(stored[: -len(text[1:])].rstrip(",") + "}")
    assert list(head) == ["stored", "id", "authority"]  # version and timestamp were sent
    assert head["id"] == sid and json.loads(stored)["version"] == "1.0.3"


@pytest.mark.parametrize(
    ("changes", "field", "problem"),
    [
        ({"id": "not-a-uuid"}, "id", "must be a UUID"),
        ({"actor": {"mbox": "p@x.org"}}, "actor.mbox", "must be a mailto: IRI"),
        (
            {"actor": {"mbox": "mailto:a@x.org", "openid": "https://x"}},
            "actor",
            "an Agent needs exactly one of mbox, mbox_sha1sum, openid, account",
        ),
        ({"actor": {"mbox_sha1sum": "abc"}}, "actor.mbox_sha1sum", "must be 40 hex digits"),
        ({"actor": {"account": {"name": "u1"}}}, "actor.account", "needs a homePage IRI"),
        ({"actor": {"objectType": "Group"}}, "actor", "an anonymous Group needs a member list"),
        ({"verb": {"id": "completed"}}, "verb.id", "must be an IRI"),
        ({"verb": None}, "verb", "missing or not a JSON object"),
        ({"object": {"id": "no iri"}}, "object.id", "an Activity needs an IRI id"),
        ({"object": {"objectType": "Thing", "id": "https://x"}}, "object.objectType", "must be"),
        (
            {"object": {"objectType": "StatementRef", "id": "x"}},
            "object.id",
            "a StatementRef needs a UUID id",
        ),
        (
            {"result": {"score": {"scaled": 1.5}}},
            "result.score.scaled",
            "must be between -1 and 1",
        ),
        (
            {"result": {"score": {"raw": 11, "min": 0, "max": 10}}},
            "result.score.raw",
            "must not be above max",
        ),
        ({"result": {"score": {"raw": "5"}}}, "result.score.raw", "must be a number"),
        ({"result": {"success": "yes"}}, "result.success", "must be true or false"),
        ({"result": {"duration": "90 minutes"}}, "result.duration", "ISO 8601 duration"),
        ({"timestamp": "03/02/2024"}, "timestamp", "must be an ISO 8601 date and time"),
        ({"timestamp": "2024-03-02T10:00:00-00:00"}, "timestamp", "ISO 8601"),
        ({"context": {"registration": "r1"}}, "context.registration", "must be a UUID"),
        (
            {
                "object": {"objectType": "Agent", "mbox": "mailto:b@x.org"},
                "context": {"platform": "LMS"},
            },
            "context.platform",
            "only allowed when the object is an Activity",
        ),
        (
            {"context": {"contextActivities": {"sibling": [{"id": "https://x"}]}}},
            "context.contextActivities",
            "keys must be parent, grouping, category, other",
        ),
        ({"version": "0.95"}, "version", "must be 1.0.x"),
        ({"verb": {"id": VOIDED}}, "object", "a voiding statement's object must be a StatementRef"),
        ({"extra": 1}, "$", "unknown property"),
        ({"actor": "bob"}, "actor", "not a JSON object"),
    ],
)
def test_invalid_statement_named_by_line_and_nothing_lands(
    store: Store, tmp_path: Path, changes: dict[str, Any], field: str, problem: str
) -> None:
    # the blank line after the first statement still counts as a line
    items = [statement(1), statement(2), statement(3, **changes)]
    path = write_lines(tmp_path / "s.jsonl", items, blank_after=1)
    with pytest.raises(StatementsError) as caught:
        import_statements(store, [path])
    err = caught.value
    assert (err.row, err.column) == (4, field)
    assert problem in err.problem
    assert _count(store) == 0
    assert store.imports().empty


@pytest.mark.parametrize(("array", "lines_from"), [(False, 1), (False, 10**6), (True, 1)])
def test_a_null_is_refused_as_post_refuses_it(
    store: Store, tmp_path: Path, array: bool, lines_from: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the typed values read a null as absent, and an absent optional part is valid;
    # JSON Lines go through the lines path (small files too, here) or the typed reader
    monkeypatch.setattr(xapi_bulk, "LINES_FROM", lines_from)
    good = json.dumps(statement(1))
    nulls = [
        json.dumps(statement(1, result=None))[:-1] + ', "result": null}',
        good.replace('"platform": "LMS"', '"platform": null'),
        good.replace('"mbox": "mailto:coach@x.org"', '"mbox": null'),
    ]
    for n, line in enumerate(nulls):
        path = tmp_path / f"s{n}.json"
        text = [good.replace("000000000001", "000000000002"), line]
        path.write_text("[" + ",".join(text) + "]" if array else "\n".join(text) + "\n")
        with pytest.raises(StatementsError) as err:
            import_statements(store, [path], user="ana")
        assert err.value.issues[0].line == 2
        assert err.value.issues[0].field in (
            "result",
            "context.platform",
            "context.instructor.mbox",
        )
    assert _count(store) == 0


def test_every_invalid_statement_is_counted(store: Store, tmp_path: Path) -> None:
    bad = [statement(i, verb={"id": "x"}) for i in range(2, 5)]
    path = write_lines(tmp_path / "s.jsonl", [statement(1), *bad])
    with pytest.raises(StatementsError) as caught:
        import_statements(store, [path])
    assert caught.value.count == 3
    assert [i.line for i in caught.value.issues] == [2, 3, 4]
    assert "3 invalid statements in the file (also line 3, 4); nothing was imported" in str(
        caught.value
    )


def test_malformed_json_names_the_line(store: Store, tmp_path: Path) -> None:
    path = write_lines(tmp_path / "s.jsonl", [statement(1), '{"actor": '], blank_after=1)
    with pytest.raises(InputError) as caught:
        import_statements(store, [path])
    assert caught.value.row == 3 and "not valid JSON" in caught.value.problem


def test_same_id_different_content_is_an_error(store: Store, tmp_path: Path) -> None:
    import_statements(store, [write_lines(tmp_path / "a.jsonl", [statement(1)])])
    changed = statement(1, verb={"id": ADL + "failed"})
    path = write_lines(tmp_path / "b.jsonl", [statement(2), changed])
    with pytest.raises(StatementsError) as caught:
        import_statements(store, [path])
    assert caught.value.row == 2 and caught.value.column == "id"
    assert "is already stored with different content" in caught.value.problem
    assert _count(store) == 1  # statement 2 did not land either

    twice = write_lines(tmp_path / "c.jsonl", [statement(5), statement(5, result=None)])
    with pytest.raises(StatementsError, match="also on line 1 with different content"):
        import_statements(store, [twice])


def test_a_bad_second_file_stops_the_whole_call(store: Store, tmp_path: Path) -> None:
    good = write_lines(tmp_path / "a.jsonl", [statement(1)])
    bad = write_lines(tmp_path / "b.jsonl", [statement(2, verb={"id": "x"})])
    with pytest.raises(StatementsError, match=r"b\.jsonl, row 1"):
        import_statements(store, [good, bad])
    assert _count(store) == 0


def test_voiding_statements_void_their_targets(store: Store, tmp_path: Path) -> None:
    def voiding(n: int, target: int) -> dict[str, Any]:
        ref = {"objectType": "StatementRef", "id": f"00000000-0000-4000-8000-{target:012d}"}
        return statement(n, verb={"id": VOIDED}, object=ref, result=None, context=None)

    first = write_lines(tmp_path / "a.jsonl", [statement(1), statement(2), voiding(3, 1)])
    assert import_statements(store, [first]).voided == 1
    later = write_lines(tmp_path / "b.jsonl", [voiding(4, 2)])
    assert import_statements(store, [later]).voided == 1
    rows = _rows(store, "SELECT seq, voided, voids FROM xapi_statements ORDER BY seq")
    assert [(r[0], r[1]) for r in rows] == [(1, True), (2, True), (3, False), (4, False)]
    assert rows[2][2] == "00000000-0000-4000-8000-000000000001"


def _repeat(item: dict[str, Any], name: str, first: Any) -> str:
    """``item`` as JSON with ``name`` given twice at its top: ``first``, then its own value."""
    text = json.dumps({k: v for k, v in item.items() if k != name})
    return text[:-1] + f', "{name}": {json.dumps(first)}, "{name}": {json.dumps(item[name])}}}'


@pytest.mark.parametrize("array", [False, True])
def test_a_repeated_name_is_read_as_post_reads_it(
    store: Store, tmp_path: Path, array: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """POST keeps the last of a repeated name; the import's columns once took the first
    while the stored text kept both (filed under one verb, read as another)."""
    verb = statement(2)
    texts = [
        json.dumps(statement(1)),
        _repeat(verb, "verb", {"id": "not an IRI"}),  # only the last is the statement's
        _repeat(statement(3), "object", {"id": COURSE + "first"}),
    ]
    (tmp_path / "tmp").mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))  # where the copy goes
    path = tmp_path / ("s.json" if array else "s.jsonl")
    path.write_text("[" + ",\n".join(texts) + "]" if array else "\n\n".join(texts) + "\n")
    assert import_statements(store, [path]).inserted == 3
    rows = dict(
        _rows(store, "SELECT statement_id, verb_id || ' ' || object_id FROM xapi_statements")
    )
    assert rows[verb["id"]] == f"{verb['verb']['id']} {verb['object']['id']}"
    assert rows[statement(3)["id"]].endswith(statement(3)["object"]["id"])
    texts_stored = [t for (t,) in _rows(store, "SELECT statement FROM xapi_statements")]
    assert not any("not an IRI" in t or COURSE + "first" in t for t in texts_stored)
    assert not list((tmp_path / "tmp").iterdir())  # the copy is removed


def test_a_repeated_name_whose_last_value_is_invalid_is_refused(
    store: Store, tmp_path: Path
) -> None:
    bad = statement(2)
    bad["verb"] = {"id": "not an IRI"}
    path = tmp_path / "s.jsonl"
    path.write_text(json.dumps(statement(1)) + "\n" + _repeat(bad, "verb", {"id": ADL + "x"}))
    with pytest.raises(StatementsError) as caught:
        import_statements(store, [path])
    assert (caught.value.row, caught.value.column) == (2, "verb.id")
    assert _count(store) == 0


def test_progress_names_each_step_of_each_file_and_ends_at_100(
    store: Store, tmp_path: Path
) -> None:
    lines = write_lines(tmp_path / "a.jsonl", [statement(1), statement(2)])
    array = tmp_path / "b.json"
    array.write_text(json.dumps([statement(3)]))
    seen: list[tuple[str, int, int]] = []
    import_statements(store, [lines, array], user="ana", progress=lambda *r: seen.append(r))
    assert list(dict.fromkeys(label for label, _, _ in seen)) == [
        *["reading a.jsonl", "probing a.jsonl", "checking a.jsonl", "checking rare parts a.jsonl"],
        *["checking b.json", "checking rare parts b.json"],  # an array is not read as lines
        *["comparing ids a.jsonl", "storing a.jsonl", "indexing a.jsonl"],
        *["comparing ids b.json", "storing b.json", "indexing b.json", "committing"],
    ]
    done = [d for _, d, _ in seen]
    assert done == sorted(done)
    assert {total for _, _, total in seen} == {100}
    assert seen[-1] == ("committing", 100, 100)
    assert _count(store) == 3


def test_a_refused_file_never_reports_the_end(store: Store, tmp_path: Path) -> None:
    path = write_lines(tmp_path / "s.jsonl", [statement(1), statement(2, verb={"id": "x"})])
    seen: list[tuple[str, int, int]] = []
    with pytest.raises(StatementsError):
        import_statements(store, [path], progress=lambda *r: seen.append(r))
    assert seen
    assert max(d for _, d, _ in seen) < 100
    assert _count(store) == 0
