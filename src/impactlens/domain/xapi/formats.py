"""Statement comparison ("Statement Comparison Requirements", Data 2.3) and the
``format`` renderings ``exact``, ``ids`` and ``canonical`` (Communication 2.1.3)."""

from __future__ import annotations

import copy
import re
from typing import Any

from impactlens.domain.xapi.agents import IFI_KEYS
from impactlens.domain.xapi.values import parse_timestamp

FORMATS = ("exact", "ids", "canonical")
# what the LRS sets or may rewrite: differences there never make two statements differ
_IGNORED = ("stored", "authority", "version", "id")


def _comparable(value: Any, key: str = "") -> Any:
    if isinstance(value, dict):
        out = {k: _comparable(v, k) for k, v in value.items() if not (key == "" and k in _IGNORED)}
        if (
            key in ("actor", "object", "instructor", "team")
            and value.get("objectType")
            in (
                None,
                "Agent",
            )
            and any(k in value for k in IFI_KEYS)
        ):
            out.pop("objectType", None)  # "Agent" is the default: sent or not, the same agent
        if key == "object" and value.get("objectType") == "Activity":
            out.pop("objectType", None)
        return out
    if isinstance(value, list):
        return [_comparable(v, key) for v in value]
    if key == "timestamp" and isinstance(value, str):
        return parse_timestamp(value, key).isoformat()
    if key == "duration" and isinstance(value, str):
        # precision beyond 0.01 s is not compared (xAPI 2.0.0 4.2.7)
        return re.sub(r"(\d+)[.,](\d{1,2})\d*S$", r"\1.\2S", value)
    if key in ("registration", "mbox_sha1sum", "sha2") and isinstance(value, str):
        return value.lower()
    return value


def same_statement(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """Whether two statements with one id say the same thing.

    Ignores what the LRS sets (stored, authority, version), id case, key order, the
    default objectType and how a timestamp's offset is written.

    Examples:
        >>> s = {"actor": {"mbox": "mailto:a@x.org"}, "verb": {"id": "http://v"},
        ...      "object": {"id": "http://o"}, "timestamp": "2024-01-01T01:00:00+01:00"}
        >>> same_statement(s, {**s, "stored": "x", "timestamp": "2024-01-01T00:00:00Z"})
        True
        >>> same_statement(s, {**s, "verb": {"id": "http://w"}})
        False
    """
    if "timestamp" not in a or "timestamp" not in b:
        # the LRS fills a missing timestamp with `stored`: only compare two sent ones
        a, b = (
            {k: v for k, v in a.items() if k != "timestamp"},
            {k: v for k, v in b.items() if k != "timestamp"},
        )
    return bool(_comparable(with_arrays(a)) == _comparable(with_arrays(b)))


def with_arrays(st: dict[str, Any]) -> dict[str, Any]:
    """Context activities as arrays (the LRS stores a single one as an array of one)."""
    ctx = st.get("context")
    if isinstance(ctx, dict) and isinstance(ctx.get("contextActivities"), dict):
        listed = {k: _listed(v) for k, v in ctx["contextActivities"].items()}
        st = {**st, "context": {**ctx, "contextActivities": listed}}
    obj = st.get("object")
    if isinstance(obj, dict) and obj.get("objectType") == "SubStatement":
        st = {**st, "object": with_arrays(obj)}
    return st


def _agent_ids(agent: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if "objectType" in agent:
        out["objectType"] = agent["objectType"]
    for key in IFI_KEYS:
        if key in agent:
            out[key] = agent[key]
    if agent.get("objectType") == "Group" and not any(k in agent for k in IFI_KEYS):
        out["member"] = [_agent_ids(m) for m in agent.get("member", [])]
    return out


def _object_ids(obj: dict[str, Any]) -> dict[str, Any]:
    kind = obj.get("objectType", "Activity")
    if kind in ("Agent", "Group"):
        return _agent_ids(obj)
    if kind == "Activity":
        return {"id": obj["id"]}
    if kind == "SubStatement":
        return _body_ids(dict(obj))
    return dict(obj)


def _body_ids(st: dict[str, Any]) -> dict[str, Any]:
    st["actor"] = _agent_ids(st["actor"])
    st["verb"] = {"id": st["verb"]["id"]}
    st["object"] = _object_ids(st["object"])
    if "authority" in st:
        st["authority"] = _agent_ids(st["authority"])
    ctx = st.get("context")
    if isinstance(ctx, dict):
        ctx = dict(ctx)
        for key in ("instructor", "team"):
            if key in ctx:
                ctx[key] = _agent_ids(ctx[key])
        if "contextActivities" in ctx:
            ctx["contextActivities"] = {
                k: [{"id": a["id"]} for a in _listed(v)]
                for k, v in ctx["contextActivities"].items()
            }
        st["context"] = ctx
    return st


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _pick(langmap: dict[str, str], languages: list[str]) -> dict[str, str]:
    """One entry of a language map: the first accepted language found, else the first one."""
    for lang in languages:
        for tag, text in langmap.items():
            if tag.lower() == lang.lower() or tag.lower().split("-")[0] == lang.lower():
                return {tag: text}
    for tag, text in langmap.items():
        return {tag: text}
    return {}


def _canonical(value: Any, languages: list[str], key: str = "") -> Any:
    if isinstance(value, dict):
        if key in ("display", "name", "description") and all(
            isinstance(v, str) for v in value.values()
        ):
            return _pick(value, languages)
        return {k: _canonical(v, languages, k) for k, v in value.items()}
    if isinstance(value, list):
        return [_canonical(v, languages, key) for v in value]
    return value


def render(
    statement: dict[str, Any],
    fmt: str,
    *,
    languages: list[str] | None = None,
    definitions: dict[str, dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """A stored statement in the requested ``format`` (exact, ids or canonical).

    ``canonical`` replaces each activity's definition with the LRS's canonical one
    (``definitions`` by activity id) and keeps one language per language map, the
    first of ``languages`` (the Accept-Language order) the map has.

    Examples:
        >>> s = {"actor": {"name": "Ann", "mbox": "mailto:a@x.org"},
        ...      "verb": {"id": "http://v", "display": {"en-US": "did", "fr": "fit"}},
        ...      "object": {"id": "http://o", "definition": {"name": {"en": "O"}}}}
        >>> render(s, "ids")["actor"], render(s, "ids")["verb"]
        ({'mbox': 'mailto:a@x.org'}, {'id': 'http://v'})
        >>> render(s, "canonical", languages=["fr"])["verb"]["display"]
        {'fr': 'fit'}
    """
    if fmt == "exact":
        return statement
    st = copy.deepcopy(statement)
    if fmt == "ids":
        return _body_ids(st)
    if definitions:
        _apply_definitions(st, definitions)
    out: dict[str, Any] = _canonical(st, languages or [])
    return out


def _apply_definitions(st: dict[str, Any], definitions: dict[str, dict[str, Any]]) -> None:
    def fix(act: dict[str, Any]) -> None:
        known = definitions.get(act.get("id", ""))
        if known:
            act["definition"] = copy.deepcopy(known)

    obj = st.get("object", {})
    if obj.get("objectType", "Activity") == "Activity":
        fix(obj)
    elif obj.get("objectType") == "SubStatement":
        _apply_definitions(obj, definitions)
    for items in (st.get("context") or {}).get("contextActivities", {}).values():
        for act in _listed(items):
            fix(act)
