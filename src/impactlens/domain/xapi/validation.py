"""Every MUST of the xAPI 1.0.3 statement data model (Data 2.2-2.6), one check per rule.

:func:`check_statement` raises :class:`XapiError` (400) naming the property and what is
wrong; it never changes the statement.
"""

from __future__ import annotations

import re
from typing import Any

from impactlens.domain.xapi.agents import IFI_KEYS, check_agent
from impactlens.domain.xapi.errors import XapiError
from impactlens.domain.xapi.values import (
    check_bool,
    check_duration,
    check_extensions,
    check_iri,
    check_language,
    check_language_map,
    check_number,
    check_string,
    check_uuid,
    is_iri,
    parse_timestamp,
)

VOIDED = "http://adlnet.gov/expapi/verbs/voided"
SIGNATURE = "http://adlnet.gov/expapi/attachments/signature"
_STATEMENT_KEYS = {
    "id", "actor", "verb", "object", "result", "context", "timestamp", "stored", "authority",
    "version", "attachments",
}  # fmt: skip
_SUB_KEYS = {"objectType", "actor", "verb", "object", "result", "context", "timestamp",
             "attachments"}  # fmt: skip
_DEFINITION_KEYS = {
    "name", "description", "type", "moreInfo", "extensions", "interactionType",
    "correctResponsesPattern", "choices", "scale", "source", "target", "steps",
}  # fmt: skip
# which interaction component lists each interaction type may carry (Data 2.4.4.1.1)
COMPONENTS: dict[str, set[str]] = {
    "true-false": set(),
    "choice": {"choices"},
    "fill-in": set(),
    "long-fill-in": set(),
    "matching": {"source", "target"},
    "performance": {"steps"},
    "sequencing": {"choices"},
    "likert": {"scale"},
    "numeric": set(),
    "other": set(),
}
_VERSION = re.compile(r"^(?:1\.0(?:\.\d+)?|2\.0(?:\.\d+)?)$")
_SHA2 = re.compile(r"^[0-9a-fA-F]{56,128}$")


def _keys(value: dict[str, Any], allowed: set[str], where: str) -> None:
    if allowed.issuperset(value):  # walks the keys, builds no set
        return
    extra = value.keys() - allowed
    raise XapiError(f"{where} has unknown properties: {', '.join(sorted(extra))}")


def _object(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise XapiError(f"{where} must be a JSON object")
    return value


def check_statement(statement: Any, *, version: str = "1.0.3") -> dict[str, Any]:
    """Check one statement as received (Data 2.2-2.6); return it.

    Examples:
        >>> check_statement({"actor": {"mbox": "mailto:a@x.org"},
        ...     "verb": {"id": "http://adlnet.gov/expapi/verbs/attempted"},
        ...     "object": {"id": "http://x.org/a"}})["verb"]["id"]
        'http://adlnet.gov/expapi/verbs/attempted'
        >>> check_statement({"actor": {"mbox": "mailto:a@x.org"}, "verb": {"id": "tried"},
        ...     "object": {"id": "http://x.org/a"}})
        Traceback (most recent call last):
        ...
        impactlens.domain.xapi.errors.XapiError: verb.id must be an absolute IRI, not 'tried'
    """
    st = _object(statement, "the statement")
    _keys(st, _STATEMENT_KEYS, "the statement")
    if "id" in st:
        check_uuid(st["id"], "id")
    for key in ("actor", "verb", "object"):
        if key not in st:
            raise XapiError(f"the statement has no {key}")
    _body(st, "")
    if "stored" in st:
        parse_timestamp(st["stored"], "stored")
    if "authority" in st:
        check_authority(st["authority"])
    if "version" in st and (
        not isinstance(st["version"], str) or not _VERSION.fullmatch(st["version"])
    ):
        raise XapiError(f"version must be 1.0.x, not {st['version']!r}")
    return st


def _body(st: dict[str, Any], prefix: str) -> None:
    """What statements and sub-statements share: actor, verb, object, result, context..."""
    check_agent(st["actor"], f"{prefix}actor")
    verb = _verb(st["verb"], f"{prefix}verb")
    obj = _statement_object(st["object"], f"{prefix}object", sub=bool(prefix))
    kind = obj.get("objectType", "Activity")
    if verb["id"] == VOIDED and kind != "StatementRef":
        raise XapiError(f"{prefix}object of a voiding statement must be a StatementRef")
    if "result" in st:
        _result(st["result"], f"{prefix}result")
    if "context" in st:
        _context(st["context"], f"{prefix}context", kind)
    if "timestamp" in st:
        parse_timestamp(st["timestamp"], f"{prefix}timestamp")
    if "attachments" in st:
        _attachments(st["attachments"], f"{prefix}attachments")


def _verb(value: Any, where: str) -> dict[str, Any]:
    verb = _object(value, where)
    _keys(verb, {"id", "display"}, where)
    if "id" not in verb:
        raise XapiError(f"{where} has no id")
    check_iri(verb["id"], f"{where}.id")
    if "display" in verb:
        check_language_map(verb["display"], f"{where}.display")
    return verb


def _statement_object(value: Any, where: str, *, sub: bool) -> dict[str, Any]:
    obj = _object(value, where)
    kind = obj.get("objectType", "Activity")
    if kind == "Activity":
        return check_activity(obj, where)
    if kind in ("Agent", "Group"):
        return check_agent(obj, where)
    if kind == "StatementRef":
        _keys(obj, {"objectType", "id"}, where)
        if "id" not in obj:
            raise XapiError(f"{where} is a StatementRef without an id")
        check_uuid(obj["id"], f"{where}.id")
        return obj
    if kind == "SubStatement":
        if sub:
            raise XapiError(f"{where} is a SubStatement inside a SubStatement")
        _keys(obj, _SUB_KEYS, where)
        for key in ("actor", "verb", "object"):
            if key not in obj:
                raise XapiError(f"{where} has no {key}")
        _body(obj, f"{where}.")
        return obj
    raise XapiError(f"{where}.objectType {kind!r} is not Activity, Agent, Group, "
                    "StatementRef or SubStatement")  # fmt: skip


def check_activity(value: Any, where: str) -> dict[str, Any]:
    """An Activity object (Data 2.4.4.1) with its definition."""
    act = _object(value, where)
    _keys(act, {"objectType", "id", "definition"}, where)
    if act.get("objectType", "Activity") != "Activity":
        raise XapiError(f"{where}.objectType must be Activity")
    if "id" not in act:
        raise XapiError(f"{where} has no id")
    check_iri(act["id"], f"{where}.id")
    if "definition" in act:
        _definition(act["definition"], f"{where}.definition")
    return act


def _definition(value: Any, where: str) -> None:
    d = _object(value, where)
    _keys(d, _DEFINITION_KEYS, where)
    for key in ("name", "description"):
        if key in d:
            check_language_map(d[key], f"{where}.{key}")
    for key in ("type", "moreInfo"):
        if key in d:
            check_iri(d[key], f"{where}.{key}")
    if "extensions" in d:
        check_extensions(d["extensions"], f"{where}.extensions")
    lists = {key for key in ("choices", "scale", "source", "target", "steps") if key in d}
    kind = d.get("interactionType")
    if kind is None:
        if lists or "correctResponsesPattern" in d:
            raise XapiError(f"{where} has interaction properties without an interactionType")
        return
    if not isinstance(kind, str) or kind not in COMPONENTS:
        raise XapiError(f"{where}.interactionType {kind!r} is not one of {', '.join(COMPONENTS)}")
    if lists - COMPONENTS[kind]:
        raise XapiError(
            f"{where} has {', '.join(sorted(lists - COMPONENTS[kind]))}, "
            f"which a {kind} interaction may not have"
        )
    if "correctResponsesPattern" in d:
        pattern = d["correctResponsesPattern"]
        if not isinstance(pattern, list) or not all(isinstance(p, str) for p in pattern):
            raise XapiError(f"{where}.correctResponsesPattern must be an array of strings")
    for key in lists:
        items = d[key]
        if not isinstance(items, list):
            raise XapiError(f"{where}.{key} must be an array of interaction components")
        seen = set()
        for i, item in enumerate(items):
            at = f"{where}.{key}[{i}]"
            _keys(_object(item, at), {"id", "description"}, at)
            check_string(item.get("id"), f"{at}.id")
            if item["id"] in seen:
                raise XapiError(f"{where}.{key} repeats the id {item['id']!r}")
            seen.add(item["id"])
            if "description" in item:
                check_language_map(item["description"], f"{at}.description")


def _result(value: Any, where: str) -> None:
    r = _object(value, where)
    _keys(r, {"score", "success", "completion", "response", "duration", "extensions"}, where)
    if "score" in r:
        s = _object(r["score"], f"{where}.score")
        _keys(s, {"scaled", "raw", "min", "max"}, f"{where}.score")
        n = {k: check_number(v, f"{where}.score.{k}") for k, v in s.items()}
        if "scaled" in n and not -1 <= n["scaled"] <= 1:
            raise XapiError(f"{where}.score.scaled must be between -1 and 1")
        if "min" in n and "max" in n and n["min"] >= n["max"]:
            raise XapiError(f"{where}.score.min must be less than max")
        if "raw" in n and (
            ("min" in n and n["raw"] < n["min"]) or ("max" in n and n["raw"] > n["max"])
        ):
            raise XapiError(f"{where}.score.raw must lie between min and max")
    for key in ("success", "completion"):
        if key in r:
            check_bool(r[key], f"{where}.{key}")
    if "response" in r:
        check_string(r["response"], f"{where}.response")
    if "duration" in r:
        check_duration(r["duration"], f"{where}.duration")
    if "extensions" in r:
        check_extensions(r["extensions"], f"{where}.extensions")


def _context(value: Any, where: str, object_type: str) -> None:
    c = _object(value, where)
    allowed = {"registration", "instructor", "team", "contextActivities", "revision",
               "platform", "language", "statement", "extensions", "contextAgents",
               "contextGroups"}  # fmt: skip
    _keys(c, allowed, where)
    for key, kind, member in (("contextAgents", "contextAgent", "agent"),
                              ("contextGroups", "contextGroup", "group")):  # fmt: skip
        if key in c:
            _context_members(c[key], f"{where}.{key}", kind, member)
    if "registration" in c:
        check_uuid(c["registration"], f"{where}.registration")
    if "instructor" in c:
        check_agent(c["instructor"], f"{where}.instructor")
    if "team" in c:
        team = check_agent(c["team"], f"{where}.team")
        if team.get("objectType") != "Group":
            raise XapiError(f"{where}.team must be a Group")
    for key in ("revision", "platform"):
        if key in c:
            check_string(c[key], f"{where}.{key}")
            if object_type != "Activity":
                raise XapiError(f"{where}.{key} is only allowed when the object is an Activity")
    if "language" in c:
        check_language(c["language"], f"{where}.language")
    if "statement" in c:
        ref = _object(c["statement"], f"{where}.statement")
        _keys(ref, {"objectType", "id"}, f"{where}.statement")
        if ref.get("objectType") != "StatementRef":
            raise XapiError(f"{where}.statement must be a StatementRef")
        check_uuid(ref.get("id"), f"{where}.statement.id")
    if "extensions" in c:
        check_extensions(c["extensions"], f"{where}.extensions")
    if "contextActivities" in c:
        ca = _object(c["contextActivities"], f"{where}.contextActivities")
        _keys(ca, {"parent", "grouping", "category", "other"}, f"{where}.contextActivities")
        for key, items in ca.items():
            for i, act in enumerate(items if isinstance(items, list) else [items]):
                check_activity(act, f"{where}.contextActivities.{key}[{i}]")


def _context_members(value: Any, where: str, kind: str, member: str) -> None:
    """xAPI 2.0.0 contextAgents / contextGroups: typed agents or groups with relevantTypes."""
    if not isinstance(value, list):
        raise XapiError(f"{where} must be an array of {kind} objects")
    for i, item in enumerate(value):
        at = f"{where}[{i}]"
        _keys(_object(item, at), {"objectType", member, "relevantTypes"}, at)
        if item.get("objectType") != kind:
            raise XapiError(f"{at}.objectType must be {kind}")
        if member not in item:
            raise XapiError(f"{at} has no {member}")
        found = check_agent(item[member], f"{at}.{member}")
        if member == "group" and found.get("objectType") != "Group":
            raise XapiError(f"{at}.group must be a Group")
        if "relevantTypes" in item:
            types = item["relevantTypes"]
            if not isinstance(types, list) or not types:
                raise XapiError(f"{at}.relevantTypes must be a non-empty array of IRIs")
            for j, iri in enumerate(types):
                check_iri(iri, f"{at}.relevantTypes[{j}]")


def _attachments(value: Any, where: str) -> None:
    if not isinstance(value, list):
        raise XapiError(f"{where} must be an array")
    allowed = {"usageType", "display", "description", "contentType", "length", "sha2", "fileUrl"}
    for i, item in enumerate(value):
        at = f"{where}[{i}]"
        att = _object(item, at)
        _keys(att, allowed, at)
        for key in ("usageType", "display", "contentType", "length", "sha2"):
            if key not in att:
                raise XapiError(f"{at} has no {key}")
        check_iri(att["usageType"], f"{at}.usageType")
        check_language_map(att["display"], f"{at}.display")
        if "description" in att:
            check_language_map(att["description"], f"{at}.description")
        if not isinstance(att["contentType"], str) or "/" not in att["contentType"]:
            raise XapiError(f"{at}.contentType must be an Internet media type")
        length = att["length"]
        if isinstance(length, bool) or not isinstance(length, int) or length < 0:
            raise XapiError(f"{at}.length must be a non-negative integer")
        if not isinstance(att["sha2"], str) or not _SHA2.fullmatch(att["sha2"]):
            raise XapiError(f"{at}.sha2 must be a SHA-2 hash in hexadecimal")
        if "fileUrl" in att and not is_iri(att["fileUrl"]):
            raise XapiError(f"{at}.fileUrl must be an IRL")


def check_authority(value: Any) -> None:
    """An authority: an Agent, or an OAuth pair (an anonymous Group of two Agents, Data 2.4.9)."""
    auth = check_agent(value, "authority")
    if auth.get("objectType") == "Group":
        members = auth.get("member", [])
        named = [key for key in IFI_KEYS if key in auth]
        if named or len(members) != 2 or not any("account" in m for m in members):
            raise XapiError(
                "authority as a Group must be an anonymous OAuth pair: two Agents, "
                "one of them the application's account"
            )
