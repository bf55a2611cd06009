"""The pilot portfolio: each pilot's status, registered hypothesis, result and decision."""

from __future__ import annotations

from collections import Counter
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from impactlens.domain.errors import ImpactLensError
from impactlens.reports.format import fmt_number
from impactlens.services.pilots import portfolio_row
from impactlens.web.access import dashboard
from impactlens.web.rendering import page
from impactlens.web.routing import twin

router = APIRouter()
# what a viewer sees of a pilot: its figures and decision, not its registration details
VIEWER_KEYS = ("program", "title", "status", "kpi", "effect", "ci_low", "ci_high", "decision")


def _display(row: dict[str, Any]) -> dict[str, Any]:
    low, high = row.get("ci_low"), row.get("ci_high")
    interval = (
        f"{fmt_number(low, 3, signed=True)} to {fmt_number(high, 3, signed=True)}"
        if low is not None and high is not None
        else "n/a"
    )
    return {
        **row,
        "effect_text": fmt_number(row.get("effect"), 3, signed=True),
        "interval": interval,
    }


@twin(router, "/pilots", "viewer", "Portfolio of pilots")
def pilots(request: Request) -> Response:
    """Pilots with status, hypothesis, result and decision (viewers: figures and decisions)."""
    board = dashboard(request)
    user = request.state.user
    rows: list[dict[str, Any]] = []
    for program in board.ws.programs():
        try:
            row = portfolio_row(program, board.program(program, user))
        except ImpactLensError:
            continue  # the portfolio page shows the program's error
        if row is None:
            continue
        rows.append(row if user.can("analyst") else {k: row.get(k) for k in VIEWER_KEYS})
    doc = {
        "pilots": rows,
        "by_status": dict(sorted(Counter(str(r.get("status")) for r in rows).items())),
    }
    return page(
        request, "pilots", doc, rows=[_display(r) for r in rows], analyst=user.can("analyst")
    )
