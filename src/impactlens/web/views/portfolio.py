"""The portfolio: every program at a glance."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from impactlens.reports.format import decimals_for, fmt_number, fmt_pct
from impactlens.web.access import dashboard
from impactlens.web.rendering import page
from impactlens.web.routing import twin

router = APIRouter()


def _display(row: dict[str, Any]) -> dict[str, Any]:
    """Formatted cells of one portfolio row."""
    if row.get("status") == "error":
        return {**row, "effect_text": "n/a", "interval": "", "roi": "n/a", "relative": ""}
    d = decimals_for(row.get("ci_low"), row.get("ci_high"), row.get("effect"))
    low, high = row.get("roi_pct_low"), row.get("roi_pct_high")
    roi = (
        f"{fmt_number(min(low, high), 0)}% to {fmt_number(max(low, high), 0)}%"
        if low is not None and high is not None
        else "not computed"
    )
    low_ci, high_ci = row.get("ci_low"), row.get("ci_high")
    interval = (
        f"{fmt_number(low_ci, d, signed=True)} to {fmt_number(high_ci, d, signed=True)}"
        if row.get("ci_low") is not None and row.get("ci_high") is not None
        else "n/a"
    )
    return {
        **row,
        "effect_text": fmt_number(row.get("effect"), d, signed=True),
        "per": f"per {row.get('unit') or 'unit'} and period",
        "relative": fmt_pct(row.get("relative_effect"), 1, signed=True),
        "interval": interval,
        "roi": roi,
    }


@twin(router, "/", "viewer", "Portfolio of programs")
def portfolio(request: Request) -> Response:
    """Every program: objective, primary KPI, effect with interval, evidence, ROI, status."""
    rows = dashboard(request).portfolio(request.state.user)
    return page(request, "portfolio", {"programs": rows}, rows=[_display(r) for r in rows])
