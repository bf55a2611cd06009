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
    progress: Callable[[int, int], None] | None = None,
) -> ImportSummary:
    """Load ``files`` of one kind atomically (all rows land, or none do)."""
    from impactlens.ingest import import_files

    if kind == "xapi":
        raise ImpactLensError(
            "import kind 'xapi' arrives with the xAPI Learning Record Store; it is not available "
            "in this version"
        )
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
            progress=progress,
        )
