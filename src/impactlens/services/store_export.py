"""``impactlens store export``: the store's analysis tables as Parquet, for Spark or a warehouse.

One Parquet file per table and a manifest (``_impactlens.json``: schema version, row
counts, the source store's data fingerprint). The files are written to a temporary
folder beside the target and renamed into place at the end, so a reader never sees a
half-written export. Person identifiers are pseudonyms already; account tables
(password and token hashes, sessions, the audit log), LRS client secrets, attachments
and xAPI documents are left out.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from impactlens.domain.errors import WorkspaceError
from impactlens.services.workspace import Workspace
from impactlens.store.schema import ACCOUNT_TABLES, SCHEMA_VERSION, TABLES

MANIFEST = "_impactlens.json"
# never exported: secrets, who viewed what, and documents the analysis does not read
LEFT_OUT = frozenset(
    {*ACCOUNT_TABLES, "lrs_clients", "xapi_attachments", "xapi_documents", "xapi_pull_state"}
)
EXPORTED: tuple[str, ...] = tuple(t for t in TABLES if t not in LEFT_OUT)


@dataclass(frozen=True)
class StoreExport:
    """What an export wrote: the folder, rows per table, the source fingerprint."""

    path: Path
    rows: dict[str, int]
    data_sha256: str


def export_store(
    ws: Workspace, out: Path, *, step: Callable[[str], None] | None = None
) -> StoreExport:
    """Write the workspace's store as Parquet to ``out`` (a new folder).

    ``step`` is called with each table's name as it is written (for a progress bar).
    """
    out = out.resolve()
    if out.exists() and any(out.iterdir()):
        raise WorkspaceError(f"{out} exists and is not empty: choose a new folder for the export")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        rows: dict[str, int] = {}
        with ws.store(read_only=True) as store:
            fingerprint = store.fingerprint()
            for name in EXPORTED:
                table = store.table(name)
                table.to_parquet(tmp / f"{name}.parquet")
                rows[name] = int(table.count().to_pyarrow().as_py())
                if step is not None:
                    step(name)
        manifest = {
            "schema_version": SCHEMA_VERSION,
            "exported_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "source_engine": store.engine,
            "data_sha256": fingerprint,
            "tables": rows,
        }
        (tmp / MANIFEST).write_text(json.dumps(manifest, indent=2), encoding="utf-8")
        if out.exists():
            out.rmdir()
        tmp.rename(out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return StoreExport(out, rows, fingerprint)
