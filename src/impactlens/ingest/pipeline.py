"""The import pipeline: stage every file, validate it all, then write it in one transaction.

A failing file raises one :class:`InputError` before any stored table is touched;
re-importing the same rows changes nothing; a row with the same key replaces the
earlier one.
"""

from __future__ import annotations

import getpass
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import impactlens.ingest.activity
import impactlens.ingest.assessments
import impactlens.ingest.costs
import impactlens.ingest.kpis
import impactlens.ingest.participation
import impactlens.ingest.people
import impactlens.ingest.surveys  # noqa: F401  (each kind module registers itself)
from impactlens.domain.errors import InputError
from impactlens.domain.settings import WorkspaceSettings
from impactlens.ingest.base import KINDS, ImportKind, ImportSummary
from impactlens.ingest.identity import UNKNOWN, identity_map, known_people, resolve_refs
from impactlens.ingest.identity import reresolve as reresolve_people
from impactlens.ingest.keys import identity_hash, pseudonymise
from impactlens.store.base import ColumnPlan, StagedFile, Staging, Store

Progress = Callable[[int, int], None]


@dataclass
class _Prepared:
    """One validated file, typed in staging and ready to write."""

    staged: StagedFile
    typed: str
    extras: dict[str, str]
    unknown: int
    identities: str | None = None


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 22):
            digest.update(chunk)
    return digest.hexdigest()


def _check_columns(kind: ImportKind, staged: StagedFile, identity: list[str]) -> None:
    found = ", ".join(staged.columns)
    for name in kind.required:
        if name not in staged.columns:
            raise InputError(
                staged.path, f"missing required column {name!r}; found: {found}", row=1
            )
    if kind.person and kind.person_required:
        options = [kind.person, *identity]
        if not any(c in staged.columns for c in options):
            raise InputError(
                staged.path,
                f"missing required column {kind.person!r} (or an identity column: "
                f"{', '.join(identity) or 'none configured'}); found: {found}",
                row=1,
            )


def _extras(
    store: Store,
    staging: Staging,
    kind: ImportKind,
    staged: StagedFile,
    skip: set[str],
    decided: dict[str, str],
) -> dict[str, str]:
    """Extra columns and their SQL types: DOUBLE when every value is a number."""
    fixed = {p.name for p in kind.plans} | set(store.columns(kind.table)) & set(kind.key)
    names = [c for c in staged.columns if c not in fixed and c not in skip]
    known = {**store.columns(kind.table), **decided}
    doubles = [c for c in names if known.get(c) == "DOUBLE"]
    failure = staging.first_failure(staged, [ColumnPlan(c, "double") for c in doubles])
    if failure is not None:
        raise InputError(
            staged.path,
            f"{failure.problem} (earlier imports made {failure.column!r} a number column)",
            row=failure.row,
            column=failure.column,
        )
    numeric = staging.numeric_columns(staged, [c for c in names if c not in known])
    out = {}
    for c in names:
        out[c] = known.get(c) or ("DOUBLE" if c in numeric else "VARCHAR")
    return out


def _pseudonymise(store: Store, staging: Staging, kind: ImportKind, typed: str, key: bytes) -> int:
    """Replace person ids by pseudonyms; return the number of unresolved rows."""
    for column in kind.pseudonymised:
        raw = staging.distinct(typed, column)
        staging.remap(typed, column, {r: pseudonymise(key, r) for r in raw}, column)
    if kind.person is not None:
        refs = staging.distinct(typed, "_ref")
        if refs:
            mapping = resolve_refs(refs, key, known_people(store), identity_map(store))
            staging.remap(typed, kind.person, mapping, "_ref")
        return staging.count_prefixed(typed, kind.person, UNKNOWN)
    if kind.name == "kpis":  # person-level KPIs join on the person's pseudonym
        people = known_people(store)
        units = {}
        for unit in staging.distinct(typed, "unit_id"):
            if (p := pseudonymise(key, unit)) in people:
                units[unit] = p
        staging.remap(typed, "unit_id", units, "unit_id")
    return 0


def _identities(staging: Staging, staged: StagedFile, columns: list[str], key: bytes) -> str | None:
    """Stage the hashed identity values of a people file as an ``identities`` table."""
    present = [c for c in columns if c in staged.columns]
    if not present:
        return None
    rows: dict[str, list[object]] = {"_row": [], "id_column": [], "value_hash": [], "person_id": []}
    for column in present:
        for row, person, value in staging.fetch(staged, ["person_id", column]):
            if value is None:
                continue
            rows["_row"].append(row)
            rows["id_column"].append(column)
            rows["value_hash"].append(identity_hash(key, column, value))
            rows["person_id"].append(pseudonymise(key, person))
    table = staging.from_columns(rows)
    dup = staging.duplicate(table, ["id_column", "value_hash"])
    if dup is not None:
        raise InputError(
            staged.path,
            f"the same identity value belongs to rows {dup[0]} and {dup[1]}",
            row=dup[1],
        )
    return table


def import_files(
    store: Store,
    kind: str,
    paths: list[Path],
    *,
    settings: WorkspaceSettings,
    key: bytes,
    progress: Progress | None = None,
    user: str | None = None,
) -> ImportSummary:
    """Import files of one kind, atomically and idempotently.

    Examples:
        >>> import tempfile
        >>> from impactlens.store.duckdb import DuckDBStore
        >>> ws = Path(tempfile.mkdtemp())
        >>> _ = (ws / "costs.csv").write_text("program,item,amount\\nsx,venue,1200\\n")
        >>> with DuckDBStore(ws / "s.duckdb") as store:
        ...     s = import_files(store, "costs", [ws / "costs.csv"],
        ...                      settings=WorkspaceSettings(), key=b"k")
        >>> (s.rows, s.inserted, s.replaced)
        (1, 1, 0)
    """
    spec = KINDS.get(kind)
    if spec is None:
        raise InputError(kind, f"unknown import kind; use one of: {', '.join(KINDS)}")
    if not paths:
        raise InputError(kind, "no files given")
    total, done = 3 * len(paths) + 1, 0

    def tick() -> None:
        nonlocal done
        done += 1
        if progress is not None:
            progress(done, total)

    started = datetime.now(UTC).replace(tzinfo=None)
    identity = [c.strip().lower() for c in settings.identity.columns]
    skip = set(identity) if spec.name == "people" or spec.person else set()
    person_ref = [spec.person, *identity] if spec.person else []
    warnings: list[str] = []
    with store.staging() as staging:
        prepared: list[_Prepared] = []
        decided: dict[str, str] = {}
        for path in paths:
            staged = staging.load(path)
            tick()
            _check_columns(spec, staged, identity)
            failure = staging.first_failure(staged, spec.row_plans)
            if failure is not None:
                raise InputError(path, failure.problem, row=failure.row, column=failure.column)
            extras = _extras(store, staging, spec, staged, skip, decided)
            decided.update(extras)
            typed = staging.build(
                staged, spec.row_plans, extras, person_ref=person_ref, row_hash=spec.row_hash
            )
            if spec.person and spec.person_required:
                empty = staging.first_null(typed, "_ref")
                if empty is not None:
                    raise InputError(
                        path,
                        f"no {spec.person} (nor an identity column) on this row",
                        row=empty,
                        column=spec.person,
                    )
            unknown = _pseudonymise(store, staging, spec, typed, key)
            dup = staging.duplicate(typed, spec.key, first_non_null=spec.name == "surveys")
            if dup is not None:
                raise InputError(
                    path,
                    f"duplicate key ({', '.join(spec.key)}): rows {dup[0]} and {dup[1]}",
                    row=dup[1],
                )
            ids = _identities(staging, staged, identity, key) if spec.name == "people" else None
            if unknown:
                warnings.append(
                    f"{path.name}: {unknown} rows name a person not in people "
                    "(kept, listed by data health)"
                )
            prepared.append(_Prepared(staged, typed, extras, unknown, ids))
            tick()
        inserted = replaced = 0
        with store.transaction():
            for item in prepared:
                existing = store.columns(spec.table)
                new = {c: t for c, t in item.extras.items() if c not in existing}
                store.add_columns(spec.table, new)
                count = store.upsert(spec.table, item.typed, spec.key)
                inserted += count.inserted
                replaced += count.replaced
                if item.identities is not None:
                    store.upsert("identities", item.identities, ("id_column", "value_hash"))
                tick()
            if spec.name == "people":
                reresolve_people(store, key)
            rows = sum(p.staged.rows for p in prepared)
            store.log_import(
                {
                    "kind": spec.name,
                    "files": json.dumps([str(p) for p in paths]),
                    "rows": rows,
                    "inserted": inserted,
                    "replaced": replaced,
                    "warnings": json.dumps(warnings),
                    "started_at": started,
                    "finished_at": datetime.now(UTC).replace(tzinfo=None),
                    "user": user or _user(),
                    "content_sha256": _content_sha256(paths),
                }
            )
        tick()
    return ImportSummary(
        kind=spec.name,
        files=[str(p) for p in paths],
        rows=rows,
        inserted=inserted,
        replaced=replaced,
        unknown_people=sum(p.unknown for p in prepared),
        warnings=warnings,
    )


def _content_sha256(paths: list[Path]) -> str:
    digest = hashlib.sha256()
    for path in paths:
        digest.update(_file_sha256(path).encode())
    return digest.hexdigest()


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry in some containers
        return "unknown"
