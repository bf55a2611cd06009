"""Operational metrics: how the program ran (reach, completion, hours, satisfaction).

The first of the three tiers of metrics (Lepaya impact framework; Kirkpatrick L1
reaction and Phillips level 0 inputs). Every figure is an Ibis expression over the
store's tables, so the same code runs on every engine; only one-row or one-row-per-group
aggregates are executed.

Contract rules applied here: an activity row counts for the program when its ``program``
is the program id or its ``asset_id`` is one of the plan's assets; the status rung is
``assigned < enrolled < completed`` with ``dropped`` as enrolled, ``exempt`` as completed
and no status as completed. Control-arm rows of a randomised pilot are not offered the
program, so they stay out of the operational counts.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import ibis
import ibis.expr.types as ir

from impactlens.domain.plan import ImpactPlan
from impactlens.metrics.expired import expired_totals, pooled_mean
from impactlens.metrics.exposure import RUNG_LEVEL
from impactlens.metrics.privacy import suppress_groups
from impactlens.metrics.text import trimmed

ENROLLED = RUNG_LEVEL["enrolled"]
COMPLETED = RUNG_LEVEL["completed"]
NOT_SET = "(not set)"


def rounded(value: Any, digits: int) -> float | None:
    """A finite float rounded to ``digits``, or None for missing / NaN / infinite values.

    Examples:
        >>> rounded(2 / 3, 3), rounded(float("nan"), 2), rounded(None, 2)
        (0.667, None, None)
    """
    if value is None:
        return None
    try:
        x = float(value)
    except (TypeError, ValueError):
        return None
    return round(x, digits) if math.isfinite(x) else None


def ratio(num: Any, den: Any, digits: int = 4) -> float | None:
    """``num / den`` rounded, or None when the denominator is missing or zero.

    Examples:
        >>> ratio(3, 4), ratio(1, 0)
        (0.75, None)
    """
    n, d = rounded(num, 12), rounded(den, 12)
    if n is None or not d:
        return None
    return rounded(n / d, digits)


def count_of(value: Any) -> int:
    """A count from a query result: 0 where an engine gives NULL/NaN for an empty set."""
    x = rounded(value, 0)
    return 0 if x is None else int(x)


def program_participants(participation: ir.Table, program: str) -> ir.Table:
    """The program's participation rows with a normalised ``status``, ``rung`` and ``control``.

    ``rung`` is the level of :data:`impactlens.metrics.exposure.RUNG_LEVEL` (the
    contract's rule kept in one place); ``control`` marks control-arm rows.
    """
    rows = participation.filter(participation.program == program)
    status = trimmed(rows.status).lower().nullif("")
    rung = ibis.cases(
        *[(status == name, level) for name, level in RUNG_LEVEL.items() if name is not None],
        else_=RUNG_LEVEL[None],
    )
    control = trimmed(rows.arm).lower().fill_null("") == "control"
    return rows.select("person_id", status=status, rung=rung, control=control)


def program_activity(activity: ir.Table, plan: ImpactPlan) -> ir.Table:
    """Activity rows that count for the program (its id, or one of its assets)."""
    counts = activity.program == plan.program
    asset_ids = [a.id for a in plan.assets]
    if asset_ids:
        counts = counts.fill_null(False) | activity.asset_id.isin(asset_ids)
    return activity.filter(counts.fill_null(False))


def program_surveys(surveys: ir.Table, program: str) -> ir.Table:
    """The program's survey rows with ``level`` lower-cased and anonymous ids as null."""
    rows = surveys.filter(surveys.program == program)
    return rows.mutate(
        level=trimmed(rows.level).lower(),
        person_id=trimmed(rows.person_id).nullif(""),
    )


def _learners(tables: Mapping[str, ir.Table], plan: ImpactPlan, columns: list[str]) -> ir.Table:
    """One row per offered participant with its activity, survey sums and people columns."""
    parts = program_participants(tables["participation"], plan.program)
    parts = parts.filter(~parts.control)
    act = program_activity(tables["activity"], plan)
    per_act = act.group_by("person_id").aggregate(
        minutes=act.duration_minutes.sum(), act_rows=act.count()
    )
    surv = program_surveys(tables["surveys"], plan.program)
    surv = surv.filter(surv.person_id.notnull())
    num = surv.response_num
    reaction = (surv.level == "reaction") & num.notnull()
    relevance = (surv.level == "relevance") & num.notnull()
    per_surv = surv.group_by("person_id").aggregate(
        sat_sum=num.sum(where=reaction),
        sat_n=surv.count(where=reaction),
        rel_sum=num.sum(where=relevance),
        rel_n=surv.count(where=relevance),
        responses=surv.count(),
    )
    people = tables["people"]
    attrs = people.select("person_id", *[people[c].cast("string") for c in columns])
    out = parts
    for right in (per_act, per_surv, attrs):
        out = out.left_join(right, "person_id")
        out = out.drop(*[c for c in out.columns if c.endswith("_right")])
    return out


def _core_aggregates(t: ir.Table) -> dict[str, ir.Value]:
    return {
        "n": t.count(),
        "enrolled": t.count(where=t.rung >= ENROLLED),
        "completed": t.count(where=t.rung >= COMPLETED),
        "dropped": t.count(where=t.status == "dropped"),
        "exempt": t.count(where=t.status == "exempt"),
        "minutes": t.minutes.sum(),
        "active": t.count(where=t.act_rows.notnull()),
        "sat_sum": t.sat_sum.sum(),
        "sat_n": t.sat_n.sum(),
        "rel_sum": t.rel_sum.sum(),
        "rel_n": t.rel_n.sum(),
        "respondents": t.count(where=t.responses.notnull() & (t.rung >= ENROLLED)),
    }


def _core_figures(row: Mapping[str, Any], min_group_size: int) -> dict[str, Any]:
    """Group figures from one aggregate row; means of fewer than ``min_group_size`` hidden."""
    hours = (rounded(row["minutes"], 6) or 0.0) / 60
    sat_n, rel_n = count_of(row["sat_n"]), count_of(row["rel_n"])
    return {
        "n": count_of(row["n"]),
        "enrolled": count_of(row["enrolled"]),
        "completed": count_of(row["completed"]),
        "dropped": count_of(row["dropped"]),
        "completion_rate": ratio(row["completed"], row["enrolled"]),
        "learning_hours": rounded(hours, 2),
        "hours_per_learner": ratio(hours, row["active"], 2),
        # a mean of one or two ratings would show those people's answers
        "satisfaction_mean": ratio(row["sat_sum"], sat_n, 3) if sat_n >= min_group_size else None,
        "satisfaction_n": sat_n,
        "relevance_mean": ratio(row["rel_sum"], rel_n, 3) if rel_n >= min_group_size else None,
        "relevance_n": rel_n,
        "response_rate": ratio(row["respondents"], row["enrolled"]),
    }


def _breakdown(
    learners: ir.Table, column: str, labels: list[str] | None, min_group_size: int, total: int
) -> list[dict[str, Any]]:
    """Core figures per value of ``column`` (only ``labels`` when given), suppressed."""
    keyed = learners.mutate(_group=learners[column].fill_null(NOT_SET))
    frame = keyed.group_by("_group").aggregate(**_core_aggregates(keyed)).to_pandas()
    found = {str(r["_group"]): r for r in frame.to_dict("records")}
    empty = dict.fromkeys(_core_aggregates(keyed), 0)
    wanted = labels if labels is not None else sorted(found)
    rows = [{"group": g, **_core_figures(found.get(g, empty), min_group_size)} for g in wanted]
    return suppress_groups(rows, "n", min_group_size, total=total)


def operational_metrics(
    tables: Mapping[str, ir.Table],
    plan: ImpactPlan,
    *,
    eligible: ir.Table,
    min_group_size: int,
) -> dict[str, Any]:
    """How the program ran: reach, rungs, completion, hours, satisfaction, response rate.

    Overall figures count every program row: activity of people outside the participation
    list and anonymous survey responses feed the hours and the means. Person-level rates
    (response rate, the breakdowns) count only identified participants. ``by_persona``
    and ``by_segment`` groups smaller than ``min_group_size`` are suppressed.

    Args:
        tables: The store's tables by name (people, participation, activity, surveys).
        plan: The program's impact plan.
        eligible: A table with a ``person_id`` column: everyone who could be trained.
        min_group_size: The privacy threshold for groups.

    Returns:
        A JSON-able dict; rates are fractions, hours in hours, means on the 1-5 scale.
    """
    people_cols = set(tables["people"].columns)
    segments = [c for c in plan.segments if c in people_cols]
    warnings = [
        f"segment column {c!r} is not in people; it is left out of the breakdowns"
        for c in plan.segments
        if c not in people_cols
    ]
    columns = list(dict.fromkeys(["persona", *segments]))
    learners = _learners(tables, plan, columns)
    overall = learners.aggregate(**_core_aggregates(learners)).to_pandas().iloc[0]
    core = _core_figures(overall, 1)

    act = program_activity(tables["activity"], plan)
    act_row = (
        act.aggregate(
            rows=act.count(),
            minutes=act.duration_minutes.sum(),
            assets=act.asset_id.nunique(),
            learners=act.person_id.nunique(),
        )
        .to_pandas()
        .iloc[0]
    )
    surv = program_surveys(tables["surveys"], plan.program)
    num = surv.response_num
    reaction = (surv.level == "reaction") & num.notnull()
    relevance = (surv.level == "relevance") & num.notnull()
    surv_row = (
        surv.aggregate(
            sat=num.mean(where=reaction),
            sat_n=surv.count(where=reaction),
            rel=num.mean(where=relevance),
            rel_n=surv.count(where=relevance),
            anonymous=surv.count(where=surv.person_id.isnull()),
        )
        .to_pandas()
        .iloc[0]
    )

    enrolled_ids = learners.filter(learners.rung >= ENROLLED).person_id
    elig_ids = eligible.select(person_id=eligible.person_id.cast("string")).distinct()
    elig_row = (
        elig_ids.aggregate(
            n=elig_ids.count(), reached=elig_ids.count(where=elig_ids.person_id.isin(enrolled_ids))
        )
        .to_pandas()
        .iloc[0]
    )

    hours = (rounded(act_row["minutes"], 6) or 0.0) / 60
    per_learner = ratio(hours, act_row["learners"], 2)
    rows, assets = count_of(act_row["rows"]), count_of(act_row["assets"])
    sat = rounded(surv_row["sat"], 3), count_of(surv_row["sat_n"])
    rel = rounded(surv_row["rel"], 3), count_of(surv_row["rel_n"])
    # the retention setting's totals of expired rows add back into the sums and means
    if (gone := expired_totals(tables, plan)) is not None and (gone.activity or gone.answers):
        rows, hours = rows + gone.activity_rows, hours + gone.minutes / 60
        if gone.assets:
            held = act.select("asset_id").distinct().to_pyarrow().column(0).to_pylist()
            assets = len(gone.assets | {a for a in held if a is not None})
        sat = pooled_mean(surv_row["sat"], sat[1], *gone.answered("reaction"), 3)
        rel = pooled_mean(surv_row["rel"], rel[1], *gone.answered("relevance"), 3)
        warnings.append(
            gone.warning(
                "active learners, hours per learner, respondents, response rate and the "
                "persona and segment breakdowns count"
            )
        )
    total = core["n"]
    return {
        "eligible": count_of(elig_row["n"]),
        "reach": ratio(elig_row["reached"], elig_row["n"]),
        "assigned": total,
        "enrolled": core["enrolled"],
        "completed": core["completed"],
        "dropped": core["dropped"],
        "exempt": count_of(overall["exempt"]),
        "completion_rate": core["completion_rate"],
        "learning_hours": rounded(hours, 2),
        "active_learners": count_of(act_row["learners"]),
        "hours_per_learner": per_learner,
        "activity_rows": rows,
        "assets_used": assets,
        "satisfaction_mean": sat[0],
        "satisfaction_n": sat[1],
        "relevance_mean": rel[0],
        "relevance_n": rel[1],
        "respondents": count_of(overall["respondents"]),
        "anonymous_responses": count_of(surv_row["anonymous"]),
        "response_rate": core["response_rate"],
        "by_persona": [
            {"persona": r.pop("group"), **r}
            for r in _breakdown(learners, "persona", plan.personas, min_group_size, total)
        ]
        if plan.personas
        else [],
        "by_segment": [
            {"segment": col, "value": r.pop("group"), **r}
            for col in segments
            for r in _breakdown(learners, col, None, min_group_size, total)
        ],
        "warnings": warnings,
    }
