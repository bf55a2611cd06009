"""How the ROI moves when one assumption moves: value per unit, horizon, decay.

A one-way sensitivity table: each row changes one assumption and holds the others at
the plan's values, so a reader sees which assumption the answer hangs on. Horizon
rows are the months stated, not capped by the first-year rule, because the question
they answer is "what if the effect lasted that long".
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from impactlens.domain.plan import RoiSettings
from impactlens.roi.benefits import KpiBenefitInput, roi_pct, total_benefits

VALUE_SCALES = (0.5, 1.0, 1.5)
HORIZONS = (6.0, 12.0, 24.0)
DECAYS = (0.0, 0.25, 0.5)


def sensitivity_table(
    kpis: Sequence[KpiBenefitInput],
    settings: RoiSettings,
    costs: float | None,
    *,
    horizon_months: float,
) -> list[dict[str, Any]]:
    """Rows of benefits and ROI% (with its range) under each changed assumption.

    ``horizon_months`` is the horizon the headline uses (after the first-year rule).
    Empty when benefits cannot be computed.

    Examples:
        >>> k = KpiBenefitInput("k", "increase", 1.0, 0.5, 1.5, 10, 2.0, 12.0)
        >>> rows = sensitivity_table([k], RoiSettings(), 100.0, horizon_months=12)
        >>> [(r["setting"], r["benefits"]) for r in rows][:3]
        [('x0.5', 120.0), ('x1', 240.0), ('x1.5', 360.0)]
    """
    base = {
        "horizon_months": horizon_months,
        "decay": settings.decay,
        "margin": settings.margin,
        "value_scale": 1.0,
    }
    cases: list[tuple[str, str, dict[str, float]]] = []
    cases += [("value per unit", f"x{s:g}", {"value_scale": s}) for s in VALUE_SCALES]
    cases += [("horizon", f"{h:g} months", {"horizon_months": h}) for h in HORIZONS]
    cases += [("yearly decay", f"{d:.0%}", {"decay": d}) for d in DECAYS]
    rows: list[dict[str, Any]] = []
    for assumption, setting, change in cases:
        args = base | change
        b = total_benefits(kpis, **args)
        if b is None:
            return []
        rows.append(
            {
                "assumption": assumption,
                "setting": setting,
                "as_planned": args == base,
                "benefits": round(b.mid, 2),
                "roi_pct": roi_pct(b.mid, costs),
                "roi_pct_low": roi_pct(b.low, costs),
                "roi_pct_high": roi_pct(b.high, costs),
            }
        )
    return rows
