"""`import xapi` takes and refuses exactly the statements a POST takes and refuses.

Thousands of statements, each a valid one with one change (a property removed, set to a
value of another type or form, or an unknown property added), go through the import's
staging on each of its three ways (typed reader, lines, JSON path); the verdict for each
(the SQL checks, then POST's checks on the statements with parts the SQL does not read)
must be the verdict of POST's ``check_statement``.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest

from impactlens.domain.xapi.errors import XapiError
from impactlens.domain.xapi.validation import check_statement
from impactlens.ingest.xapi import _post_checks
from impactlens.store import xapi_bulk
from impactlens.store.duckdb import DuckDBStore
from impactlens.store.xapi_checks import STATEMENT_KEYS, _lit
from impactlens.store.xapi_fast import _nodes, has_null
from impactlens.store.xapi_stage import _tree

from .xapi_statements import statement

X = "http://x.org/"
ACCOUNT = {"homePage": X, "name": "app"}
VALUES: list[Any] = [
    *[1, 1.5, -1, 2, True, "", "x", "x:", "urn:x", "http:", X + "a b", X + "<a>", {}, [], [{}]],
    *["00000000-0000-4000-8000-00000000000g", "AAAAAAAA-0000-4000-8000-000000000001"],
    *["mailto:a@b", "mailto:a@b@c", "mailto:a:b@c", "mailto:a b@x.org", "a" * 40],
    1234567890123456789012345678901234567890,  # 40 digits, not a string
    *["en-US", "x-klingon", "english_US", "1.0", "1.0.9", "2.0.0", "1.1", "likert", "sequencing"],
    *[["a"], [{"id": "a"}, {"id": "a"}], [{"id": 1}], [{"id": "a", "x": 1}]],
    *["2024-01-01T24:00:00Z", "2024-01-01T10:00:00,5Z", "2024-02-30T00:00:00Z"],
    *["2024-01-01T10:00Z", "2024-01-01T10:00:60Z", "2024-01-01T10:00:00-00:00"],
    *["2024-01-01T10:00:00+0200", "2024-01-01 10:00:00Z", "P", "PT", "P1W2D", "P1DT", "P2W"],
    *[{"en-US": 1}, {"not a tag": "x"}, {"en": "x", "fr": "y"}, {X + "e": 1}, {"k": 1}],
    *[{"id": X + "a"}, [{"id": X + "a", "definition": {"name": {"en": "n"}}}]],
    *[{"objectType": "Group", "mbox": "mailto:g@x.org"}, {"homePage": "x", "name": "n"}],
    {"objectType": "Group", "member": [{"mbox": "mailto:m@x.org"}, {"account": ACCOUNT}]},
    # a line feed after a valid value: Python's "$" matches before it, RE2's does not
    *[X + "a\n", "mailto:a@x.org\n", "1.0.3\n", "en\n", "PT1M\n", "2024-01-01T10:00:00Z\n"],
    *["AAAAAAAA-0000-4000-8000-000000000001\n", "a" * 40 + "\n", {"en\n": "x"}, {X + "e\n": 1}],
]


def _bases() -> list[dict[str, Any]]:
    plain = statement(1)
    plain.update(version="1.0.3", stored="2024-01-01T00:00:00Z")
    plain["authority"] = {"objectType": "Agent", "name": "A", "account": ACCOUNT}
    plain["object"]["definition"] = {
        "name": {"en": "n"},
        "description": {"en-GB": "d"},
        "type": X + "t",
        "moreInfo": X + "m",
        "extensions": {X + "e": [1, {"a": "b"}]},
    }
    plain["result"].update(response="r", extensions={X + "r": "v"})
    plain["context"].update(revision="r", language="en", extensions={X + "c": {"k": "v"}})
    plain["context"]["team"] = {"objectType": "Group", "account": {**ACCOUNT, "name": "t"}}
    plain["context"]["contextActivities"]["other"] = {"objectType": "Activity", "id": X + "o"}
    rare = statement(2)
    rare["actor"] = {
        "objectType": "Group",
        "name": "G",
        "member": [{"mbox": "mailto:m@x.org", "name": "M"}, {"account": ACCOUNT}],
    }
    rare["authority"] = {"objectType": "Group", "member": [{"account": ACCOUNT}, {"openid": X}]}
    rare["context"]["statement"] = {"objectType": "StatementRef", "id": plain["id"]}
    rare["attachments"] = [
        {
            "usageType": X + "u",
            "display": {"en": "d"},
            "contentType": "text/plain",
            "length": 3,
            "sha2": "a" * 64,
        }
    ]
    sub = statement(3, context={"registration": plain["context"]["registration"]})
    sub["object"] = {
        "objectType": "SubStatement",
        "actor": {"mbox": "mailto:a@x.org"},
        "verb": {"id": X + "v", "display": {"en": "v"}},
        "object": {
            "id": X + "o",
            "definition": {
                "interactionType": "choice",
                "choices": [{"id": "a", "description": {"en": "A"}}],
                "correctResponsesPattern": ["a"],
            },
        },
        "result": {"response": "a"},
        "context": {"language": "en"},
    }
    quiz = statement(6)
    quiz["object"]["definition"] = {
        "name": {"en": "Q"},
        "interactionType": "choice",
        "correctResponsesPattern": ["a[,]b"],
        "choices": [{"id": "a", "description": {"en": "A", "fr": "A"}}, {"id": "b"}],
    }
    agent = statement(4, context=None)
    agent["object"] = {"objectType": "Agent", "openid": X + "id"}
    ref = statement(5, context=None)
    ref["object"] = {"objectType": "StatementRef", "id": plain["id"]}
    return [plain, rare, sub, agent, ref, quiz]


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    items = (
        node.items()
        if isinstance(node, dict)
        else enumerate(node)
        if isinstance(node, list)
        else []
    )
    for key, value in items:
        yield (*prefix, key)
        yield from _paths(value, (*prefix, key))


def _changed(
    st: dict[str, Any], path: tuple[Any, ...], value: Any = None, *, drop: bool = False
) -> Any:
    out = copy.deepcopy(st)
    node = out
    for key in path[:-1]:
        node = node[key]
    if drop:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return out


def _mutants() -> list[str]:
    out: dict[str, None] = {}
    for base in _bases():
        out[json.dumps(base)] = None
        for path in _paths(base):
            out[json.dumps(_changed(base, path, drop=True))] = None
            node = base
            for key in path:
                node = node[key]
            if isinstance(node, dict):
                out[json.dumps(_changed(base, (*path, "zzz"), 1))] = None
            for value in [None, *VALUES]:
                out[json.dumps(_changed(base, path, value))] = None
    return list(out)


MUTANTS = _mutants()


def _posted(line: str) -> bool:
    try:
        check_statement(json.loads(line))
    except XapiError:
        return False
    return True


def _typed_only(lines: list[str]) -> list[str]:
    """The lines none of which sends a file to the JSON path (wrong shapes, nulls, keys)."""
    con = duckdb.connect()
    con.execute("CREATE TABLE l AS SELECT * FROM (SELECT unnest(?) AS line)", [lines])
    nodes = "[" + ", ".join(_lit(p) for p in _nodes(_tree())) + "]"
    kept = con.execute(
        f"SELECT line FROM (SELECT line, json_type(line, {nodes}) AS s FROM l) "
        "WHERE s[1] = 'OBJECT' AND list_bool_and(list_transform(s, lambda x: x IS NULL OR "
        f"x IN ('OBJECT', 'NULL'))) AND NOT {has_null('line')} "
        f"AND list_has_all([{', '.join(_lit(k) for k in STATEMENT_KEYS)}], json_keys(line))"
    ).fetchall()
    return [line for (line,) in kept]


@pytest.mark.parametrize("way", ["json", "typed", "lines", "typed spaced", "lines spaced"])
def test_import_and_post_refuse_the_same_statements(
    tmp_path: Path, way: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    lines = MUTANTS if way == "json" else _typed_only(MUTANTS)
    if way.endswith("spaced"):  # white space before colons: the key count cannot vouch
        lines = [json.dumps(json.loads(line), separators=(", ", " : ")) for line in lines]
        way = way.removesuffix(" spaced")
    assert len(lines) > 8_000
    monkeypatch.setattr(xapi_bulk, "LINES_FROM", 1 if way == "lines" else 10**9)
    path = tmp_path / "s.jsonl"
    path.write_text("\n".join(lines) + "\n")
    with DuckDBStore(tmp_path / "s.duckdb") as store:
        staged = xapi_bulk.stage(store, path, array=False)
        assert (staged.typed, staged.text) == {
            "json": (False, False),
            "typed": (True, False),
            "lines": (True, True),
        }[way]
        con = xapi_bulk.connection(store)
        refused = {ln for (ln,) in con.sql(f"SELECT ln FROM {staged.table} WHERE bad").fetchall()}
        by_sql = len(refused)
        count, problems, _ = _post_checks(store, staged, limit=len(lines))
        refused |= {p.index for p in problems}
        # the SQL checks decide most; POST's own checks the statements with rare parts
        assert by_sql > len(lines) / 2 and count > 1000 and len(refused) == by_sql + count
        left = sum(len(rows) for rows in xapi_bulk.unvouched(store, staged))
        # spaced, every statement the SQL passes goes to POST's checks; else only some
        assert left == len(lines) - by_sql if " : " in lines[0] else left < len(lines) - by_sql
    posted = {n for n, line in enumerate(lines, start=1) if not _posted(line)}
    assert sorted(refused - posted) == [] and sorted(posted - refused) == []


def test_a_plain_statement_needs_no_check_in_python(tmp_path: Path) -> None:
    # a statement with every common part, one answering a choice question, the first with
    # an accent and written without spaces; then one with spaces before its colons
    lines = [json.dumps(s) for s in _bases()[:1]] * 3 + [json.dumps(_bases()[-1])]
    lines[1] = lines[1].replace('"name": "A"', '"name": "\\u00c5sa"')
    lines[2] = json.dumps(json.loads(lines[2]), separators=(",", ":"))
    pretty = json.dumps(json.loads(lines[0]), separators=(" , ", " : "))
    path = tmp_path / "s.jsonl"
    path.write_text("\n".join([*lines, pretty]) + "\n")
    with DuckDBStore(tmp_path / "s.duckdb") as store:
        staged = xapi_bulk.stage(store, path, array=False)
        left = [ln for rows in xapi_bulk.unvouched(store, staged) for ln, _ in rows]
    # the key before " : " could hide another key from the count: POST's checks decide
    assert left == [5]
