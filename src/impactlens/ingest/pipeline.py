"""The import pipeline: stage every file, validate it all, then write it in one transaction.

A failing file raises one :class:`InputError` before any stored table is touched;
re-importing the same rows changes nothing; a row with the same key replaces the
earlier one. Each file takes the one-pass fast path, or the text path when it has
a problem to name (:mod:`impactlens.ingest.preparation`).
"""

from __future__ import annotations

import getpass
import hashlib
import json
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
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
from impactlens.ingest.base import KINDS, ImportSummary
from impactlens.ingest.identity import reresolve as reresolve_people
from impactlens.ingest.preparation import FileContext, Prepared, prepare_fast, prepare_text
from impactlens.store.base import Store

Progress = Callable[[int, int], None]


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
    warnings: list[str] = []
    # hashing the files (for the log) releases the GIL: it overlaps with DuckDB's work
    hasher = ThreadPoolExecutor(max_workers=1, thread_name_prefix="il-sha256")
    content = hasher.submit(_content_sha256, paths)
    hasher.shutdown(wait=False)
    with store.staging() as staging:
        prepared: list[Prepared] = []
        ctx = FileContext(store, staging, spec, key, identity, {})
        for path in paths:
            loaded = _once(tick)  # whichever path reads the file
            item = prepare_fast(ctx, path, loaded) or prepare_text(ctx, path, loaded)
            ctx.decided.update(item.extras)
            if item.unknown:
                warnings.append(
                    f"{path.name}: {item.unknown} rows name a person not in people "
                    "(kept, listed by data health)"
                )
            prepared.append(item)
            tick()
        inserted = replaced = 0
        with store.transaction():
            for item in prepared:
                existing = store.columns(spec.table)
                new = {c: t for c, t in item.extras.items() if c not in existing}
                store.add_columns(spec.table, new)
                count = store.upsert(spec.table, item.rows, spec.key)
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
                    "content_sha256": content.result(),
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


def _once(action: Callable[[], None]) -> Callable[[], None]:
    """``action``, run on the first call only."""
    done: list[bool] = []

    def run() -> None:
        if not done:
            done.append(True)
            action()

    return run


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 22):
            digest.update(chunk)
    return digest.hexdigest()


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
