"""Phillips ROI: monetary benefits over fully loaded costs, as a range.

Contract: benefits = improvement x units trained x periods in the horizon x
value_per_unit x margin (a harmful effect gives negative benefits); BCR = benefits /
costs; ROI% = (benefits - costs) / costs x 100 (Phillips & Phillips, ROI methodology;
methods.md). The range comes from the effect interval's ends.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from impactlens.domain.plan import ImpactPlan
from impactlens.domain.result import LedgerLine, RoiResult

PERIODS_PER_YEAR = {"daily": 365.0, "weekly": 52.0, "monthly": 12.0, "quarterly": 4.0}


@dataclass(frozen=True)
class KpiBenefitInput:
    """What ROI needs from one KPI's estimate."""

    kpi: str
    direction: str
    effect: float | None
    ci_low: float | None
    ci_high: float | None
    n_treated: int
    value_per_unit: float | None
    periods_per_year: float


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


def _horizon_factor(periods_per_year: float, horizon_months: float, decay: float) -> float:
    """Number of periods in the horizon, each discounted by the yearly decay of the effect."""
    n = round(periods_per_year * horizon_months / 12.0)
    keep = 1.0 - decay
    return sum(keep ** (i / periods_per_year) for i in range(n))


def _improvement(direction: str, effect: float) -> float:
    return -effect if direction == "decrease" else effect


def compute_roi(
    plan: ImpactPlan,
    kpis: Sequence[KpiBenefitInput],
    costs: pd.DataFrame,
    *,
    currency: str,
) -> RoiResult:
    """Benefits, fully loaded costs, BCR and ROI% (with its range) for a program.

    ``costs`` holds the program's cost rows (item, amount, category, prorate_share).
    Benefits are summed over the plan's primary KPIs that carry a ``value_per_unit``.
    """
    r = plan.roi
    ledger: list[LedgerLine] = []
    conventions = [
        "Effect isolated by the comparison-group estimate, never by a naive trained-vs-"
        "untrained difference.",
        f"Benefits counted for {r.horizon_months:g} months after launch"
        + (" (first-year benefits only)." if r.horizon_months <= 12 else "."),
        "A harmful effect counts as a negative benefit.",
        "Fully loaded costs: every cost item of every category, prorated by its share.",
        "Intangibles are listed, not converted to money.",
    ]
    if r.decay:
        conventions.append(f"The effect fades by {r.decay:.0%} a year.")
    primary = {k.id for k in plan.primary_kpis()}
    used = [k for k in kpis if k.kpi in primary and k.value_per_unit is not None]
    mid = low = high = 0.0
    have_benefits = bool(used) and all(k.effect is not None for k in used)
    for k in used:
        if k.effect is None:
            ledger.append(LedgerLine(step=f"{k.kpi}: effect", value=None, detail="not estimable"))
            continue
        periods = _horizon_factor(k.periods_per_year, r.horizon_months, r.decay)
        scale = k.n_treated * periods * (k.value_per_unit or 0.0) * r.margin
        ends = [
            _improvement(k.direction, v) * scale for v in (k.ci_low, k.ci_high) if v is not None
        ]
        m = _improvement(k.direction, k.effect) * scale
        mid += m
        low += min(ends, default=m)
        high += max(ends, default=m)
        ledger += [
            LedgerLine(
                step=f"{k.kpi}: effect per unit per period",
                value=k.effect,
                detail=f"measured, KPI {k.direction} is better",
            ),
            LedgerLine(
                step=f"{k.kpi}: improvement",
                value=_improvement(k.direction, k.effect),
                detail="effect signed so that better is positive",
            ),
            LedgerLine(step=f"{k.kpi}: units trained", value=float(k.n_treated)),
            LedgerLine(
                step=f"{k.kpi}: periods in horizon",
                value=round(periods, 2),
                detail=f"{k.periods_per_year:g} periods a year x {r.horizon_months:g} "
                f"months" + (f", decay {r.decay:.0%}/year" if r.decay else ""),
            ),
            LedgerLine(
                step=f"{k.kpi}: value per unit",
                value=k.value_per_unit,
                detail=f"{currency} per unit of improvement per unit per period",
            ),
            LedgerLine(step="margin", value=r.margin, detail="share of value that is profit"),
            LedgerLine(
                step=f"{k.kpi}: benefits",
                value=round(m, 2),
                detail=f"interval {min(ends, default=m):,.0f} to "
                f"{max(ends, default=m):,.0f} {currency}",
            ),
        ]
    cost_items: list[dict[str, object]] = []
    total_cost: float | None = None
    if len(costs):
        c = costs.copy()
        c["prorate_share"] = c["prorate_share"].fillna(1.0)
        c["charged"] = c["amount"] * c["prorate_share"]
        c = c.sort_values(["category", "item"], na_position="last")
        total_cost = float(c["charged"].sum())
        for row in c.itertuples():
            cost_items.append(
                {
                    "item": row.item,
                    "category": row.category,
                    "amount": float(row.amount),
                    "prorate_share": float(row.prorate_share),
                    "charged": round(float(row.charged), 2),
                }
            )
            ledger.append(
                LedgerLine(
                    step=f"cost: {row.item}",
                    value=round(float(row.charged), 2),
                    detail=f"{row.category or 'uncategorised'}, {float(row.prorate_share):.0%} of "
                    f"{float(row.amount):,.0f}",
                )
            )
        ledger.append(LedgerLine(step="fully loaded costs", value=round(total_cost, 2)))

    def pct(b: float) -> float | None:
        if not total_cost:
            return None
        return round((b - total_cost) / total_cost * 100.0, 1)

    benefits = round(mid, 2) if have_benefits else None
    bcr = round(mid / total_cost, 2) if have_benefits and total_cost else None
    break_even = None
    if have_benefits and total_cost and mid > 0:
        break_even = round(total_cost / (mid / r.horizon_months), 1)
    return RoiResult(
        benefits=benefits,
        costs=round(total_cost, 2) if total_cost is not None else None,
        roi_pct=pct(mid) if have_benefits else None,
        roi_pct_low=pct(low) if have_benefits else None,
        roi_pct_high=pct(high) if have_benefits else None,
        bcr=bcr,
        benefits_low=round(low, 2) if have_benefits else None,
        benefits_high=round(high, 2) if have_benefits else None,
        break_even_months=break_even,
        currency=currency,
        kpi=", ".join(k.kpi for k in used) or None,
        conventions=conventions,
        intangibles=list(r.intangibles),
        ledger=ledger,
        cost_items=cost_items,
    )
