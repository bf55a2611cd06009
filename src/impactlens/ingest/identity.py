"""Resolving person references to pseudonyms, in either import order.

A reference is ``id:<raw person_id>`` or ``<identity column>:<value>``. It resolves
to a person's pseudonym when that person is in ``people`` (directly, or through a
hashed identity value); an id that is exactly a stored pseudonym (``p_...`` present
in ``people``) is that person, unchanged, so files written with pseudonyms re-import.
Otherwise it is kept as ``u_`` + the same keyed hash, which never matches a person;
a later people import turns those into ``p_`` pseudonyms.
"""

from __future__ import annotations

from collections.abc import Iterable

from impactlens.ingest.keys import PSEUDONYM_HEX, identity_hash, pseudonymise
from impactlens.store.base import Store

UNKNOWN = "u_"
PERSON_TABLES = ("participation", "activity", "assessments", "surveys")


def known_people(store: Store) -> set[str]:
    """The pseudonyms in ``people``."""
    return set(store.values("people", "person_id"))


def identity_map(store: Store) -> dict[str, str]:
    """Identity value hash (truncated as in ``u_`` refs) -> person pseudonym."""
    frame = store.table("identities").select("value_hash", "person_id").to_pyarrow()
    hashes = frame.column("value_hash").to_pylist()
    people = frame.column("person_id").to_pylist()
    return {h[:PSEUDONYM_HEX]: p for h, p in zip(hashes, people, strict=True)}


def resolve_refs(
    refs: Iterable[str], key: bytes, people: set[str], ids: dict[str, str]
) -> dict[str, str]:
    """Map each reference to a person's pseudonym, or to a ``u_`` placeholder.

    Examples:
        >>> p = pseudonymise(b"k", "E1")
        >>> resolve_refs(["id:E1", "id:E2"], b"k", {p}, {})["id:E1"] == p
        True
        >>> resolve_refs(["id:E2"], b"k", {p}, {})["id:E2"].startswith("u_")
        True
        >>> resolve_refs(["id:" + p], b"k", {p}, {})["id:" + p] == p
        True
    """
    out: dict[str, str] = {}
    for ref in refs:
        tag, _, value = ref.partition(":")
        if tag == "id" and value in people:
            # already a stored pseudonym (e.g. written by `pilot assign`): that person, as is
            out[ref] = value
        elif tag == "id":
            pseudonym = pseudonymise(key, value)
            out[ref] = pseudonym if pseudonym in people else UNKNOWN + pseudonym[2:]
        else:
            digest = identity_hash(key, tag, value)[:PSEUDONYM_HEX]
            out[ref] = ids.get(digest, UNKNOWN + digest)
    return out


def reresolve(store: Store, key: bytes) -> int:
    """After a people import: turn ``u_`` refs that now match a person into pseudonyms.

    Also stores KPI ``unit_id``s that are (now) known people as their pseudonyms.
    Returns the number of rows changed.
    """
    people = known_people(store)
    ids = identity_map(store)
    changed = 0
    for table in PERSON_TABLES:
        mapping: dict[str, str] = {}
        for ref in store.values(table, "person_id", prefix=UNKNOWN):
            digest = ref[len(UNKNOWN) :]
            if "p_" + digest in people:
                mapping[ref] = "p_" + digest
            elif digest in ids:
                mapping[ref] = ids[digest]
        changed += store.remap_stored(table, "person_id", mapping)
    units = {}
    for unit in store.values("kpis", "unit_id"):
        if not unit.startswith("p_") and (p := pseudonymise(key, unit)) in people:
            units[unit] = p
    changed += store.remap_stored("kpis", "unit_id", units)
    return changed
