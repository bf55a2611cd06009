"""Erasing one person everywhere (``impactlens people forget``): the right to erasure.

The organisation names the person as it knows them (a raw ``person_id`` or an
identity value such as an e-mail); the workspace key turns that into the stored
pseudonym exactly as the import does. One transaction then deletes every row of
that person, their unresolved ``u_`` references, their person-level KPI rows, and
nulls other people's ``manager_id`` that pointed at them. The audit log records
that an erasure happened and how many rows went, never who it was.
"""

from __future__ import annotations

import getpass
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from impactlens.domain.errors import ImpactLensError
from impactlens.ingest.identity import PERSON_TABLES, UNKNOWN
from impactlens.ingest.keys import PSEUDONYM_HEX, identity_hash, pseudonymise
from impactlens.services.audit import AuditLog
from impactlens.store.base import Store

if TYPE_CHECKING:
    from impactlens.services.workspace import Workspace

PERSON_ID, PSEUDONYM = "person_id", "pseudonym"


@dataclass(frozen=True)
class Erasure:
    """What one erasure removed: rows per table, and references set to null."""

    person: str
    removed: dict[str, int]
    cleared: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        """Rows deleted in all tables."""
        return sum(self.removed.values())

    def to_dict(self) -> dict[str, object]:
        """The ``--json`` document: ``{"person", "removed": {table: n}, "cleared"}``."""
        return {"person": self.person, "removed": self.removed, "cleared": self.cleared}


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
        if not erasure.total:
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
    # a manager link to the erased person would still say who managed whom
    cleared["people.manager_id"] = store.delete_where("people", "manager_id", names, clear=True)
    removed["people"] = store.delete_where("people", "person_id", names)
    removed["identities"] = store.delete_where("identities", "person_id", names)
    for table in PERSON_TABLES:
        removed[table] = store.delete_where(table, "person_id", names)
    # person-level KPIs hold the pseudonym as their unit (ingest/identity.py reresolve)
    removed["kpis"] = store.delete_where("kpis", "unit_id", [person])
    return Erasure(person=person, removed=removed, cleared=cleared)


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
