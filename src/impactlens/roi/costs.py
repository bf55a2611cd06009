"""Program costs, item by item and prorated, fully loaded or direct only.

Fully loaded costs (Phillips; methods.md): needs assessment, design and development,
delivery, participants' time, evaluation and overhead, each prorated by the share
charged to this program. Without the fully-loaded rule only the direct costs of
making and running the program count, which is what vendors usually quote.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from impactlens.domain.result import LedgerLine

FULL_CATEGORIES = (
    "needs_assessment",
    "development",
    "delivery",
    "participant_time",
    "evaluation",
    "overhead",
)
DIRECT_CATEGORIES = ("development", "delivery")


@dataclass(frozen=True)
class CostLedger:
    """The charged total, the items, their ledger lines and what was left out."""

    total: float | None
    items: list[dict[str, Any]] = field(default_factory=list)
    ledger: list[LedgerLine] = field(default_factory=list)
    excluded: list[str] = field(default_factory=list)
    missing_categories: list[str] = field(default_factory=list)


def cost_ledger(costs: pd.DataFrame, *, fully_loaded: bool, currency: str) -> CostLedger:
    """Prorate each cost item; keep every item (fully loaded) or only direct ones.

    ``costs`` holds the program's rows (item, amount, category, prorate_share); an
    empty frame gives a null total.

    Examples:
        >>> rows = pd.DataFrame({"item": ["a", "b"], "amount": [100.0, 50.0],
        ...     "category": ["delivery", "overhead"], "prorate_share": [0.5, None]})
        >>> cost_ledger(rows, fully_loaded=True, currency="EUR").total
        100.0
        >>> cost_ledger(rows, fully_loaded=False, currency="EUR").total
        50.0
    """
    if not len(costs):
        return CostLedger(total=None)
    c = costs.copy()
    c["prorate_share"] = pd.to_numeric(c["prorate_share"], errors="coerce").fillna(1.0)
    c["charged"] = c["amount"].astype(float) * c["prorate_share"]
    c = c.sort_values(["category", "item"], na_position="last")
    present = {str(v) for v in c["category"].dropna()}
    missing = [cat for cat in FULL_CATEGORIES if cat not in present] if fully_loaded else []
    keep = pd.Series(True, index=c.index)
    if not fully_loaded:
        keep = c["category"].isin(DIRECT_CATEGORIES).fillna(False).astype(bool)
    items: list[dict[str, Any]] = []
    ledger: list[LedgerLine] = []
    excluded: list[str] = []
    for row, kept in zip(c.itertuples(), keep, strict=True):
        charged = round(float(row.charged), 2)
        detail = (
            f"{row.category or 'uncategorised'}, {float(row.prorate_share):.0%} of "
            f"{float(row.amount):,.0f} {currency}"
        )
        if not kept:
            excluded.append(str(row.item))
            ledger.append(
                LedgerLine(
                    step=f"cost left out: {row.item}",
                    value=0.0,
                    detail=detail + " (not a direct cost; fully-loaded rule off)",
                )
            )
            continue
        items.append(
            {
                "item": row.item,
                "category": row.category,
                "amount": float(row.amount),
                "prorate_share": float(row.prorate_share),
                "charged": charged,
            }
        )
        ledger.append(LedgerLine(step=f"cost: {row.item}", value=charged, detail=detail))
    total = float(c.loc[keep, "charged"].sum())
    label = "fully loaded costs" if fully_loaded else "direct costs"
    ledger.append(LedgerLine(step=label, value=round(total, 2)))
    return CostLedger(
        total=total, items=items, ledger=ledger, excluded=excluded, missing_categories=missing
    )
