"""Pilots on the dashboard: the portfolio, and a pilot's design (power and MDE) for analysts."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from impactlens.domain.errors import ImpactLensError
from impactlens.domain.plan import plan_sha256
from impactlens.reports.format import fmt_number, fmt_pct
from impactlens.services.pilot_design import PilotDesign, PilotInputError, design_pilot
from impactlens.services.pilots import portfolio_row
from impactlens.web.access import dashboard
from impactlens.web.rendering import html, page
from impactlens.web.routing import twin

router = APIRouter()
# what a viewer sees of a pilot: its figures and decision, not its registration details
VIEWER_KEYS = ("program", "title", "status", "kpi", "effect", "ci_low", "ci_high", "decision")
# the design page's query parameters: the `pilot design` options of the same names
INTS = ("teams", "people")
FLOATS = ("share", "alpha", "power")
DESIGN_PARAMS = ("kpi", "unit", *INTS, *FLOATS)


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
        request,
        "pilots",
        doc,
        rows=[_display(r) for r in rows],
        analyst=user.can("analyst"),
        programs=board.ws.programs() if user.can("analyst") else [],
    )


def design_options(query: Mapping[str, str]) -> dict[str, Any]:
    """The ``design_pilot`` options of a query string; empty fields mean the plan's default.

    Examples:
        >>> design_options({"teams": "12", "share": "0.4", "kpi": ""})
        {'teams': 12, 'share': 0.4}
        >>> design_options({"teams": "twelve"})
        Traceback (most recent call last):
        ...
        impactlens.services.pilot_design.PilotInputError: teams must be a whole number, got 'twelve'
    """
    unknown = sorted(set(query) - set(DESIGN_PARAMS))
    if unknown:
        raise PilotInputError(
            f"unknown parameter {unknown[0]!r}; the design takes {', '.join(DESIGN_PARAMS)}"
        )
    out: dict[str, Any] = {}
    for name in DESIGN_PARAMS:
        text = (query.get(name) or "").strip()
        if not text:
            continue
        if name in INTS:
            if not text.isdigit():
                raise PilotInputError(f"{name} must be a whole number, got {text!r}")
            out[name] = int(text)
        elif name in FLOATS:
            try:
                value = float(text)
            except ValueError:
                value = math.nan
            if not math.isfinite(value):
                raise PilotInputError(f"{name} must be a number between 0 and 1, got {text!r}")
            out[name] = value
        else:
            out[name] = text
    return out


def _figures(d: PilotDesign) -> list[tuple[str, str]]:
    """The design's figures in words, as the CLI's table shows them."""
    units = "teams" if d.unit == "team" else "people"
    relative = f" ({fmt_pct(d.mde_relative, 1)} of the baseline)" if d.mde_relative else ""
    target = "n/a" if d.target_effect is None else fmt_number(d.target_effect, 3, signed=True)
    return [
        (f"{units.capitalize()} in the pilot", str(d.teams if d.unit == "team" else d.people)),
        ("Share treated", f"{d.share:g}"),
        ("KPI SD (between units)", fmt_number(d.sd, 3)),
        ("Intra-team correlation", fmt_number(d.icc, 3)),
        ("r2 (earlier period explains later)", fmt_number(d.r2, 3)),
        ("Average team size", fmt_number(d.team_size, 1)),
        ("Minimum detectable effect", fmt_number(d.mde, 3) + relative),
        ("Target effect (target - baseline)", target),
        (f"{units.capitalize()} needed for the target", str(d.needed_for_target or "n/a")),
        ("Power at the target", fmt_pct(d.power_at_target, 0)),
        ("Significance level (two-sided)", f"{d.alpha:g}"),
        ("Power aimed for (closed form)", fmt_pct(d.power, 0)),
        (
            f"Power at the MDE, simulated ({d.simulation['draws']} pilots)",
            fmt_pct(d.simulation["power_at_mde"], 0),
        ),
        ("KPI history read", f"{d.history['periods']} periods, {d.history['units']} units"),
    ]


def _filled(d: PilotDesign) -> dict[str, str]:
    """The form's fields as this design used them (the size of the other unit left empty)."""
    fields = {k: str(getattr(d, k)) for k in ("kpi", "unit", "share", "alpha", "power")}
    size = "teams" if d.unit == "team" else "people"
    return {"teams": "", "people": "", **fields, size: str(getattr(d, size))}


@twin(router, "/pilots/{program}/design", "analyst", "A pilot's design: power and MDE")
def pilot_design(request: Request, program: str) -> Response:
    """The minimum detectable effect and the units the target needs (``pilot design --json``)."""
    board = dashboard(request)
    plan, text = board.ws.plan(program)  # an unknown program is a 404 naming the known ones
    query = dict(request.query_params)
    kpis = [k.id for k in plan.kpis]
    try:
        options = design_options(query)
        if not request.url.path.endswith(".json") and options.get("unit") in ("team", "people"):
            # the form carries both sizes; the other unit's is left over from the last design
            options.pop("people" if options["unit"] == "team" else "teams", None)
        key = ("pilot-design", program, board.fingerprint(), plan_sha256(text))
        design = board.memo(
            (*key, tuple(sorted(options.items()))),
            lambda: design_pilot(board.ws, program, **options),
        )
    except PilotInputError as exc:
        if request.url.path.endswith(".json"):
            raise
        return html(
            request,
            "pilot_design",
            400,
            program=program,
            title=plan.title or program,
            kpis=kpis,
            query={k: query.get(k, "") for k in DESIGN_PARAMS},
            error=str(exc),
            data=None,
        )
    return page(
        request,
        "pilot_design",
        design.to_dict(),
        program=program,
        title=plan.title or program,
        kpis=kpis,
        query=_filled(design),
        figures=_figures(design),
        error=None,
    )
