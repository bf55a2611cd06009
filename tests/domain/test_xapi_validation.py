"""The statement checks: each MUST of the xAPI 1.0.3 data model refuses with a message."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from impactlens.domain.xapi.errors import XapiError
from impactlens.domain.xapi.validation import check_statement

BASE: dict[str, Any] = {
    "id": "fd41c918-b88b-4b20-a0a5-a4c32391aaa0",
    "actor": {"objectType": "Agent", "name": "Ann", "mbox": "mailto:ann@example.com"},
    "verb": {"id": "http://adlnet.gov/expapi/verbs/completed", "display": {"en-US": "completed"}},
    "object": {
        "id": "http://example.com/course/1",
        "definition": {
            "name": {"en": "Course"},
            "type": "http://adlnet.gov/expapi/activities/course",
        },
    },
    "result": {"score": {"scaled": 0.5, "raw": 5, "min": 0, "max": 10}, "duration": "PT1H30M"},
    "context": {"registration": "1d8d4c8a-4d5e-4a3b-9f4e-6d1f2b3c4d5e", "platform": "LMS"},
    "timestamp": "2024-03-01T10:00:00.000+01:00",
}


def with_(path: str, value: Any) -> dict[str, Any]:
    """BASE with one property replaced (dotted path; value None deletes it)."""
    st = copy.deepcopy(BASE)
    *parents, last = path.split(".")
    node = st
    for key in parents:
        node = node[key]
    if value is None:
        del node[last]
    else:
        node[last] = value
    return st


def test_a_complete_statement_passes() -> None:
    assert check_statement(copy.deepcopy(BASE))["id"] == BASE["id"]


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        ("id", "not-a-uuid", "id must be a UUID string"),
        ("actor", None, "the statement has no actor"),
        ("actor.mbox", "ann@example.com", "actor.mbox must be a mailto: IRI"),
        ("actor.openid", "http://id.example.com/ann", "actor must have exactly one of"),
        ("actor.objectType", "Person", "actor.objectType must be Agent or Group"),
        ("verb.id", "completed", "verb.id must be an absolute IRI"),
        ("verb.display", {"not a tag!": "x"}, "is not an RFC 5646 language tag"),
        ("verb.extra", 1, "verb has unknown properties: extra"),
        ("object.definition.interactionType", "essay", "interactionType 'essay' is not one of"),
        # not a string: once a TypeError (500), an unhashable dict key
        ("object.definition.interactionType", {}, "interactionType {} is not one of"),
        (
            "object.definition.moreInfo",
            "no iri",
            "object.definition.moreInfo must be an absolute IRI",
        ),
        ("result.score.scaled", 1.5, "result.score.scaled must be between -1 and 1"),
        ("result.score.raw", 11, "result.score.raw must lie between min and max"),
        ("result.score.min", 10, "result.score.min must be less than max"),
        ("result.success", "true", "result.success must be true or false"),
        ("result.duration", "90 minutes", "result.duration must be an ISO 8601 duration"),
        ("result.duration", "P4W1D", "result.duration must be an ISO 8601 duration"),
        ("result.extensions", {"color": 1}, "key 'color' is not an IRI"),
        ("context.registration", "abc", "context.registration must be a UUID"),
        ("timestamp", "2024-03-01T10:00:00-00:00", "may not use the offset -00:00"),
        ("timestamp", "2024-02-30T10:00:00Z", "is not a real date-time"),
        ("version", "1.1.0", "version must be 1.0.x"),
        ("stored", "yesterday", "stored must be an ISO 8601 date-time"),
        ("colour", "red", "the statement has unknown properties: colour"),
        # a valid value and a line feed: "$" alone matched before it, so these passed
        ("id", BASE["id"] + "\n", "id must be a UUID string"),
        ("verb.id", "http://x.org/v\n", "verb.id must be an absolute IRI"),
        ("actor.mbox", "mailto:ann@example.com\n", "actor.mbox must be a mailto: IRI"),
        ("verb.display", {"en\n": "x"}, "is not an RFC 5646 language tag"),
        ("result.duration", "PT1M\n", "result.duration must be an ISO 8601 duration"),
        ("timestamp", "2024-03-01T10:00:00Z\n", "timestamp must be an ISO 8601 date-time"),
        ("version", "1.0.3\n", "version must be 1.0.x"),
    ],
)
def test_each_rule_refuses_with_its_message(path: str, value: Any, message: str) -> None:
    with pytest.raises(XapiError, match=message.replace("(", r"\(")) as caught:
        check_statement(with_(path, value))
    assert caught.value.status == 400


def test_context_platform_needs_an_activity_object() -> None:
    st = with_("object", {"objectType": "Agent", "mbox": "mailto:bob@example.com"})
    with pytest.raises(XapiError, match="platform is only allowed when the object is an Activity"):
        check_statement(st)


def test_voiding_needs_a_statement_ref() -> None:
    st = with_("verb", {"id": "http://adlnet.gov/expapi/verbs/voided"})
    with pytest.raises(XapiError, match="voiding statement must be a StatementRef"):
        check_statement(st)
    st["object"] = {"objectType": "StatementRef", "id": BASE["id"]}
    st.pop("context")
    assert check_statement(st)


def test_sub_statement_rules() -> None:
    sub = {"objectType": "SubStatement", "actor": BASE["actor"], "verb": BASE["verb"],
           "object": {"id": "http://example.com/a"}}  # fmt: skip
    st = with_("context", None)
    st["object"] = sub
    assert check_statement(st)
    for key, value, message in [
        ("id", BASE["id"], "unknown properties: id"),
        ("stored", "2024-01-01T00:00:00Z", "unknown properties: stored"),
        ("object", dict(sub), "SubStatement inside a SubStatement"),
    ]:
        with pytest.raises(XapiError, match=message):
            check_statement({**st, "object": {**sub, key: value}})


def test_groups_and_interaction_components() -> None:
    group = {"objectType": "Group", "member": [{"mbox": "mailto:a@x.org"}]}
    assert check_statement(with_("actor", group))
    with pytest.raises(XapiError, match="anonymous Group without a member list"):
        check_statement(with_("actor", {"objectType": "Group"}))
    with pytest.raises(XapiError, match=r"member\[0\].objectType must be Agent"):
        check_statement(with_("actor", {"objectType": "Group", "member": [group]}))
    choice = {"interactionType": "choice", "choices": [{"id": "a"}, {"id": "a"}]}
    with pytest.raises(XapiError, match="repeats the id 'a'"):
        check_statement(with_("object.definition", choice))
    with pytest.raises(XapiError, match="which a true-false interaction may not have"):
        check_statement(with_("object.definition", {"interactionType": "true-false", "scale": []}))


def test_authority_group_must_be_an_oauth_pair() -> None:
    pair = {"objectType": "Group", "member": [
        {"account": {"homePage": "http://lrs.example.com/oauth", "name": "app"}},
        {"mbox": "mailto:ann@example.com"}]}  # fmt: skip
    assert check_statement(with_("authority", pair))
    named = {**pair, "mbox": "mailto:group@example.com"}
    with pytest.raises(XapiError, match="anonymous OAuth pair"):
        check_statement(with_("authority", named))


def test_attachments_need_their_properties() -> None:
    att = {"usageType": "http://example.com/usage", "display": {"en": "file"},
           "contentType": "text/plain", "length": 3, "sha2": "a" * 64}  # fmt: skip
    assert check_statement(with_("attachments", [att]))
    with pytest.raises(XapiError, match=r"attachments\[0\] has no sha2"):
        check_statement(with_("attachments", [{k: v for k, v in att.items() if k != "sha2"}]))
    with pytest.raises(XapiError, match=r"length must be a non-negative integer"):
        check_statement(with_("attachments", [{**att, "length": "3"}]))


def test_xapi_2_context_agents_are_accepted_and_checked() -> None:
    ok = [{"objectType": "contextAgent", "agent": {"mbox": "mailto:c@x.org"},
           "relevantTypes": ["http://example.com/coach"]}]  # fmt: skip
    assert check_statement(with_("context.contextAgents", ok))
    with pytest.raises(XapiError, match=r"contextAgents\[0\].objectType must be contextAgent"):
        check_statement(with_("context.contextAgents", [{**ok[0], "objectType": "Agent"}]))
