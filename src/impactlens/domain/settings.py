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
    # person-level learning records older than this many months are expired
    # (services/retention.py); None keeps them until someone is forgotten
    retention_months: int | None = Field(default=None, ge=1, le=1200)


class IdentitySettings(BaseModel):
    """People columns that other imports may use in place of ``person_id``."""

    model_config = ConfigDict(extra="forbid")
    columns: list[str] = Field(default_factory=lambda: ["email", "lms_account"])


ADL = "http://adlnet.gov/expapi/verbs/"
CMI5 = "https://w3id.org/xapi/adl/verbs/"
# xAPI verbs (ADL vocabulary and cmi5's additions) -> the activity verbs the metrics read
DEFAULT_XAPI_VERBS: dict[str, str] = {
    ADL + "completed": "completed",
    ADL + "passed": "passed",
    ADL + "failed": "failed",
    ADL + "attempted": "started",
    ADL + "launched": "started",
    ADL + "initialized": "started",
    ADL + "experienced": "viewed",
    ADL + "answered": "answered",
    ADL + "terminated": "terminated",
    ADL + "progressed": "progressed",
    ADL + "scored": "scored",
    ADL + "attended": "attended",
    ADL + "registered": "enrolled",
    CMI5 + "satisfied": "satisfied",
    CMI5 + "waived": "waived",
    CMI5 + "abandoned": "abandoned",
}


class XapiSettings(BaseModel):
    """How Learning Record Store statements count as activity.

    ``verbs`` adds to (or overrides) the built-in map of xAPI verb IRIs to activity
    verbs; map a verb to ``""`` to leave it out. ``activities`` maps activity ids
    (the statement's object, or one of its context activities) to a program.
    ``account_home_page``: when set, only ``account`` actors of that homePage are
    matched to the people's ``lms_account``.
    """

    model_config = ConfigDict(extra="forbid")
    verbs: dict[str, str] = Field(default_factory=dict)
    activities: dict[str, str] = Field(default_factory=dict)
    account_home_page: str = ""

    def verb_map(self) -> dict[str, str]:
        """The verbs in force: the built-in map with this workspace's entries applied.

        Examples:
            >>> XapiSettings(verbs={ADL + "failed": ""}).verb_map().get(ADL + "failed")
            >>> XapiSettings().verb_map()[ADL + "launched"]
            'started'
        """
        merged = {**DEFAULT_XAPI_VERBS, **self.verbs}
        return {iri: verb for iri, verb in merged.items() if verb}


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
    xapi: XapiSettings = Field(default_factory=XapiSettings)

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
        f"min_group_size = {settings.privacy.min_group_size}\n"
        "# expire person-level learning records (activity, assessments, named survey\n"
        "# answers, xAPI statements) older than this many months; absent keeps them\n"
        + (
            f"retention_months = {settings.privacy.retention_months}\n\n"
            if settings.privacy.retention_months
            else "# retention_months = 36\n\n"
        )
        + "[identity]\n"
        "# people columns that other imports may use in place of person_id\n"
        f"columns = [{cols}]\n\n"
        "# LRS statements count as activity (ADL and cmi5 verbs mapped out of the box):\n"
        '# [xapi.verbs]        # more verb IRIs -> activity verbs ("" leaves one out)\n'
        '# "https://example.com/verbs/watched" = "viewed"\n'
        "# [xapi.activities]   # activity ids -> programs\n"
        '# "https://courses.example.com/course/42" = "customer-care"\n'
    )
