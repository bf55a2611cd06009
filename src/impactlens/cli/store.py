"""``impactlens store``: the store as files, for engines that read them (Spark, warehouses)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from impactlens.cli.console import out, progress_bar

store_app = typer.Typer(help="The store as Parquet files (for Spark or a warehouse).")

WorkspaceOpt = Annotated[
    Path | None,
    typer.Option("--workspace", "-w", help="Workspace folder (default: IMPACTLENS_WORKSPACE or .)"),
]


def _ws(local: Path | None) -> Any:
    from impactlens.cli.app import _workspace  # the app registers this sub-app

    return _workspace(local)


@store_app.command("export")
def export(
    out_dir: Annotated[Path, typer.Option("--out", help="A new folder for the export.")],
    workspace: WorkspaceOpt = None,
) -> None:
    """Write the analysis tables as Parquet (open them with store = "spark:///DIR")."""
    from impactlens.services.store_export import EXPORTED, export_store

    ws = _ws(workspace)
    written: list[str] = []
    with progress_bar("export") as bar:

        def step(name: str) -> None:
            written.append(name)
            bar(name, len(written), len(EXPORTED))

        done = export_store(ws, out_dir, step=step)
    total = sum(done.rows.values())
    out.print(f"Exported {len(done.rows)} tables ({total:,} rows) to {done.path}")
    out.print(f'On Spark: IMPACTLENS_STORE="spark://{done.path}" impactlens analyze PROGRAM')
