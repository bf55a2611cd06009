"""``impactlens check``: lint every plan (or one) against the data."""

from __future__ import annotations

from impactlens.domain.check import Finding
from impactlens.services.analysis import TABLES
from impactlens.services.plan_check import check_plan
from impactlens.services.workspace import Workspace


def check_programs(ws: Workspace, program: str | None = None) -> dict[str, list[Finding]]:
    """Findings per program, for ``program`` or every plan in the workspace."""
    programs = [program] if program else ws.programs()
    out: dict[str, list[Finding]] = {}
    with ws.store(read_only=True) as store:
        tables = {name: store.table(name) for name in TABLES}
        for name in programs:
            plan, _ = ws.plan(name)
            min_group = max(plan.privacy.min_group_size, ws.settings.privacy.min_group_size)
            out[name] = check_plan(plan, tables, min_group_size=min_group)
    return out
