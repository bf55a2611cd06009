"""Dashboard users, their roles, API tokens and login sessions.

Accounts live in the store (``users``, ``api_tokens``, ``sessions``), written with
plain inserts through Ibis so every engine can hold them: a later row for the same
name, token or session supersedes an earlier one. Passwords are argon2id hashes;
tokens and session ids are random and stored only as SHA-256 hashes (they carry
256 bits of entropy, so a fast hash is enough; a slow one is for guessable secrets).
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Literal

import pyarrow as pa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from impactlens.domain.errors import ImpactLensError
from impactlens.store.base import Store
from impactlens.store.schema import TABLES

if TYPE_CHECKING:
    from impactlens.services.workspace import Workspace

Role = Literal["viewer", "analyst", "admin"]
ROLES: tuple[Role, ...] = ("viewer", "analyst", "admin")  # each role has the rights of those before
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,63}")
SESSION_HOURS = 8
_HASHER = PasswordHasher()


@dataclass(frozen=True)
class User:
    """A signed-in person (or script) and what they may see."""

    name: str
    role: Role

    def can(self, needed: Role) -> bool:
        """Whether this user's role includes the rights of ``needed``.

        Examples:
            >>> User("ann", "analyst").can("viewer"), User("bob", "viewer").can("analyst")
            (True, False)
        """
        return ROLES.index(self.role) >= ROLES.index(needed)


@dataclass(frozen=True)
class NewUser:
    """A created user and the one-time secrets shown to whoever created it."""

    name: str
    role: Role
    password: str
    token: str

    def to_dict(self) -> dict[str, str]:
        """The contract's ``{"name","password","token"}`` document."""
        return {"name": self.name, "password": self.password, "token": self.token}


def secret_hash(secret: str) -> str:
    """The stored form of a token or session id.

    Examples:
        >>> secret_hash("abc")[:12]
        'ba7816bf8f01'
    """
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def _now() -> datetime:
    # stored naive in UTC: the store's TIMESTAMP columns carry no zone
    return datetime.now(UTC).replace(tzinfo=None)


def _insert(store: Store, table: str, row: dict[str, object]) -> None:
    columns = TABLES[table].columns
    frame = pa.Table.from_pylist([{c: row.get(c) for c in columns}], schema=_schema(table))
    store.table(table).get_backend().insert(table, frame)


def _schema(table: str) -> pa.Schema:
    kinds = {"VARCHAR": pa.string(), "BOOLEAN": pa.bool_(), "TIMESTAMP": pa.timestamp("us")}
    kinds["INTEGER"] = pa.int32()
    return pa.schema([(c, kinds[t.split()[0]]) for c, t in TABLES[table].columns.items()])


class Accounts:
    """Users, tokens and sessions of one store, cached in memory for fast checks.

    The server holds the store, so every change passes through this object and the
    cache stays true. ``store`` is only used inside the caller's lock.

    Examples:
        >>> import tempfile
        >>> from pathlib import Path
        >>> from impactlens.store.duckdb import DuckDBStore
        >>> with DuckDBStore(Path(tempfile.mkdtemp()) / "s.duckdb") as store:
        ...     accounts = Accounts(store)
        ...     new = accounts.add("ann", "analyst")
        ...     accounts.by_token(new.token)
        User(name='ann', role='analyst')
    """

    def __init__(self, store: Store) -> None:
        self._store = store
        self.reload()

    def reload(self) -> None:
        """Read every account, token and live session from the store."""
        self._users: dict[str, tuple[Role, str, bool]] = {}
        for row in self._rows("users", "changed_at"):
            self._users[row["name"]] = (row["role"], row["password_hash"], bool(row["active"]))
        self._tokens: dict[str, str | None] = {}
        self._issued: dict[str, datetime] = {}  # when each token was first created
        for row in self._rows("api_tokens", "created_at"):
            self._tokens[row["token_hash"]] = None if row["revoked_at"] else row["name"]
            self._issued.setdefault(row["token_hash"], row["created_at"])
        self._sessions: dict[str, tuple[str, datetime] | None] = {}
        for row in self._rows("sessions", "created_at"):
            live = row["ended_at"] is None
            self._sessions[row["session_hash"]] = (row["name"], row["expires_at"]) if live else None

    def _rows(self, table: str, order: str) -> list[dict]:
        return self._store.table(table).order_by(order).to_pyarrow().to_pylist()

    # -- users -----------------------------------------------------------------
    def add(self, name: str, role: str, *, by: str = "cli") -> NewUser:
        """Create a user with a one-time password and an API token."""
        if not _NAME.fullmatch(name):
            raise ImpactLensError(
                f"user name {name!r} is not allowed: use 1-64 letters, digits, '.', '_', '@' or '-'"
            )
        if role not in ROLES:
            raise ImpactLensError(f"unknown role {role!r}; roles are: {', '.join(ROLES)}")
        if name in self._users and self._users[name][2]:
            raise ImpactLensError(f"user {name!r} exists already")
        password = secrets.token_urlsafe(12)
        token = "il_" + secrets.token_urlsafe(32)
        digest = _HASHER.hash(password)
        now = _now()
        with self._store.transaction():
            _insert(
                self._store,
                "users",
                {
                    "name": name,
                    "role": role,
                    "password_hash": digest,
                    "active": True,
                    "changed_at": now,
                    "changed_by": by,
                },
            )
            _insert(
                self._store,
                "api_tokens",
                {"token_hash": secret_hash(token), "name": name, "created_at": now},
            )
        self._users[name] = (role, digest, True)
        self._tokens[secret_hash(token)] = name
        self._issued[secret_hash(token)] = now
        return NewUser(name=name, role=role, password=password, token=token)

    def deactivate(self, name: str, *, by: str) -> int:
        """Stop ``name`` signing in now: their sessions end and tokens are revoked.

        Returns how many tokens were revoked. Revoking the tokens too means that
        re-adding the name later (a new password and token) cannot revive old ones.
        """
        entry = self._users.get(name)
        if entry is None or not entry[2]:
            raise ImpactLensError(f"no active user {name!r}")
        if name == by:
            raise ImpactLensError("you cannot deactivate yourself; ask another admin")
        role, digest, _ = entry
        now = _now()
        live = [h for h, owner in self._tokens.items() if owner == name]
        sessions = [h for h, s in self._sessions.items() if s is not None and s[0] == name]
        with self._store.transaction():
            row = {"name": name, "role": role, "password_hash": digest, "active": False}
            _insert(self._store, "users", {**row, "changed_at": now, "changed_by": by})
            for token_hash in live:
                self._revoke_row(token_hash, name, now)
            for key in sessions:
                self._end_row(key, now)
        self._users[name] = (role, digest, False)
        return len(live)

    # -- API tokens ------------------------------------------------------------
    def tokens(self) -> list[dict[str, str]]:
        """Live tokens: ``id`` (first 12 hex digits of the stored hash), owner, created (UTC)."""
        return [
            {"id": h[:12], "name": owner, "created_at": self._issued[h].isoformat(sep=" ")[:19]}
            for h, owner in sorted(self._tokens.items(), key=lambda kv: self._issued[kv[0]])
            if owner is not None and self._user(owner) is not None
        ]

    def revoke_token(self, token_id: str) -> str:
        """Revoke the live token whose id (hash prefix) is ``token_id``; return its owner."""
        token_id = token_id.strip().lower()
        found = [h for h, o in self._tokens.items() if o is not None and h.startswith(token_id)]
        if len(token_id) < 8 or len(found) != 1:
            raise ImpactLensError(f"no live API token with id {token_id!r}")
        owner = self._tokens[found[0]] or ""
        self._revoke_row(found[0], owner, _now())
        return owner

    def _revoke_row(self, token_hash: str, owner: str, now: datetime) -> None:
        row = {"token_hash": token_hash, "name": owner, "created_at": now, "revoked_at": now}
        _insert(self._store, "api_tokens", row)
        self._tokens[token_hash] = None

    def users(self) -> list[User]:
        """Active users, by name."""
        return [User(n, r) for n, (r, _, active) in sorted(self._users.items()) if active]

    def _user(self, name: str | None) -> User | None:
        entry = self._users.get(name or "")
        if entry is None or not entry[2]:
            return None
        return User(name or "", entry[0])

    # -- credentials -----------------------------------------------------------
    def by_password(self, name: str, password: str) -> User | None:
        """The user when ``password`` is theirs, else None (same answer for unknown names)."""
        entry = self._users.get(name)
        digest = entry[1] if entry else _DUMMY
        try:
            _HASHER.verify(digest, password)
        except (VerificationError, InvalidHashError):
            return None
        return self._user(name) if entry else None

    def by_token(self, token: str) -> User | None:
        """The user an API token belongs to, if it is valid."""
        return self._user(self._tokens.get(secret_hash(token)))

    # -- sessions --------------------------------------------------------------
    def start_session(self, user: User) -> str:
        """A new session id for ``user`` (stored hashed, valid for a working day)."""
        sid = secrets.token_urlsafe(32)
        now = _now()
        expires = now + timedelta(hours=SESSION_HOURS)
        _insert(
            self._store,
            "sessions",
            {
                "session_hash": secret_hash(sid),
                "name": user.name,
                "created_at": now,
                "expires_at": expires,
            },
        )
        self._sessions[secret_hash(sid)] = (user.name, expires)
        return sid

    def by_session(self, sid: str) -> User | None:
        """The user of a live session id."""
        entry = self._sessions.get(secret_hash(sid))
        if entry is None or entry[1] <= _now():
            return None
        return self._user(entry[0])

    def end_session(self, sid: str) -> None:
        """Log out: the session id stops working now."""
        key = secret_hash(sid)
        if self._sessions.get(key) is not None:
            self._end_row(key, _now())

    def _end_row(self, key: str, now: datetime) -> None:
        entry = self._sessions[key]
        assert entry is not None
        row = {"session_hash": key, "name": entry[0], "created_at": now, "expires_at": entry[1]}
        _insert(self._store, "sessions", {**row, "ended_at": now})
        self._sessions[key] = None


# verified against unknown names so a wrong name costs as much time as a wrong password
_DUMMY = _HASHER.hash("not a password")


def add_user(ws: Workspace, name: str, role: str) -> NewUser:
    """Create a user in a workspace's store (what ``impactlens user add`` runs)."""
    with ws.store() as store:
        return Accounts(store).add(name, role)
