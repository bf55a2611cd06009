"""The Learning Record Store's use cases: read statements, client credentials.

Every call takes an :class:`LrsStore` the caller holds (the web app passes the
dashboard's store under its lock). Storing statements is :mod:`.lrs_batches`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal

from impactlens.domain.xapi import codec
from impactlens.domain.xapi.errors import XapiError
from impactlens.domain.xapi.formats import render
from impactlens.store.lrs import Client, LrsStore, StatementQuery, StoredStatement, lrs_for

if TYPE_CHECKING:
    from impactlens.services.workspace import Workspace

Scope = Literal["read", "write", "all"]
SCOPES: tuple[Scope, ...] = ("read", "write", "all")
MAX_LIMIT = 500  # statements per page when the client asks for 0 (the server's maximum)
CLIENT_HOME = "https://impactlens.invalid/lrs/clients"
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,63}")


def now() -> datetime:
    """The current time as naive UTC (how the store keeps times)."""
    return datetime.now(UTC).replace(tzinfo=None)


# -- credentials ------------------------------------------------------------------


def secret_hash(secret: str) -> str:
    """SHA-256 of a secret.

    Secrets are 256 random bits made by :func:`create_client`, never chosen by people,
    so a fast hash resists guessing as well as argon2 would, and a request pays
    microseconds instead of ~50 ms (argon2 is for guessable passwords).
    """
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True)
class NewClient:
    """Created credentials, shown once."""

    name: str
    scope: Scope
    key: str
    secret: str

    def to_dict(self) -> dict[str, str]:
        """The contract's JSON (``{"key", "secret"}``, plus name and scope)."""
        return {"key": self.key, "secret": self.secret, "name": self.name, "scope": self.scope}


def create_client(ws: Workspace, name: str, scope: str) -> NewClient:
    """Create xAPI client credentials (HTTP Basic key and secret) in the workspace's store."""
    if scope not in SCOPES:
        raise XapiError(f"scope must be one of {', '.join(SCOPES)}, not {scope!r}")
    if not _NAME.fullmatch(name):
        raise XapiError(f"client name {name!r}: use letters, digits, '.', '_', '-' or '@'")
    key, secret = secrets.token_hex(10), secrets.token_urlsafe(32)
    with ws.store() as store:
        lrs = lrs_for(store)
        with lrs.transaction():
            lrs.add_client(Client(key, name, scope, secret_hash(secret)), now())
    return NewClient(name, scope, key, secret)


class Credentials:
    """Checks HTTP Basic credentials, remembering verified ones for a minute."""

    TTL_S = 60.0

    def __init__(self) -> None:
        self._seen: dict[tuple[str, str], tuple[float, Client]] = {}
        self._lock = threading.Lock()

    def check(self, lrs: LrsStore, key: str, secret: str) -> Client:
        """The client these credentials belong to, or :class:`XapiError` 401."""
        digest = secret_hash(secret)
        with self._lock:
            hit = self._seen.get((key, digest))
        if hit is not None and time.monotonic() - hit[0] < self.TTL_S:
            return hit[1]
        client = lrs.client(key)
        if client is None or not hmac.compare_digest(client.secret_hash, digest):
            raise XapiError("the key or secret is wrong", 401)
        with self._lock:
            self._seen[(key, digest)] = (time.monotonic(), client)
        return client

    def known(self, key: str, secret: str) -> Client | None:
        """Credentials verified within the last minute (no store access needed)."""
        with self._lock:
            hit = self._seen.get((key, secret_hash(secret)))
        return hit[1] if hit is not None and time.monotonic() - hit[0] < self.TTL_S else None


def authority(client: Client) -> dict[str, Any]:
    """The Agent a client's statements are stored under."""
    return {
        "objectType": "Agent",
        "name": client.name,
        "account": {"homePage": CLIENT_HOME, "name": client.key},
    }


# -- statements -------------------------------------------------------------------


def statement(lrs: LrsStore, statement_id: str, *, voided: bool) -> StoredStatement:
    """One statement by id (``voided``: by voidedStatementId); 404 when there is none."""
    found = lrs.find([statement_id.lower()]).get(statement_id.lower())
    if found is None or found.voided != voided:
        raise XapiError(
            f"no {'voided ' if voided else ''}statement with the id {statement_id}", 404
        )
    return found


@dataclass(frozen=True)
class Page:
    """One page of GET /statements: the statements (as stored) and the next page's token."""

    statements: list[StoredStatement]
    more: str


def query(lrs: LrsStore, q: StatementQuery) -> Page:
    """A page of statements; ``more`` is empty on the last page."""
    limit = MAX_LIMIT if q.limit <= 0 else min(q.limit, MAX_LIMIT)
    through = q.through_seq if q.through_seq is not None else lrs.last_seq()
    q = StatementQuery(**{**q.__dict__, "limit": limit, "through_seq": through})
    rows = lrs.query(q)
    if len(rows) <= limit:
        return Page(rows, "")
    rows = rows[:limit]
    state = {**q.__dict__, "after_seq": rows[-1].seq}
    for key in ("since", "until"):
        if state[key] is not None:
            state[key] = state[key].isoformat()
    token = base64.urlsafe_b64encode(json.dumps(state).encode()).decode().rstrip("=")
    return Page(rows, token)


def query_from_token(token: str) -> StatementQuery:
    """The query a ``more`` token continues (400 when it is not one of ours)."""
    try:
        state = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        for key in ("since", "until"):
            if state[key] is not None:
                state[key] = datetime.fromisoformat(state[key])
        return StatementQuery(**state)
    except (ValueError, TypeError, KeyError) as exc:
        raise XapiError("the more token is not valid (it must come from a previous page)") from exc


def rendered(
    lrs: LrsStore, texts: list[str], fmt: str, languages: list[str]
) -> list[dict[str, Any]]:
    """Stored statement texts in the requested format."""
    parsed = [codec.loads(t) for t in texts]
    if fmt != "canonical":
        return [render(s, fmt) for s in parsed]
    ids = {
        s["object"]["id"] for s in parsed if s["object"].get("objectType", "Activity") == "Activity"
    }
    definitions = {i: d for i in ids if (d := activity(lrs, i).get("definition"))}
    return [render(s, fmt, languages=languages, definitions=definitions) for s in parsed]


def activity(lrs: LrsStore, activity_id: str) -> dict[str, Any]:
    """The canonical Activity object: definitions merged from its statements, newest last."""
    merged: dict[str, Any] = {}
    for text in lrs.activity_statements(activity_id, 200):
        st = codec.loads(text)
        for act in _activities(st):
            if act.get("id") == activity_id and isinstance(act.get("definition"), dict):
                for key, value in act["definition"].items():
                    if isinstance(value, dict) and isinstance(merged.get(key), dict):
                        merged[key] = {**merged[key], **value}
                    else:
                        merged[key] = value
    out: dict[str, Any] = {"objectType": "Activity", "id": activity_id}
    if merged:
        out["definition"] = merged
    return out


def _activities(st: dict[str, Any]) -> list[dict[str, Any]]:
    found = []
    obj = st.get("object", {})
    if obj.get("objectType", "Activity") == "Activity":
        found.append(obj)
    elif obj.get("objectType") == "SubStatement":
        found += _activities(obj)
    for items in (st.get("context") or {}).get("contextActivities", {}).values():
        found += items if isinstance(items, list) else [items]
    return found
