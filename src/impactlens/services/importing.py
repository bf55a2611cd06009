"""Import data files into a workspace's store."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from impactlens.domain.errors import ImpactLensError
from impactlens.ingest import KINDS
from impactlens.ingest.base import ImportSummary
from impactlens.services.workspace import Workspace


def import_data(
    ws: Workspace,
    kind: str,
    files: Sequence[Path],
    *,
    progress: Callable[[str, int, int], None] | None = None,
) -> ImportSummary:
    """Load ``files`` of one kind atomically (all rows land, or none do).

    ``progress`` is told ``(what, done, total)`` as it goes: ``rows`` done of the files'
    rows, or for ``xapi`` the step in flight and the percent done.
    """
    from impactlens.ingest import import_files

    if kind == "xapi":
        return _import_xapi(ws, files, progress)
    if kind not in KINDS:
        raise ImpactLensError(f"unknown import kind {kind!r}; kinds are: {', '.join(KINDS)}")
    missing = [str(f) for f in files if not Path(f).exists()]
    if missing:
        raise ImpactLensError(f"{missing[0]}: no such file")
    with ws.store() as store:
        return import_files(
            store,
            kind,
            [Path(f) for f in files],
            settings=ws.settings,
            key=ws.key(),
            progress=None if progress is None else lambda d, t: progress("rows", d, t),
        )


def _import_xapi(
    ws: Workspace, files: Sequence[Path], progress: Callable[[str, int, int], None] | None
) -> ImportSummary:
    """Statement files into the LRS tables, atomically (see :mod:`impactlens.ingest.xapi`)."""
    from impactlens.ingest.xapi import import_statements

    missing = [str(f) for f in files if not Path(f).exists()]
    if missing:
        raise ImpactLensError(f"{missing[0]}: no such file")
    with ws.store() as store:
        done = import_statements(store, [Path(f) for f in files], progress=progress)
    warnings = [f"{done.voided} earlier statements voided"] if done.voided else []
    return ImportSummary(
        kind="xapi",
        files=done.files,
        rows=done.statements,
        inserted=done.inserted,
        replaced=0,
        warnings=warnings,
    )
