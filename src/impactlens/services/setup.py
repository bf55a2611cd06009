"""``impactlens init``: a new workspace with a commented plan."""

from __future__ import annotations

import re
from pathlib import Path

from impactlens.domain.errors import WorkspaceError
from impactlens.domain.settings import SETTINGS_FILE
from impactlens.services.plan_templates import render_template
from impactlens.services.workspace import PLANS_DIR, Workspace


def init_workspace(directory: Path, template: str | None = None) -> Path:
    """Create ``directory`` (and parents) with settings and one plan; returns the plan path.

    The plan's program id is the template's name, or the folder's name for the blank plan.
    """
    directory = Path(directory)
    if (directory / SETTINGS_FILE).exists():
        raise WorkspaceError(f"{directory} is already a workspace ({SETTINGS_FILE} exists)")
    program = template or re.sub(r"[^a-z0-9-]+", "-", directory.resolve().name.lower()).strip("-")
    text = render_template(template or "blank", program or "my-program")
    ws = Workspace.create(directory)
    plan = ws.path / PLANS_DIR / f"{program or 'my-program'}.yaml"
    plan.write_text(text, encoding="utf-8")
    return plan
