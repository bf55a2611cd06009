"""A checked statement as the LRS stores it: the properties it sets and its index row."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from impactlens.domain.xapi import codec
from impactlens.domain.xapi.agents import agent_ifis
from impactlens.domain.xapi.formats import with_arrays
from impactlens.domain.xapi.validation import VOIDED
from impactlens.domain.xapi.values import duration_seconds, iso, parse_timestamp


@dataclass
class StatementRow:
    """One ``xapi_statements`` row (without ``seq``) and its ``xapi_statement_refs``.

    ``refs`` holds (kind, ref, related) triples, deduplicated.
    """

    statement_id: str
    stored: datetime
    timestamp: datetime
    actor_ifi: str | None
    verb_id: str
    object_type: str
    object_id: str | None
    registration: str | None
    voids: str | None
    score: dict[str, float | None]
    success: bool | None
    completion: bool | None
    duration_s: float | None
    context_activities: list[str]
    version: str
    statement: dict[str, Any]
    refs: list[tuple[str, str, bool]] = field(default_factory=list)
    # the JSON made ahead by :func:`pending_row`, with the stored time still to stamp
    _text: str | None = field(default=None, repr=False)
    _timestamp_pending: bool = field(default=False, repr=False)

    @property
    def text(self) -> str:
        """The statement JSON as stored (for a :func:`pending_row`, with the stored mark)."""
        if self._text is not None:
            return self._text
        return codec.dumps(self.statement)

    @property
    def timestamp_pending(self) -> bool:
        """Whether the statement came without a timestamp (it gets the stored time)."""
        return self._timestamp_pending


def prepare(
    statement: dict[str, Any], *, stored: datetime, authority: dict[str, Any]
) -> dict[str, Any]:
    """The statement with what the LRS sets: id, stored, timestamp, authority, version.

    The authority is always the credentials' agent (the LRS SHOULD overwrite it, Data
    2.4.9); ``version`` defaults to 1.0.0; a missing timestamp is the stored time.

    Examples:
        >>> from datetime import datetime
        >>> s = prepare({"id": "A0000000-0000-0000-0000-000000000000"},
        ...             stored=datetime(2024, 1, 1), authority={"mbox": "mailto:l@x.org"})
        >>> s["id"], s["stored"], s["version"]
        ('a0000000-0000-0000-0000-000000000000', '2024-01-01T00:00:00.000Z', '1.0.0')
    """
    return _prepared(statement, iso(stored), authority)


def _prepared(statement: dict[str, Any], stored: str, authority: dict[str, Any]) -> dict[str, Any]:
    out = with_arrays(dict(statement))
    out["id"] = str(statement.get("id") or uuid.uuid4()).lower()
    out["stored"] = stored
    out.setdefault("timestamp", out["stored"])
    out["authority"] = authority
    out.setdefault("version", "1.0.0")
    return out


# stands in for the stored time in a pending row's JSON until the store numbers the rows
# (``lrs_sql.numbered``): random per process, so no statement a client sends contains it
STORED_MARK = f"stored-pending-{uuid.uuid4().hex}"
_PENDING = datetime(1970, 1, 1)
_PENDING_TEXT = iso(_PENDING)  # written once: a pending row's statement is stamped later


def pending_row(statement: dict[str, Any], *, authority: dict[str, Any]) -> StatementRow:
    """The index row of a checked statement whose stored time is set when it is stored.

    Everything but the stored time (validation already done, the JSON text, the index
    columns) is computed here, outside any store lock.
    """
    out = _prepared(statement, _PENDING_TEXT, authority)
    row = index_row(out, stored=_PENDING)
    row._timestamp_pending = "timestamp" not in statement
    out["stored"] = STORED_MARK
    if row._timestamp_pending:
        out["timestamp"] = STORED_MARK
    row._text = codec.dumps(out)
    return row


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _context_ids(context: dict[str, Any] | None) -> list[str]:
    ids: list[str] = []
    for items in ((context or {}).get("contextActivities") or {}).values():
        ids.extend(a["id"] for a in _listed(items))
    return ids


def _agents(agent: dict[str, Any] | None, related: bool, into: list[tuple[str, str, bool]]) -> None:
    if not agent:
        return
    own, members = agent_ifis(agent)
    if own is not None:
        into.append(("agent", own, related))
    into.extend(("agent", m, True) for m in members)


def _refs(st: dict[str, Any], refs: list[tuple[str, str, bool]], *, sub: bool) -> None:
    obj = st["object"]
    kind = obj.get("objectType", "Activity")
    _agents(st["actor"], sub, refs)
    if kind in ("Agent", "Group"):
        _agents(obj, sub, refs)
    elif kind == "Activity":
        refs.append(("activity", obj["id"], sub))
    ctx = st.get("context") or {}
    _agents(ctx.get("instructor"), True, refs)
    _agents(ctx.get("team"), True, refs)
    for item in ctx.get("contextAgents", []) + ctx.get("contextGroups", []):
        _agents(item.get("agent") or item.get("group"), True, refs)
    refs.extend(("activity", a, True) for a in _context_ids(ctx))
    if kind == "SubStatement":
        _refs(obj, refs, sub=True)


def index_row(statement: dict[str, Any], *, stored: datetime | None = None) -> StatementRow:
    """The index columns and references of a prepared statement (see :mod:`.agents`).

    ``stored`` is the statement's stored time when the caller has it parsed already.
    """
    obj = statement["object"]
    kind = obj.get("objectType", "Activity")
    if kind in ("Agent", "Group"):
        object_id = agent_ifis(obj)[0]
    elif kind == "StatementRef":
        object_id = obj["id"].lower()
    elif kind == "Activity":
        object_id = obj["id"]
    else:
        object_id = None
    result = statement.get("result") or {}
    score = result.get("score") or {}
    refs: list[tuple[str, str, bool]] = []
    _refs(statement, refs, sub=False)
    _agents(statement.get("authority"), True, refs)
    ctx = statement.get("context") or {}
    return StatementRow(
        statement_id=statement["id"],
        stored=stored or parse_timestamp(statement["stored"], "stored"),
        timestamp=parse_timestamp(statement["timestamp"], "timestamp"),
        actor_ifi=agent_ifis(statement["actor"])[0],
        verb_id=statement["verb"]["id"],
        object_type=kind,
        object_id=object_id,
        registration=str(ctx["registration"]).lower() if "registration" in ctx else None,
        voids=object_id if statement["verb"]["id"] == VOIDED else None,
        score={k: float(score[k]) if k in score else None for k in ("scaled", "raw", "min", "max")},
        success=result.get("success"),
        completion=result.get("completion"),
        duration_s=duration_seconds(result["duration"]) if "duration" in result else None,
        context_activities=_context_ids(ctx),
        version=str(statement.get("version", "1.0.0")),
        statement=statement,
        refs=list(dict.fromkeys(refs)),
    )
