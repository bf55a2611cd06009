"""The program page: verdict, three tiers, charts, ROI ledger, caveats and data quality."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from impactlens.domain.result import AnalysisResult
from impactlens.reports import charts, tier_charts
from impactlens.reports.context import as_dict, report_context
from impactlens.reports.format import primary_kpi
from impactlens.web.access import dashboard
from impactlens.web.rendering import page
from impactlens.web.routing import twin

router = APIRouter()


def _launch(result: AnalysisResult, kpi: str) -> str | None:
    rows = as_dict(as_dict(result.metrics).get("business")).get("kpis") or []
    return next(
        (r.get("launch") for r in rows if isinstance(r, dict) and r.get("kpi") == kpi), None
    )


def chart_specs(result: AnalysisResult) -> dict[str, dict[str, Any]]:
    """The report's Vega-Lite specs by element id, for vega-embed in the browser."""
    metrics = as_dict(result.metrics)
    business = [
        r for r in as_dict(metrics.get("business")).get("kpis") or [] if isinstance(r, dict)
    ]
    main = primary_kpi(result)
    row = next((r for r in business if main and r.get("kpi") == main.kpi), {})
    specs = {
        "tier-1": tier_charts.reach_chart(as_dict(metrics.get("operational"))),
        "tier-2": tier_charts.skill_chart(as_dict(metrics.get("learner"))),
        "tier-3": tier_charts.kpi_change_chart(row, main),
        "roi": charts.roi_range_chart(result.roi),
    }
    for i, kpi in enumerate(result.kpis, start=1):
        specs[f"trend-{i}"] = charts.kpi_trend_chart(kpi, _launch(result, kpi.kpi))
        specs[f"event-{i}"] = charts.event_study_chart(kpi)
        if kpi.balance:
            specs[f"balance-{i}"] = charts.balance_chart(kpi)
    return specs


def program_context(doc: dict[str, Any]) -> dict[str, Any]:
    """The report's view model and chart specs of a (possibly viewer-filtered) document."""
    plan = dict(doc.get("plan") or {})
    # the report's breakdown tables read the threshold from plan.privacy; the analysis puts
    # it at plan.min_group_size, so say it where the tables look ("fewer than N, hidden")
    plan.setdefault("privacy", {"min_group_size": plan.get("min_group_size")})
    result = AnalysisResult.model_validate({**doc, "plan": plan})
    return {**report_context(result), "specs": chart_specs(result)}


@twin(router, "/programs/{program}", "viewer", "One program's impact")
def program(request: Request, program: str) -> Response:
    """Verdict, tiers, KPI trend, event study, balance, ROI, caveats (viewers: aggregates)."""
    board = dashboard(request)
    user = request.state.user
    doc = board.program(program, user)
    if request.url.path.endswith(".json"):
        return page(request, "program", doc)
    key = ("program", program, doc["provenance"]["data_sha256"], doc["provenance"]["plan_sha256"])
    context = board.memo((*key, user.can("analyst")), lambda: program_context(doc))
    return page(request, "program", doc, **context)
