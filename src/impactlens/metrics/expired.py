"""Expired totals: the retention setting's ``aggregates`` read back into the tier figures.

``services/retention.py`` deletes person-level rows older than ``[privacy]
retention_months`` after writing their per-program, per-month totals to ``aggregates``.
Figures that are sums over rows (activity rows, minutes, assets used, survey means by
level and question) add those totals back, so a report does not shrink after an expiry.
Figures that pair or count people across rows (skill gain, distinct learners, response
rate, breakdowns by persona) cannot be rebuilt from totals: the tiers warn instead.

The measure names below are the format both sides share (retention writes them).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import ibis.expr.types as ir

from impactlens.domain.plan import ImpactPlan

# sources whose measures are "verb:<verb>|asset:<asset id>" (minutes summed in value)
ACTIVITY_SOURCES = ("activity", "xapi_activity")
ASSET = "|asset:"
# survey measures are "answer:<question id>|level:<level>" (numeric answers summed)
LEVEL = "|level:"
# one row per expiry run (no program): period is the run's cutoff date
CUTOFF_SOURCE = "retention"
CUTOFF_MEASURE = "cutoff"


@dataclass
class Expired:
    """A program's totals of expired rows, summed over every expiry run."""

    cutoff: date | None = None
    activity_rows: int = 0
    minutes: float = 0.0
    assets: set[str] = field(default_factory=set)
    # (level, question id) -> (sum of numeric answers, number of numeric answers)
    answers: dict[tuple[str, str], tuple[float, int]] = field(default_factory=dict)
    assessments: int = 0

    @property
    def activity(self) -> bool:
        """Whether expired activity counts for the program."""
        return self.activity_rows > 0

    def answered(self, level: str, question: str | None = None) -> tuple[float, int]:
        """Sum and count of expired numeric answers at ``level`` (one question when given).

        Questions are compared trimmed and lower-cased, as the learner tier reads them.
        """
        total, n = 0.0, 0
        for (lvl, q), (s, k) in self.answers.items():
            if lvl == level and (question is None or q.strip().lower() == question):
                total, n = total + s, n + k
        return total, n

    def warning(self, figures: str) -> str:
        """The caveat for ``figures`` (ending in its verb: "learner gain counts").

        Examples:
            >>> Expired(cutoff=date(2025, 6, 15)).warning("learner gain counts")
            'learner gain counts only records since 2025-06-15: earlier person-level records expired under the retention setting'
        """  # noqa: E501
        since = f"since {self.cutoff.isoformat()}" if self.cutoff else "still held"
        return (
            f"{figures} only records {since}: "
            "earlier person-level records expired under the retention setting"
        )


def expired_totals(tables: Mapping[str, ir.Table], plan: ImpactPlan) -> Expired | None:
    """The expired totals that count for ``plan``, or None when none do.

    Activity counts as the live rows do (its program is the plan's, or its asset is one
    of the plan's assets); surveys and assessments by their program (assessments without
    a program may be the program's: they count as expired for the caveat only).
    """
    table = tables.get("aggregates")
    if table is None:
        return None
    rows: list[dict[str, Any]] = table.to_pyarrow().to_pylist()  # small: months x measures
    assets = {a.id for a in plan.assets}
    out = Expired()
    mine = False
    for r in rows:
        source, measure, program = r["source"], r["measure"] or "", r["program"]
        if source == CUTOFF_SOURCE:
            if r["period"] is not None and (out.cutoff is None or r["period"] > out.cutoff):
                out.cutoff = r["period"]
        elif source in ACTIVITY_SOURCES:
            asset = measure.partition(ASSET)[2] or None
            if program == plan.program or (asset is not None and asset in assets):
                out.activity_rows += int(r["rows"] or 0)
                out.minutes += float(r["value"] or 0.0)
                if asset is not None:
                    out.assets.add(asset)
                mine = True
        elif source == "surveys" and program == plan.program:
            question, _, level = measure.removeprefix("answer:").partition(LEVEL)
            s, n = out.answers.get((level, question), (0.0, 0))
            out.answers[(level, question)] = (s + float(r["value"] or 0.0), n + int(r["rows"]))
            mine = True
        elif source == "assessments" and program in (plan.program, None, ""):
            out.assessments += int(r["rows"] or 0)
            mine = mine or program == plan.program
    return out if mine or out.assessments else None


def pooled_mean(
    mean: Any, n: int, extra_sum: float, extra_n: int, digits: int
) -> tuple[float | None, int]:
    """The mean and count of held values (``mean`` of ``n``) pooled with expired totals.

    Examples:
        >>> pooled_mean(4.0, 2, 15.0, 3, 3), pooled_mean(None, 0, 0.0, 0, 3)
        ((4.6, 5), (None, 0))
    """
    held = 0.0 if not n or mean is None else float(mean) * n
    total = n + extra_n
    return (round((held + extra_sum) / total, digits) if total else None), total
