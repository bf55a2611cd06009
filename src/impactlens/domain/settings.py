"""Workspace settings: ``impactlens.toml`` plus ``IMPACTLENS_*`` environment overrides."""

from __future__ import annotations

import tomllib
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from impactlens.domain.errors import WorkspaceError

SETTINGS_FILE = "impactlens.toml"
DEFAULT_DB_FILE = "impactlens.duckdb"


class PrivacySettings(BaseModel):
    """Workspace-wide privacy defaults (a plan may raise the threshold)."""

    model_config = ConfigDict(extra="forbid")
    min_group_size: int = Field(default=5, ge=1)


class IdentitySettings(BaseModel):
    """People columns that other imports may use in place of ``person_id``."""

    model_config = ConfigDict(extra="forbid")
    columns: list[str] = Field(default_factory=lambda: ["email", "lms_account"])


class WorkspaceSettings(BaseModel):
    """The contents of ``impactlens.toml``.

    Examples:
        >>> WorkspaceSettings().privacy.min_group_size
        5
    """

    model_config = ConfigDict(extra="forbid")
    store: str = ""
    currency: str = "EUR"
    privacy: PrivacySettings = Field(default_factory=PrivacySettings)
    identity: IdentitySettings = Field(default_factory=IdentitySettings)

    def store_url(self, workspace: Path, env: dict[str, str] | None = None) -> str:
        """The store URL in force: ``IMPACTLENS_STORE``, then the file, then DuckDB."""
        import os

        env = dict(os.environ) if env is None else env
        url = env.get("IMPACTLENS_STORE") or self.store
        if not url:
            url = f"duckdb:///{(workspace / DEFAULT_DB_FILE).resolve()}"
        return url


def load_settings(workspace: Path) -> WorkspaceSettings:
    """Read ``impactlens.toml`` in ``workspace`` (defaults when the file is absent)."""
    path = workspace / SETTINGS_FILE
    if not path.exists():
        return WorkspaceSettings()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise WorkspaceError(f"{path}: not valid TOML ({exc})") from exc
    try:
        return WorkspaceSettings.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = ".".join(str(p) for p in first["loc"])
        raise WorkspaceError(f"{path}: setting {loc!r}: {first['msg']}") from exc


def render_settings(settings: WorkspaceSettings) -> str:
    """The TOML text ``init`` and ``demo`` write, commented for a first-time reader."""
    cols = ", ".join(f'"{c}"' for c in settings.identity.columns)
    return (
        "# ImpactLens workspace settings.\n"
        "# store: empty means the embedded DuckDB file impactlens.duckdb in this folder;\n"
        "# IMPACTLENS_STORE overrides it for any command.\n"
        f'store = "{settings.store}"\n'
        "# currency used for costs and ROI\n"
        f'currency = "{settings.currency}"\n\n'
        "[privacy]\n"
        "# groups smaller than this are never shown to viewers (a plan may raise it)\n"
        f"min_group_size = {settings.privacy.min_group_size}\n\n"
        "[identity]\n"
        "# people columns that other imports may use in place of person_id\n"
        f"columns = [{cols}]\n"
    )
