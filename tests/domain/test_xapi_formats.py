"""Statement comparison for conflicts, the format renderings, rows and signatures."""

from __future__ import annotations

import base64
import json
from datetime import datetime
from typing import Any

import pytest

from impactlens.domain.xapi import codec
from impactlens.domain.xapi.errors import XapiError
from impactlens.domain.xapi.formats import render, same_statement
from impactlens.domain.xapi.rows import index_row, prepare
from impactlens.domain.xapi.signatures import check_signature
from impactlens.domain.xapi.values import (
    _IRI,
    _SEEN,
    _SEEN_MAX,
    _parse_any_timestamp,
    duration_seconds,
    is_iri,
    parse_timestamp,
)

ST: dict[str, Any] = {
    "id": "fd41c918-b88b-4b20-a0a5-a4c32391aaa0",
    "actor": {"name": "Ann", "mbox": "mailto:ann@example.com"},
    "verb": {
        "id": "http://adlnet.gov/expapi/verbs/completed",
        "display": {"en-US": "did", "fr": "fit"},
    },
    "object": {"id": "http://example.com/c", "definition": {"name": {"en-US": "C", "fr": "C fr"}}},
    "context": {
        "registration": "1D8D4C8A-4D5E-4A3B-9F4E-6D1F2B3C4D5E",
        "instructor": {"mbox": "mailto:teacher@example.com"},
        "contextActivities": {"parent": {"id": "http://example.com/p"}},
    },
    "result": {"duration": "PT1M0.1234S", "score": {"raw": 3}},
}


def test_comparison_ignores_what_the_lrs_sets() -> None:
    stored = {**ST, "stored": "2024-01-01T00:00:00Z", "authority": {"mbox": "mailto:l@x.org"},
              "version": "1.0.0", "id": ST["id"].upper()}  # fmt: skip
    assert same_statement(ST, stored)
    assert same_statement(ST, {**ST, "actor": {"objectType": "Agent", **ST["actor"]}})
    assert not same_statement(ST, {**ST, "result": {"score": {"raw": 4}}})
    # durations compare to 0.01 s (xAPI 2.0.0 4.2.7)
    assert same_statement(ST, {**ST, "result": {**ST["result"], "duration": "PT1M0.12S"}})


def test_ids_format_keeps_identifiers_only() -> None:
    out = render(ST, "ids")
    assert out["actor"] == {"mbox": "mailto:ann@example.com"}
    assert out["verb"] == {"id": "http://adlnet.gov/expapi/verbs/completed"}
    assert out["object"] == {"id": "http://example.com/c"}
    assert out["context"]["contextActivities"] == {"parent": [{"id": "http://example.com/p"}]}
    assert ST["actor"]["name"] == "Ann"  # the stored statement is untouched


def test_canonical_format_picks_the_accepted_language() -> None:
    out = render(ST, "canonical", languages=["fr"])
    assert out["verb"]["display"] == {"fr": "fit"}
    assert out["object"]["definition"]["name"] == {"fr": "C fr"}
    assert render(ST, "canonical")["verb"]["display"] == {"en-US": "did"}


def test_prepare_and_index_row() -> None:
    at = datetime(2024, 5, 1, 12, 0, 0)
    st = prepare(ST, stored=at, authority={"objectType": "Agent", "mbox": "mailto:lrs@x.org"})
    assert st["stored"] == st["timestamp"] == "2024-05-01T12:00:00.000Z"
    assert st["context"]["contextActivities"]["parent"] == [{"id": "http://example.com/p"}]
    row = index_row(st)
    assert row.actor_ifi == "mbox:mailto:ann@example.com"
    assert (row.object_type, row.object_id) == ("Activity", "http://example.com/c")
    assert row.registration == "1d8d4c8a-4d5e-4a3b-9f4e-6d1f2b3c4d5e"
    assert row.duration_s == pytest.approx(60.1234)
    assert row.score["raw"] == 3.0 and row.score["scaled"] is None
    assert set(row.refs) == {
        ("agent", "mbox:mailto:ann@example.com", False),
        ("activity", "http://example.com/c", False),
        ("agent", "mbox:mailto:teacher@example.com", True),
        ("activity", "http://example.com/p", True),
        ("agent", "mbox:mailto:lrs@x.org", True),
    }


def test_values() -> None:
    assert parse_timestamp("2024-01-01T00:30:00-01:30", "t") == datetime(2024, 1, 1, 2, 0)
    assert parse_timestamp("2024-01-01T00:00", "t") == datetime(2024, 1, 1)
    assert duration_seconds("P1W") == 604_800
    assert duration_seconds("P1Y") == 31_556_952
    assert [duration_seconds("PT1M30S") for _ in range(2)] == [90.0, 90.0]  # cached: same


def _either(parse: Any, value: str) -> datetime | str:
    try:
        return parse(value, "t")  # type: ignore[no-any-return]
    except XapiError as exc:
        return str(exc)


def test_timestamp_shortcut_agrees_with_the_full_parse() -> None:
    """The common shape's shortcut (``datetime.fromisoformat``) takes, refuses and reads
    exactly what the full parse does: every character of such a timestamp replaced by
    digits, signs, separators, letters, white space and a non-ASCII digit."""
    base = "2024-02-29T23:59:59.999Z"
    swaps = "0123456789+-:.,TZtz W\n\u0663"
    tried = {base[:i] + c + base[i + 1 :] for i in range(len(base)) for c in swaps}
    tried |= {"2023-02-29T10:00:00.000Z", "2024-13-01T10:00:00.000Z", "2024-01-01T24:00:00.000Z"}
    tried |= {"2024-W09-5T10:00:00.000Z", "20240301T100000.000Z", "2024-03-01T10:00:00.00+1Z"}
    taken = 0
    for value in sorted(tried):
        got = _either(parse_timestamp, value)
        assert got == _either(_parse_any_timestamp, value), value
        taken += isinstance(got, datetime)
    assert parse_timestamp(base, "t") == datetime(2024, 2, 29, 23, 59, 59, 999000)
    assert 100 < taken < len(tried)  # both outcomes exercised


def _jws(payload: dict[str, Any], alg: str = "RS256") -> bytes:
    def b64(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")

    return f"{b64({'alg': alg})}.{b64(payload)}.c2ln".encode()


def test_signature_structure_algorithm_and_payload() -> None:
    signature = {"usageType": "http://adlnet.gov/expapi/attachments/signature",
                 "display": {"en": "sig"}, "contentType": "application/octet-stream",
                 "length": 10, "sha2": "a" * 64}  # fmt: skip
    signed = {**ST, "attachments": [signature]}
    check_signature(signed, _jws(ST))
    with pytest.raises(XapiError, match="only RS256, RS384 and RS512"):
        check_signature(signed, _jws(ST, "HS256"))
    with pytest.raises(XapiError, match="payload is not the statement"):
        check_signature(signed, _jws({**ST, "verb": {"id": "http://other"}}))
    with pytest.raises(XapiError, match="not a JWS compact serialisation"):
        check_signature(signed, b"not a jws")


def test_remembered_matches_stay_bounded_and_exact() -> None:
    """IRIs that matched are remembered (at most ``_SEEN_MAX``); a remembered value is
    still the exact string: the same IRI with a line feed after it is refused."""
    iris = [f"http://x.org/{n}" for n in range(_SEEN_MAX + 10)]
    assert all(is_iri(i) for i in iris) and all(is_iri(i) for i in iris[-5:])
    assert 0 < len(_SEEN[_IRI.pattern]) <= _SEEN_MAX
    assert not is_iri(iris[-1] + "\n") and not is_iri("x") and not is_iri(1)


@pytest.mark.parametrize(
    ("text", "repeated"),
    [
        ('{"a": 1, "b": {"c": 2}}', None),
        ('{"a": 1, "a": 2}', "a"),
        ('{"a": {"b": 1, "b": 1}}', "b"),  # nested, same value
        ('[{"a": 1}, {"a": 2}]', None),  # one name per object
        ('{"a": [{"b": 1, "c": 2, "b": 3}]}', "b"),
        ('{"a" : 1, "b": 1, "b": 2}', "b"),  # a spaced colon: the count cannot settle it
        ('{"a": "x\\":y", "b": 1}', None),  # an escaped quote before a colon, in a value
        ('{"a": "x\\":y", "a": 1}', "a"),
        ('{"a": ":", "b": {"c": ":x"}}', None),  # values that begin with a colon
        ('{"a": ":", "a": ":"}', "a"),
        ('{"a\\"": 1, "a\\"": 2}', 'a"'),
    ],
)
def test_repeated_names_are_found_exactly(text: str, repeated: str | None) -> None:
    assert codec.repeated_name(text, codec.loads(text)) == repeated
