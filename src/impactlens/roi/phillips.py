"""Phillips ROI: monetary benefits over fully loaded costs, as a range, with a ledger.

Contract: benefits = improvement x units trained x periods in the horizon x
value_per_unit x margin (a harmful effect gives negative benefits); BCR = benefits /
costs; ROI% = (benefits - costs) / costs x 100 (Phillips & Phillips, ROI methodology;
methods.md). The range comes from the effect interval's ends. The guiding principles
are switchable rules (:mod:`impactlens.roi.rules`); the sensitivity table and the
participants' own estimate ride along so every figure can be audited.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from impactlens.domain.plan import ImpactPlan
from impactlens.domain.result import LedgerLine, RoiResult
from impactlens.roi.benefits import (
    KpiBenefitInput,
    horizon_periods,
    improvement,
    kpi_benefits,
    roi_pct,
)
from impactlens.roi.costs import cost_ledger
from impactlens.roi.participant_estimate import ParticipantInput, participant_benefits
from impactlens.roi.rules import effective_horizon, rules_listing
from impactlens.roi.sensitivity import sensitivity_table

__all__ = ["KpiBenefitInput", "ParticipantInput", "compute_roi", "infer_frequency"]

PERIODS_PER_YEAR = {"daily": 365.0, "weekly": 52.0, "monthly": 12.0, "quarterly": 4.0}


def infer_frequency(periods: Sequence[pd.Timestamp]) -> float:
    """Periods per year from the median spacing of a KPI's period end dates.

    Examples:
        >>> infer_frequency(pd.date_range("2025-01-05", periods=10, freq="W-SUN"))
        52.0
    """
    if len(periods) < 2:
        return 12.0
    gaps = pd.Series(sorted(pd.to_datetime(list(periods)))).diff().dropna().dt.days
    days = float(gaps.median())
    if days <= 1.5:
        return 365.0
    if days <= 10:
        return 52.0
    if days <= 45:
        return 12.0
    return 4.0


def _kpi_ledger(
    k: KpiBenefitInput, horizon: float, plan: ImpactPlan, currency: str
) -> tuple[list[LedgerLine], float, float, float] | None:
    """Ledger lines of one KPI's benefits and its (mid, low, high), or None."""
    r = plan.roi
    b = kpi_benefits(k, horizon_months=horizon, decay=r.decay, margin=r.margin)
    if b is None or k.effect is None:
        return None
    periods = horizon_periods(k.periods_per_year, horizon, r.decay)
    lines = [
        LedgerLine(
            step=f"{k.kpi}: effect per unit per period",
            value=k.effect,
            detail=f"measured, KPI {k.direction} is better",
        ),
        LedgerLine(
            step=f"{k.kpi}: improvement",
            value=improvement(k.direction, k.effect),
            detail="effect signed so that better is positive",
        ),
        LedgerLine(step=f"{k.kpi}: units trained", value=float(k.n_treated)),
        LedgerLine(
            step=f"{k.kpi}: periods in horizon",
            value=round(periods, 2),
            detail=f"{k.periods_per_year:g} periods a year x {horizon:g} months"
            + (f", decay {r.decay:.0%}/year" if r.decay else ""),
        ),
        LedgerLine(
            step=f"{k.kpi}: value per unit",
            value=k.value_per_unit,
            detail=f"{currency} per unit of improvement per unit per period",
        ),
        LedgerLine(step="margin", value=r.margin, detail="share of value that is profit"),
        LedgerLine(
            step=f"{k.kpi}: benefits",
            value=round(b.mid, 2),
            detail=f"interval {b.low:,.0f} to {b.high:,.0f} {currency}",
        ),
    ]
    return lines, b.mid, b.low, b.high


def _conventions(plan: ImpactPlan, horizon: float) -> list[str]:
    r = plan.roi
    out = [
        "Effect isolated by the comparison-group estimate, never by a naive trained-vs-"
        "untrained difference.",
        f"Benefits counted for {horizon:g} months after launch"
        + (" (first-year benefits only)." if horizon <= 12 else "."),
        "A harmful effect counts as a negative benefit.",
        "Fully loaded costs: every cost item of every category, prorated by its share."
        if r.rules.fully_loaded_costs
        else "Direct costs only (development and delivery): the fully-loaded rule is off.",
        "Intangibles are listed, not converted to money.",
    ]
    if horizon < r.horizon_months:
        out.append(
            f"The plan's horizon of {r.horizon_months:g} months is cut to the first year "
            "(rule first_year_only)."
        )
    if r.decay:
        out.append(f"The effect fades by {r.decay:.0%} a year.")
    return out


def _conservative(
    low: float, participant: dict[str, Any] | None, costs: float | None
) -> dict[str, Any]:
    """The lowest defensible benefit (Phillips principle 4) and its ROI%."""
    value, source = low, "lower end of the effect's 95% interval"
    if participant is not None and participant["benefits"] < value:
        value, source = participant["benefits"], "participants' estimate"
    return {"benefits": round(value, 2), "roi_pct": roi_pct(value, costs), "source": source}


def compute_roi(
    plan: ImpactPlan,
    kpis: Sequence[KpiBenefitInput],
    costs: pd.DataFrame,
    *,
    currency: str,
    participants: Sequence[ParticipantInput] = (),
) -> RoiResult:
    """Benefits, costs, BCR and ROI% (with its range), rules, sensitivity, estimates.

    ``costs`` holds the program's cost rows (item, amount, category, prorate_share).
    Benefits are summed over the plan's primary KPIs that carry a ``value_per_unit``.
    ``participants`` carries per-unit KPI changes and survey shares for the
    participant-estimate comparison (weakest method; shown, never the headline).
    """
    r = plan.roi
    rules = r.rules
    horizon = effective_horizon(rules, r.horizon_months)
    ledger: list[LedgerLine] = []
    primary = {k.id for k in plan.primary_kpis()}
    used = [k for k in kpis if k.kpi in primary and k.value_per_unit is not None]
    mid = low = high = 0.0
    have_benefits = bool(used) and all(k.effect is not None for k in used)
    if horizon < r.horizon_months:
        ledger.append(
            LedgerLine(
                step="horizon",
                value=horizon,
                detail=f"months; the plan's {r.horizon_months:g} cut by rule first_year_only",
            )
        )
    for k in used:
        part = _kpi_ledger(k, horizon, plan, currency)
        if part is None:
            ledger.append(LedgerLine(step=f"{k.kpi}: effect", value=None, detail="not estimable"))
            continue
        lines, m, lo, hi = part
        ledger += lines
        mid, low, high = mid + m, low + lo, high + hi
    cl = cost_ledger(costs, fully_loaded=rules.fully_loaded_costs, currency=currency)
    ledger += cl.ledger
    total_cost = cl.total
    conventions = _conventions(plan, horizon)
    if cl.missing_categories:
        conventions.append(
            "Fully loaded costs lack the categories: " + ", ".join(cl.missing_categories) + "."
        )
    want = [p for p in participants if p.kpi.kpi in {k.kpi for k in used}]
    estimate = participant_benefits(
        want,
        horizon_months=horizon,
        decay=r.decay,
        margin=r.margin,
        non_respondents_zero=rules.non_respondents_zero,
        measured=mid if have_benefits else None,
    )
    if estimate is not None:
        ledger.append(
            LedgerLine(
                step="participants' estimate of benefits",
                value=estimate["benefits"],
                detail="weakest method, not the headline: KPI change x contribution% x "
                "confidence%, non-respondents " + estimate["non_respondents"],
            )
        )
    conservative = None
    if have_benefits and rules.conservative_alternative:
        conservative = _conservative(low, estimate, total_cost)
        ledger.append(
            LedgerLine(
                step="conservative benefits",
                value=conservative["benefits"],
                detail=conservative["source"] + " (rule conservative_alternative)",
            )
        )
    bcr = round(mid / total_cost, 2) if have_benefits and total_cost else None
    break_even = None
    if have_benefits and total_cost and mid > 0:
        break_even = round(total_cost / (mid / horizon), 1)
    return RoiResult(
        benefits=round(mid, 2) if have_benefits else None,
        costs=round(total_cost, 2) if total_cost is not None else None,
        roi_pct=roi_pct(mid, total_cost) if have_benefits else None,
        roi_pct_low=roi_pct(low, total_cost) if have_benefits else None,
        roi_pct_high=roi_pct(high, total_cost) if have_benefits else None,
        bcr=bcr,
        benefits_low=round(low, 2) if have_benefits else None,
        benefits_high=round(high, 2) if have_benefits else None,
        break_even_months=break_even,
        currency=currency,
        kpi=", ".join(k.kpi for k in used) or None,
        conventions=conventions,
        intangibles=list(r.intangibles),
        ledger=ledger,
        cost_items=cl.items,
        rules=rules_listing(rules),
        sensitivity=sensitivity_table(used, r, total_cost, horizon_months=horizon)
        if have_benefits
        else [],
        conservative=conservative,
        participant_estimate=estimate,
    )
