"""Participants' own estimates of the program's benefit, beside the measured one.

Phillips' participant-estimate isolation, the weakest method (methods.md): adjusted
benefit = annualised KPI change x unit value x contribution% x confidence%, summed
over respondents; non-respondents count as zero. Here each trained unit's KPI change
is its own post-minus-pre mean (what the participant saw), signed so that better is
positive, counted over the same horizon periods as the measured benefit (a year by
default), times value_per_unit and margin. A team's share is the mean of its
respondents' contribution% x confidence%.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import ibis.expr.types as ir
import numpy as np
import pandas as pd

from impactlens.metrics.operational import program_surveys
from impactlens.metrics.text import trimmed
from impactlens.roi.benefits import KpiBenefitInput, horizon_periods, improvement

LABEL = "participant estimate (the weakest isolation method)"


@dataclass(frozen=True)
class ParticipantInput:
    """One KPI's per-unit changes and the participants' adjusted shares.

    ``units`` has one row per trained unit: ``unit_id``, ``change`` (post-minus-pre
    mean per period, NaN when not measurable) and ``share`` (contribution% x
    confidence% as a fraction, NaN for a unit without respondents).
    """

    kpi: KpiBenefitInput
    units: pd.DataFrame


def participant_benefits(
    inputs: Sequence[ParticipantInput],
    *,
    horizon_months: float,
    decay: float,
    margin: float,
    non_respondents_zero: bool,
    measured: float | None,
) -> dict[str, Any] | None:
    """The participants' estimated benefit, and how far it is from the measured one.

    Returns None when no trained unit has both a measurable change and an answer.

    Examples:
        >>> k = KpiBenefitInput("k", "increase", 1.0, 0.5, 1.5, 4, 10.0, 12.0)
        >>> units = pd.DataFrame({"unit_id": list("abcd"), "change": [2.0, 1.0, 3.0, 1.0],
        ...     "share": [0.5, 0.25, None, None]})
        >>> out = participant_benefits([ParticipantInput(k, units)], horizon_months=12,
        ...     decay=0.0, margin=1.0, non_respondents_zero=True, measured=480.0)
        >>> out["benefits"], out["off_by_pct"]
        (150.0, -68.8)
    """
    lines: list[dict[str, Any]] = []
    total = 0.0
    for item in inputs:
        k, u = item.kpi, item.units
        if k.value_per_unit is None:
            continue
        change = pd.to_numeric(u["change"], errors="coerce").to_numpy(dtype=float)
        share = pd.to_numeric(u["share"], errors="coerce").to_numpy(dtype=float)
        answered = ~np.isnan(share) & ~np.isnan(change)
        if not answered.any():
            continue
        periods = horizon_periods(k.periods_per_year, horizon_months, decay)
        better = np.array([improvement(k.direction, c) for c in change[answered]])
        per_unit = better * share[answered] * periods * k.value_per_unit * margin
        benefit = float(per_unit.sum())
        n_trained = len(u)
        if not non_respondents_zero:
            # the rule off: respondents stand for every trained unit
            benefit *= n_trained / int(answered.sum())
        total += benefit
        lines.append(
            {
                "kpi": k.kpi,
                "respondent_units": int(answered.sum()),
                "trained_units": n_trained,
                "mean_change": round(float(np.nanmean(change[answered])), 6),
                "mean_share": round(float(share[answered].mean()), 4),
                "periods": round(periods, 2),
                "benefits": round(benefit, 2),
            }
        )
    if not lines:
        return None
    off = None
    if measured:
        off = round((total - measured) / abs(measured) * 100.0, 1)
    return {
        "method": LABEL,
        "benefits": round(total, 2),
        "measured_benefits": None if measured is None else round(measured, 2),
        "difference": None if measured is None else round(total - measured, 2),
        "off_by_pct": off,
        "non_respondents": "count as zero" if non_respondents_zero else "extrapolated",
        "kpis": lines,
    }


def respondent_shares(surveys: ir.Table, program: str) -> pd.DataFrame:
    """Each identified respondent's contribution% x confidence% as a fraction.

    From the contract's ``level: application`` questions ``contribution_pct`` and
    ``confidence_pct`` (0-100); a person's answers are averaged when repeated.
    Columns ``person_id``, ``share``.
    """
    app = program_surveys(surveys, program)
    app = app.filter((app.level == "application") & app.person_id.notnull())
    q = trimmed(app.question_id).lower()
    per = app.group_by("person_id").aggregate(
        c=app.response_num.mean(where=q == "contribution_pct"),
        k=app.response_num.mean(where=q == "confidence_pct"),
    )
    per = per.filter(per.c.notnull() & per.k.notnull())
    frame = per.select("person_id", share=per.c * per.k / 10000).to_pyarrow().to_pandas()
    return frame.assign(person_id=frame["person_id"].astype(str))


def unit_shares(shares: pd.DataFrame, people: pd.DataFrame, unit_kind: str) -> pd.Series:
    """Respondents' shares by panel unit: the person, or the mean over a team's respondents."""
    if unit_kind == "team" and "team_id" in people.columns:
        team_of = people.set_index(people["person_id"].astype(str))["team_id"]
        team = shares["person_id"].map(team_of)
        keep = team.notna()
        return shares[keep].groupby(team[keep].astype(str))["share"].mean()
    return shares.set_index("person_id")["share"]
