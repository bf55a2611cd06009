"""Preparing one file for the write: read, check, type and pseudonymise it in staging.

Two paths give the same rows. The fast path reads the file once into a typed table
whose every row carries a pass/fail flag, and applies pseudonyms as joins in a view
of the rows to write. Whenever it sees a problem (a failed check, a duplicate key,
an odd header, a read error) it steps aside and the text path runs: it stages the
file as text and finds and names the first problem exactly, row and column.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from impactlens.domain.errors import InputError
from impactlens.ingest.base import ImportKind
from impactlens.ingest.identity import UNKNOWN, identity_map, known_people, resolve_refs
from impactlens.ingest.keys import identity_hash, pseudonymise
from impactlens.store.base import ColumnPlan, StagedFile, Staging, Store

Remap = tuple[str, str, Mapping[str, str]]


@dataclass(frozen=True)
class Prepared:
    """One validated file in staging, ready to write.

    ``rows`` is the table (or view) to upsert; ``extras`` the extra columns and
    their SQL types; ``unknown`` the rows naming a person not in people.
    """

    staged: StagedFile
    rows: str
    extras: dict[str, str]
    unknown: int
    identities: str | None = None


@dataclass(frozen=True)
class FileContext:
    """What preparing any file of one import call needs besides the file."""

    store: Store
    staging: Staging
    kind: ImportKind
    key: bytes
    identity: list[str]
    decided: dict[str, str]  # extra columns typed by earlier files of this call

    @property
    def skip(self) -> set[str]:
        """Identity columns: never stored as extras (people keep them hashed)."""
        return set(self.identity) if self.kind.name == "people" or self.kind.person else set()

    @property
    def person_ref(self) -> list[str]:
        """The person column, then the identity columns that may stand in for it."""
        return [self.kind.person, *self.identity] if self.kind.person else []


def check_columns(kind: ImportKind, path: Path, columns: list[str], identity: list[str]) -> None:
    """Raise when a file lacks a required column."""
    found = ", ".join(columns)
    for name in kind.required:
        if name not in columns:
            raise InputError(path, f"missing required column {name!r}; found: {found}", row=1)
    if kind.person and kind.person_required:
        options = [kind.person, *identity]
        if not any(c in columns for c in options):
            raise InputError(
                path,
                f"missing required column {kind.person!r} (or an identity column: "
                f"{', '.join(identity) or 'none configured'}); found: {found}",
                row=1,
            )


def _extra_names(ctx: FileContext, columns: list[str]) -> tuple[list[str], dict[str, str]]:
    """The extra columns of a file, and the SQL types earlier imports gave any of them."""
    table = ctx.kind.table
    fixed = {p.name for p in ctx.kind.plans} | set(ctx.store.columns(table)) & set(ctx.kind.key)
    names = [c for c in columns if c not in fixed and c not in ctx.skip]
    return names, {**ctx.store.columns(table), **ctx.decided}


def _extras(ctx: FileContext, staged: StagedFile) -> dict[str, str]:
    """Extra columns and their SQL types: DOUBLE when every value is a number."""
    names, known = _extra_names(ctx, staged.columns)
    doubles = [c for c in names if known.get(c) == "DOUBLE"]
    failure = ctx.staging.first_failure(staged, [ColumnPlan(c, "double") for c in doubles])
    if failure is not None:
        raise InputError(
            staged.path,
            f"{failure.problem} (earlier imports made {failure.column!r} a number column)",
            row=failure.row,
            column=failure.column,
        )
    numeric = ctx.staging.numeric_columns(staged, [c for c in names if c not in known])
    return {c: known.get(c) or ("DOUBLE" if c in numeric else "VARCHAR") for c in names}


def _remaps(
    ctx: FileContext, table: str, ref: tuple[str, str] = ("_ref", "")
) -> tuple[list[Remap], int]:
    """The pseudonym mappings of a typed table, and its rows naming an unknown person.

    ``ref`` is the column of person references and the prefix that completes them.
    """
    kind, staging, key = ctx.kind, ctx.staging, ctx.key
    remaps: list[Remap] = []
    for column in kind.pseudonymised:
        raw = staging.distinct(table, column)
        remaps.append((column, column, {r: pseudonymise(key, r) for r in raw}))
    unknown = 0
    if kind.person is not None:
        column, prefix = ref
        refs = staging.counts(table, column)
        found = resolve_refs(
            [prefix + r for r in refs], key, known_people(ctx.store), identity_map(ctx.store)
        )
        mapping = {r: found[prefix + r] for r in refs}
        remaps.append((kind.person, column, mapping))
        unknown = sum(n for r, n in refs.items() if mapping[r].startswith(UNKNOWN))
    elif kind.name == "kpis":  # person-level KPIs join on the person's pseudonym
        people = known_people(ctx.store)
        units = {}
        for unit in staging.distinct(table, "unit_id"):
            if (p := pseudonymise(key, unit)) in people:
                units[unit] = p
        remaps.append(("unit_id", "unit_id", units))
    return remaps, unknown


def _identities(ctx: FileContext, staged: StagedFile) -> str | None:
    """Stage the hashed identity values of a people file as an ``identities`` table."""
    present = [c for c in ctx.identity if c in staged.columns]
    if not present:
        return None
    rows: dict[str, list[object]] = {"_row": [], "id_column": [], "value_hash": [], "person_id": []}
    for column in present:
        for row, person, value in ctx.staging.fetch(staged, ["person_id", column]):
            if value is None:
                continue
            hashes = [(column, identity_hash(ctx.key, column, value))]
            if column == "email":  # xAPI actors may name a person by mbox_sha1sum
                sha1 = "mbox_sha1sum"
                hashes += [(sha1, identity_hash(ctx.key, sha1, h)) for h in mbox_sha1sums(value)]
            for id_column, value_hash in hashes:
                rows["_row"].append(row)
                rows["id_column"].append(id_column)
                rows["value_hash"].append(value_hash)
                rows["person_id"].append(pseudonymise(ctx.key, person))
    table = ctx.staging.from_columns(rows)
    dup = ctx.staging.duplicate(table, ["id_column", "value_hash"])
    if dup is not None:
        raise InputError(
            staged.path,
            f"the same identity value belongs to rows {dup[0]} and {dup[1]}",
            row=dup[1],
        )
    return table


def mbox_sha1sums(email: str) -> list[str]:
    """The xAPI ``mbox_sha1sum`` values an e-mail may appear as (lower-cased, and as given).

    xAPI 1.0.3 section 2.4.2.3: the SHA-1 hex of the ``mailto:`` IRI.

    Examples:
        >>> mbox_sha1sums("ann@x.org") == [hashlib.sha1(b"mailto:ann@x.org").hexdigest()]
        True
        >>> len(mbox_sha1sums("Ann@x.org"))
        2
    """
    given = "mailto:" + email.strip()
    forms = dict.fromkeys([given.lower(), given])
    return [hashlib.sha1(f.encode()).hexdigest() for f in forms]


def _key_source(
    kind: ImportKind, typed: str, rows: str, remaps: list[Remap]
) -> tuple[str, list[str], bool]:
    """Where to look for duplicate keys: the typed table when no join can change the answer.

    A one-to-one mapping from a column holding every value (references, ids) keeps
    keys apart exactly when their sources are apart; other remaps need the view.
    """
    first = kind.name == "surveys"
    key = list(kind.key)
    if kind.row_hash:
        return rows, key, first
    for column, source, mapping in remaps:
        if column not in key:
            continue
        total = source == "_ref" or column in kind.pseudonymised or column == kind.person
        if not total or len(set(mapping.values())) < len(mapping):
            return rows, key, first
        key[key.index(column)] = source
    return typed, key, first


def prepare_fast(ctx: FileContext, path: Path, loaded: Callable[[], None]) -> Prepared | None:
    """The one-pass path; None when the file has a problem (or an odd shape) to name."""
    kind, staging = ctx.kind, ctx.staging
    columns = staging.scan(path)
    if columns is None:
        return None
    try:
        check_columns(kind, path, columns, ctx.identity)
    except InputError:  # the text path may meet an earlier problem (an unreadable row)
        return None
    names, known = _extra_names(ctx, columns)
    keep = [c for c in ctx.identity if c in columns] if kind.name == "people" else []
    parsed = staging.parse(
        path,
        columns,
        kind.row_plans,
        {c: known.get(c) for c in names},
        person_ref=ctx.person_ref,
        person_required=bool(kind.person and kind.person_required),
        keep=keep,
        row_hash=kind.row_hash,
    )
    if parsed is None or not parsed.clean:
        return None
    loaded()
    extras = {c: known.get(c) or ("DOUBLE" if c in parsed.numeric else "VARCHAR") for c in names}
    typed = parsed.staged.table
    remaps, unknown = _remaps(ctx, typed, parsed.ref or ("_ref", ""))
    rows = staging.output(parsed, kind.row_plans, extras, remaps, row_hash=kind.row_hash)
    table, key, first = _key_source(kind, typed, rows, remaps)
    if staging.has_duplicate(table, key, first_non_null=first):
        return None
    ids = _identities(ctx, parsed.staged) if kind.name == "people" else None
    return Prepared(parsed.staged, rows, extras, unknown, ids)


def prepare_text(ctx: FileContext, path: Path, loaded: Callable[[], None]) -> Prepared:
    """The text path: stage as text, check, type; raise the first problem precisely."""
    kind, staging = ctx.kind, ctx.staging
    staged = staging.load(path)
    loaded()
    check_columns(kind, path, staged.columns, ctx.identity)
    failure = staging.first_failure(staged, kind.row_plans)
    if failure is not None:
        raise InputError(path, failure.problem, row=failure.row, column=failure.column)
    extras = _extras(ctx, staged)
    typed = staging.build(
        staged, kind.row_plans, extras, person_ref=ctx.person_ref, row_hash=kind.row_hash
    )
    if kind.person and kind.person_required:
        empty = staging.first_null(typed, "_ref")
        if empty is not None:
            raise InputError(
                path,
                f"no {kind.person} (nor an identity column) on this row",
                row=empty,
                column=kind.person,
            )
    remaps, _ = _remaps(ctx, typed)
    for column, source, mapping in remaps:
        staging.remap(typed, column, mapping, source)
    unknown = staging.count_prefixed(typed, kind.person, UNKNOWN) if kind.person else 0
    dup = staging.duplicate(typed, kind.key, first_non_null=kind.name == "surveys")
    if dup is not None:
        raise InputError(
            path,
            f"duplicate key ({', '.join(kind.key)}): rows {dup[0]} and {dup[1]}",
            row=dup[1],
        )
    ids = _identities(ctx, staged) if kind.name == "people" else None
    return Prepared(staged, typed, extras, unknown, ids)
