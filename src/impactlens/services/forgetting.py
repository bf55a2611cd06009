"""Erasing one person everywhere (``impactlens people forget``): the right to erasure.

The organisation names the person as it knows them (a raw ``person_id`` or an
identity value such as an e-mail); the workspace key turns that into the stored
pseudonym exactly as the import does. One transaction then deletes every row of
that person, their unresolved ``u_`` references, their person-level KPI rows, and
nulls other people's ``manager_id`` that pointed at them. In the Learning Record
Store the person's agent is replaced by a tombstone agent wherever it appears in a
statement (actor, object, context), and their agent documents are deleted. In a
pilot randomised by person, the person's pseudonym in the assignment and the frozen
registration becomes a tombstone id with the same arm. The audit log records that an
erasure happened and how many rows went, never who it was.
"""

from __future__ import annotations

import getpass
import hashlib
import json
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import pyarrow as pa

from impactlens.domain.errors import ImpactLensError
from impactlens.ingest.identity import PERSON_TABLES, UNKNOWN
from impactlens.ingest.keys import PSEUDONYM_HEX, identity_hash, pseudonymise
from impactlens.services.audit import AuditLog
from impactlens.store.base import Store

if TYPE_CHECKING:
    from impactlens.services.workspace import Workspace

PERSON_ID, PSEUDONYM = "person_id", "pseudonym"
TOMBSTONE_HOME = "urn:impactlens:forgotten"
_IFI_KEYS = ("mbox", "mbox_sha1sum", "openid", "account")


@dataclass(frozen=True)
class Erasure:
    """What one erasure removed: rows per table, and references set to null."""

    person: str
    removed: dict[str, int]
    cleared: dict[str, int] = field(default_factory=dict)
    # rows where a tombstone replaced the person: xAPI statements and refs (their agent),
    # pilot assignments and registrations (their randomised unit), by table
    tombstoned: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        """Rows deleted in all tables."""
        return sum(self.removed.values())

    def to_dict(self) -> dict[str, object]:
        """The ``--json`` document: person, removed and tombstoned per table, cleared refs."""
        return {
            "person": self.person,
            "removed": self.removed,
            "cleared": self.cleared,
            "tombstoned": self.tombstoned,
        }


def forget_person(ws: Workspace, raw: str, *, by: str = PERSON_ID) -> Erasure:
    """Erase the person ``raw`` (a value of column ``by``) from the workspace's store.

    Raises:
        ImpactLensError: ``by`` is not person_id, pseudonym or an identity column, or no
            row names the person (then nothing changed; a second run lands here too).
    """
    by = by.strip().lower()
    identity = [c.strip().lower() for c in ws.settings.identity.columns]
    if by not in (PERSON_ID, PSEUDONYM, *identity):
        choices = ", ".join([PERSON_ID, PSEUDONYM, *identity])
        raise ImpactLensError(f"cannot find people by {by!r}; use one of: {choices}")
    value = raw.strip()
    if not value:
        raise ImpactLensError("give the person's identifier, e.g. impactlens people forget E042")
    key = ws.key()
    with ws.store() as store, store.transaction():
        erasure = _erase(store, key, by, value)
        if not erasure.total and not sum(erasure.tombstoned.values()):
            # raised inside the transaction: it rolls back, so nothing changed
            raise ImpactLensError(
                f"no person with {by} {value!r} in the store (never imported, or already "
                "forgotten); nothing was changed"
            )
        _audit(store, erasure)
    return erasure


def _erase(store: Store, key: bytes, by: str, value: str) -> Erasure:
    """Delete every row of one person; the caller holds the transaction."""
    person, refs = _resolve(store, key, by, value)
    names = [person, *sorted(refs)]
    removed: dict[str, int] = {}
    cleared: dict[str, int] = {}
    # before the identities go: they are how the person's xAPI agents are recognised
    tombstoned = _tombstone(store, _AgentMatch(key, _identity_hashes(store, person), by, value))
    documents = tombstoned.pop("xapi_documents", 0)
    if documents:
        removed["xapi_documents"] = documents
    # a manager link to the erased person would still say who managed whom
    cleared["people.manager_id"] = store.delete_where("people", "manager_id", names, clear=True)
    removed["people"] = store.delete_where("people", "person_id", names)
    removed["identities"] = store.delete_where("identities", "person_id", names)
    for table in PERSON_TABLES:
        removed[table] = store.delete_where(table, "person_id", names)
    # person-level KPIs hold the pseudonym as their unit (ingest/identity.py reresolve)
    removed["kpis"] = store.delete_where("kpis", "unit_id", [person])
    tombstoned.update(_redact_pilots(store, set(names)))
    return Erasure(person=person, removed=removed, cleared=cleared, tombstoned=tombstoned)


def _resolve(store: Store, key: bytes, by: str, value: str) -> tuple[str, set[str]]:
    """The person's pseudonym and the ``u_`` references that may still name them.

    An unresolved reference is ``u_`` + the same keyed hash the import made of the raw
    id or identity value (``ingest/identity.py``); when the identity value matches no
    person, the ``u_`` reference itself is the only name the store has for them.
    """
    refs: set[str] = set()
    if by == PSEUDONYM:
        person = value
    elif by == PERSON_ID:
        person = pseudonymise(key, value)
    else:
        digest = identity_hash(key, by, value)
        refs.add(UNKNOWN + digest[:PSEUDONYM_HEX])
        ids = store.table("identities")
        found = (
            ids.filter((ids.id_column == by) & (ids.value_hash == digest))
            .select("person_id")
            .to_pyarrow()
            .column("person_id")
            .to_pylist()
        )
        person = found[0] if found else UNKNOWN + digest[:PSEUDONYM_HEX]
    if person.startswith("p_"):
        refs.add(UNKNOWN + person[2:])
        ids = store.table("identities")
        hashes = (
            ids.filter(ids.person_id == person)
            .select("value_hash")
            .to_pyarrow()
            .column("value_hash")
            .to_pylist()
        )
        refs.update(UNKNOWN + h[:PSEUDONYM_HEX] for h in hashes)
    refs.discard(person)
    return person, refs


def _audit(store: Store, erasure: Erasure) -> None:
    """Record that an erasure ran and its size; nothing that could name the person."""
    try:
        operator = getpass.getuser()
    except (KeyError, OSError):  # no passwd entry in some containers
        operator = "unknown"
    log = AuditLog()
    route = f"people forget: {erasure.total} rows removed"
    log.record(operator, "cli", "CLI", route, None, "forget", 200)
    log.flush(store)


def _identity_hashes(store: Store, person: str) -> set[tuple[str, str]]:
    """The person's stored (identity column, keyed hash) pairs."""
    ids = store.table("identities")
    rows = ids.filter(ids.person_id == person).select("id_column", "value_hash")
    return {(r["id_column"], r["value_hash"]) for r in rows.to_pyarrow().to_pylist()}


@dataclass(frozen=True)
class _AgentMatch:
    """Whether an xAPI agent IFI is the person's, from their hashed identities.

    Identities are stored as keyed hashes, so an IFI matches when its identity value
    hashes to one of the person's, as the LRS resolves actors (ingest/xapi_activity.py):
    ``mbox`` -> email, ``account`` name -> lms_account, ``openid`` -> openid, and
    ``mbox_sha1sum`` -> the SHA-1 the people import records beside an e-mail (or, for
    people imported before it did, the SHA-1 of the raw e-mail the operator gave).
    """

    key: bytes
    hashes: set[tuple[str, str]]
    by: str
    raw: str

    def __call__(self, ifi: str) -> bool:
        kind, _, rest = ifi.partition(":")
        if kind == "mbox":
            email = rest.removeprefix("mailto:")
            return self._known("email", email)
        if kind == "account":
            # account:<homePage>|<name>, for any homePage
            return self._known("lms_account", rest.partition("|")[2])
        if kind == "openid":
            return self._known("openid", rest)
        if kind == "mbox_sha1sum":
            if ("mbox_sha1sum", identity_hash(self.key, "mbox_sha1sum", rest)) in self.hashes:
                return True
            if self.by != "email":
                return False
            # mbox_sha1sum is the SHA-1 of the mailto IRI (xAPI 1.0.3, 2.4.2.3)
            mailto = "mailto:" + self.raw.strip()
            sums = {hashlib.sha1(m.encode()).hexdigest() for m in (mailto, mailto.lower())}
            return rest.lower() in sums
        return False

    def _known(self, column: str, value: str) -> bool:
        if not value:
            return False
        if self.by == column and value.strip().lower() == self.raw.strip().lower():
            return True
        return (column, identity_hash(self.key, column, value)) in self.hashes


def agent_ifi(agent: dict) -> str | None:
    """The canonical IFI of an xAPI agent object (None when it has none).

    Examples:
        >>> agent_ifi({"mbox": "mailto:ann@x.org"})
        'mbox:mailto:ann@x.org'
        >>> agent_ifi({"account": {"homePage": "h", "name": "a"}})
        'account:h|a'
    """
    if isinstance(agent.get("account"), dict):
        account = agent["account"]
        return f"account:{account.get('homePage', '')}|{account.get('name', '')}"
    for key in ("mbox", "mbox_sha1sum", "openid"):
        if isinstance(agent.get(key), str):
            return f"{key}:{agent[key]}"
    return None


def _replace_agents(value: object, match: _AgentMatch, tombstone: dict) -> object:
    """``value`` with every agent object of the person replaced by ``tombstone``."""
    if isinstance(value, dict):
        if any(k in value for k in _IFI_KEYS) and (ifi := agent_ifi(value)) and match(ifi):
            return dict(tombstone)
        return {k: _replace_agents(v, match, tombstone) for k, v in value.items()}
    if isinstance(value, list):
        return [_replace_agents(v, match, tombstone) for v in value]
    return value


def _tombstone(store: Store, match: _AgentMatch) -> dict[str, int]:
    """Replace the person's agent in stored statements; delete their agent documents.

    One random tombstone per erasure: the person's statements stay countable together
    (the reach of an activity does not change) but name nobody. Rows are rewritten by
    delete-then-insert so every engine behind the store seam can do it.
    """
    known = set(store.values("xapi_statements", "actor_ifi"))
    known |= set(store.values("xapi_statements", "object_id"))
    known |= set(store.values("xapi_statement_refs", "ref"))
    known |= set(store.values("xapi_documents", "agent_ifi"))
    mine = sorted(ifi for ifi in known if match(ifi))
    if not mine:
        return {}
    name = str(uuid.uuid4())
    tombstone = {"objectType": "Agent", "account": {"homePage": TOMBSTONE_HOME, "name": name}}
    dead = f"account:{TOMBSTONE_HOME}|{name}"

    refs = store.table("xapi_statement_refs")
    ref_rows = refs.filter(refs.ref.isin(mine)).to_pyarrow()
    seqs = set(ref_rows.column("seq").to_pylist())
    st = store.table("xapi_statements")
    hit = st.actor_ifi.isin(mine) | st.object_id.isin(mine)
    if seqs:
        hit = hit | st.seq.isin(sorted(seqs))
    rows = st.filter(hit).to_pyarrow().to_pylist()
    for row in rows:
        if row["actor_ifi"] in mine:
            row["actor_ifi"] = dead
        if row["object_id"] in mine:
            row["object_id"] = dead
        doc = json.loads(row["statement"]) if row["statement"] else None
        if doc is not None:
            row["statement"] = json.dumps(_replace_agents(doc, match, tombstone))
    _rewrite(store, "xapi_statements", "statement_id", rows)
    new_refs = ref_rows.to_pylist()
    for ref in new_refs:
        ref["ref"] = dead
    store.delete_where("xapi_statement_refs", "ref", mine)
    _rewrite(store, "xapi_statement_refs", None, new_refs)
    out = {"xapi_statements": len(rows), "xapi_statement_refs": len(new_refs)}
    out["xapi_documents"] = store.delete_where("xapi_documents", "agent_ifi", mine)
    return {k: n for k, n in out.items() if n}


def _redact_pilots(store: Store, names: set[str]) -> dict[str, int]:
    """Replace the person as a randomised unit in pilot assignments and registrations.

    A pilot randomised by person keeps each unit's arm (``units``: pseudonym -> arm) in
    its assignment and, frozen, in its registration. The person's pseudonym becomes a
    tombstone id with the same arm, so the arms' sizes and the registration's deviation
    check ("registered people dropped") still add up. A registration's sha256 is
    recomputed over the redacted record; the audit log says an erasure happened.
    """
    from impactlens.services.pilots import canonical

    out: dict[str, int] = {}
    for table, inside in (("pilot_assignments", False), ("pilot_registrations", True)):
        rows = store.table(table).to_pyarrow().to_pylist()
        programs: set[str] = set()
        for row in rows:
            record = json.loads(row["record"])
            holder = record.get("assignment") if inside else record
            units = holder.get("units") if isinstance(holder, dict) else None
            if not isinstance(holder, dict) or not isinstance(units, dict):
                continue
            if not names & set(units):
                continue
            holder["units"] = {
                (f"forgotten-{uuid.uuid4().hex[:12]}" if unit in names else unit): arm
                for unit, arm in units.items()
            }
            row["record"] = canonical(record)
            if inside:
                row["sha256"] = hashlib.sha256(row["record"].encode("utf-8")).hexdigest()
            programs.add(row["program"])
            out[table] = out.get(table, 0) + 1
        if programs:
            store.delete_where(table, "program", sorted(programs))
            _rewrite(store, table, None, [r for r in rows if r["program"] in programs])
    return out


def _rewrite(store: Store, table: str, key: str | None, rows: list[dict]) -> None:
    """Replace rows (matched by ``key``; None: already deleted) with their new values."""
    if not rows:
        return
    if key is not None:
        store.delete_where(table, key, [r[key] for r in rows])
    schema = store.table(table).schema().to_pyarrow()
    frame = pa.Table.from_pylist(rows, schema=schema)
    store.table(table).get_backend().insert(table, frame)
