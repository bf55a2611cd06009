"""Monetary benefits of a measured KPI effect over a horizon (Phillips; contract).

benefits = improvement x units trained x periods in the horizon x value_per_unit x
margin, where the improvement is the effect signed so that better is positive (a
harmful effect gives negative benefits). Each period of the horizon is discounted by
the effect's yearly decay. The ends of the effect's interval give the range.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


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


@dataclass(frozen=True)
class Benefits:
    """Benefits at the point estimate and at the interval's lower and upper ends."""

    mid: float
    low: float
    high: float


def horizon_periods(periods_per_year: float, horizon_months: float, decay: float) -> float:
    """Number of periods in the horizon, each discounted by the yearly decay of the effect.

    Period i (0-based) keeps (1 - decay) ** (i / periods_per_year) of the effect.

    Examples:
        >>> horizon_periods(12.0, 12.0, 0.0)
        12.0
        >>> round(horizon_periods(1.0, 24.0, 0.5), 3)
        1.5
    """
    n = round(periods_per_year * horizon_months / 12.0)
    keep = 1.0 - decay
    return float(sum(keep ** (i / periods_per_year) for i in range(n)))


def improvement(direction: str, effect: float) -> float:
    """The effect signed so that better is positive.

    Examples:
        >>> improvement("decrease", -0.5)
        0.5
    """
    return -effect if direction == "decrease" else effect


def kpi_benefits(
    k: KpiBenefitInput,
    *,
    horizon_months: float,
    decay: float,
    margin: float,
    value_scale: float = 1.0,
) -> Benefits | None:
    """One KPI's benefits and their range, or None without an effect or a value."""
    if k.effect is None or k.value_per_unit is None:
        return None
    periods = horizon_periods(k.periods_per_year, horizon_months, decay)
    scale = k.n_treated * periods * k.value_per_unit * value_scale * margin
    mid = improvement(k.direction, k.effect) * scale
    ends = [improvement(k.direction, v) * scale for v in (k.ci_low, k.ci_high) if v is not None]
    return Benefits(mid=mid, low=min(ends, default=mid), high=max(ends, default=mid))


def total_benefits(
    kpis: Sequence[KpiBenefitInput],
    *,
    horizon_months: float,
    decay: float,
    margin: float,
    value_scale: float = 1.0,
) -> Benefits | None:
    """Benefits summed over ``kpis``; None when any of them has no effect."""
    parts = [
        kpi_benefits(
            k, horizon_months=horizon_months, decay=decay, margin=margin, value_scale=value_scale
        )
        for k in kpis
    ]
    if not parts or any(p is None for p in parts):
        return None
    found = [p for p in parts if p is not None]
    return Benefits(
        mid=sum(p.mid for p in found),
        low=sum(p.low for p in found),
        high=sum(p.high for p in found),
    )


def roi_pct(benefits: float, costs: float | None) -> float | None:
    """ROI% = (benefits - costs) / costs x 100 (Phillips; methods.md).

    Examples:
        >>> roi_pct(750_000, 425_000)
        76.5
    """
    if not costs:
        return None
    return round((benefits - costs) / costs * 100.0, 1)
