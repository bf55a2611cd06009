"""A workspace folder: settings, plans, the pseudonymisation key and the store."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from impactlens.domain.errors import UnknownProgramError, WorkspaceError
from impactlens.domain.plan import ImpactPlan, parse_plan
from impactlens.domain.settings import (
    SETTINGS_FILE,
    WorkspaceSettings,
    load_settings,
    render_settings,
)

if TYPE_CHECKING:
    from impactlens.domain.result import AnalysisResult
    from impactlens.store.base import Store

PLANS_DIR = "plans"


class Workspace:
    """An ImpactLens workspace; the Python API's entry point (``impactlens.open``).

    Examples:
        >>> import tempfile
        >>> ws = Workspace.create(Path(tempfile.mkdtemp()) / "ws")
        >>> ws.programs()
        []
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        if not (self.path / SETTINGS_FILE).exists():
            raise WorkspaceError(
                f"{self.path} is not an ImpactLens workspace (no {SETTINGS_FILE}); "
                f"create one with: impactlens init {self.path}"
            )
        self.settings: WorkspaceSettings = load_settings(self.path)

    @classmethod
    def create(cls, path: Path, settings: WorkspaceSettings | None = None) -> Workspace:
        """Create the folder (and parents) with settings and an empty plans folder."""
        import os

        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        (path / PLANS_DIR).mkdir(exist_ok=True)
        settings = settings or WorkspaceSettings()
        env_store = os.environ.get("IMPACTLENS_STORE")
        if env_store:
            settings = settings.model_copy(update={"store": env_store})
        target = path / SETTINGS_FILE
        if not target.exists():
            target.write_text(render_settings(settings), encoding="utf-8")
        return cls(path)

    # -- plans ---------------------------------------------------------------------
    def plan_files(self) -> dict[str, Path]:
        """Plan files by program id (the file's ``program`` key), sorted."""
        out: dict[str, Path] = {}
        for f in sorted((self.path / PLANS_DIR).glob("*.y*ml")):
            plan = parse_plan(f.read_text(encoding="utf-8"), str(f))
            out[plan.program] = f
        return out

    def programs(self) -> list[str]:
        """Program ids with a plan in this workspace."""
        return sorted(self.plan_files())

    def plan(self, program: str) -> tuple[ImpactPlan, str]:
        """The parsed plan of ``program`` and its text."""
        files = self.plan_files()
        if program not in files:
            known = ", ".join(sorted(files)) or "none yet"
            raise UnknownProgramError(
                f"no plan for program {program!r} in {self.path / PLANS_DIR} (programs: {known})"
            )
        text = files[program].read_text(encoding="utf-8")
        return parse_plan(text, str(files[program])), text

    # -- store ---------------------------------------------------------------------
    @property
    def store_url(self) -> str:
        """The store URL in force for this workspace."""
        return self.settings.store_url(self.path)

    @contextmanager
    def store(self, *, read_only: bool = False) -> Iterator[Store]:
        """Open the workspace's store for the duration of a block."""
        from impactlens.domain.errors import StoreOutdatedError
        from impactlens.store.registry import open_store

        try:
            store = open_store(self.store_url, read_only=read_only)
        except StoreOutdatedError:
            # a store from an older ImpactLens: one writing open migrates it, then read on
            open_store(self.store_url).close()
            store = open_store(self.store_url, read_only=True)
        try:
            yield store
        finally:
            store.close()

    def key(self) -> bytes:
        """The workspace's pseudonymisation key (created on first use)."""
        from impactlens.ingest.keys import load_or_create_key

        return load_or_create_key(self.path)

    # -- use cases (thin wrappers so notebooks need only this object) ---------------
    def analyze(self, program: str, **kwargs: Any) -> AnalysisResult:
        """Analyse one program: metrics, impact estimates, ROI."""
        from impactlens.services.analysis import analyze_program

        return analyze_program(self, program, **kwargs)

    def __repr__(self) -> str:
        return f"Workspace({str(self.path)!r})"


def open_workspace(path: Path | str) -> Workspace:
    """Open an existing workspace folder."""
    return Workspace(Path(path))
