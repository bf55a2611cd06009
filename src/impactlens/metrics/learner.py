"""Learner-goal metrics: skills gained, confidence, and whether people apply it.

The second of the three tiers of metrics (Lepaya impact framework; Kirkpatrick L2
learning and L3 behaviour). Skill gain is a paired pre/post difference per person and
skill, on a common 0-100 scale because skill scales clash across vendors; application
comes from the contract's survey questions ``applied``, ``contribution_pct`` and
``confidence_pct`` at level ``application``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import ibis
import ibis.expr.types as ir
from scipy import special

from impactlens.domain.plan import ImpactPlan
from impactlens.metrics.expired import Expired, expired_totals, pooled_mean
from impactlens.metrics.operational import (
    NOT_SET,
    count_of,
    program_participants,
    program_surveys,
    rounded,
)
from impactlens.metrics.privacy import suppress_groups
from impactlens.metrics.text import trimmed

YES = ("yes", "y", "true", "1")
NO = ("no", "n", "false", "0")
PARTICIPANT_ESTIMATE_LABEL = "participant estimate (the weakest isolation method)"


def _program_assessments(tables: Mapping[str, ir.Table], program: str) -> ir.Table:
    """The program's assessment rows on a 0-100 scale, exempt and control people left out.

    A row belongs to the program when its ``program`` is the id, or when it has no
    program and was taken by someone offered the program.
    """
    parts = program_participants(tables["participation"], program)
    offered = parts.filter(~parts.control).person_id
    # exempt people skipped the learning, control-arm people were never offered it
    excluded = parts.filter(parts.control | (parts.status == "exempt")).person_id
    a = tables["assessments"]
    prog = trimmed(a.program).nullif("")
    mine = (prog == program).fill_null(False) | (prog.isnull() & a.person_id.isin(offered))
    a = a.filter(mine & ~a.person_id.isin(excluded))
    low = a.min_score.fill_null(0.0)
    rescale = a.max_score.notnull() & (a.max_score > low)
    return a.select(
        "person_id",
        "skill",
        "taken_at",
        "confidence",
        score=ibis.ifelse(rescale, (a.score - low) / (a.max_score - low) * 100, a.score),
        phase=trimmed(a.phase).lower().nullif(""),
        rescaled=rescale,
    )


def _pairs(rows: ir.Table) -> ir.Table:
    """One pre/post pair per person and skill.

    ``pre`` is the first ``pre``-phase row and ``post`` the last ``post``-phase row; a
    side without phased rows falls back to the first / last row without a phase. The
    post must be taken after the pre.
    """
    t = rows.taken_at
    where = {"p": rows.phase == "pre", "q": rows.phase == "post", "u": rows.phase.isnull()}
    aggs: dict[str, ir.Value] = {"rescaled": rows.rescaled.any()}
    for key, cond in where.items():
        pick_first = key != "q"
        for col in ("score", "confidence"):
            value = rows[col]
            aggs[f"{key}_{col}"] = (
                value.argmin(t, where=cond) if pick_first else value.argmax(t, where=cond)
            )
        aggs[f"{key}_at"] = t.min(where=cond) if pick_first else t.max(where=cond)
    # the phase-less fallback for the post side is the LAST unphased row
    aggs["v_score"] = rows.score.argmax(t, where=where["u"])
    aggs["v_confidence"] = rows.confidence.argmax(t, where=where["u"])
    aggs["v_at"] = t.max(where=where["u"])
    g = rows.group_by(["person_id", "skill"]).aggregate(**aggs)
    phased_pre, phased_post = g.p_at.notnull(), g.q_at.notnull()
    pairs = g.select(
        "person_id",
        "skill",
        "rescaled",
        pre=ibis.ifelse(phased_pre, g.p_score, g.u_score),
        pre_conf=ibis.ifelse(phased_pre, g.p_confidence, g.u_confidence),
        pre_at=ibis.ifelse(phased_pre, g.p_at, g.u_at),
        post=ibis.ifelse(phased_post, g.q_score, g.v_score),
        post_conf=ibis.ifelse(phased_post, g.q_confidence, g.v_confidence),
        post_at=ibis.ifelse(phased_post, g.q_at, g.v_at),
    )
    return pairs.filter(pairs.pre.notnull() & pairs.post.notnull() & (pairs.post_at > pairs.pre_at))


def _gain_aggregates(p: ir.Table) -> dict[str, ir.Value]:
    diff, conf = p.post - p.pre, p.post_conf - p.pre_conf
    return {
        "n": p.count(),
        "pre_mean": p.pre.mean(),
        "post_mean": p.post.mean(),
        "gain": diff.mean(),
        "sd": diff.std(),
        "conf_change": conf.mean(),
        "conf_n": conf.count(),
        "rescaled": p.rescaled.any(),
    }


def _gain_figures(row: Mapping[str, Any]) -> dict[str, Any]:
    """Paired gain, its 95% t interval, d_z and normalised gain from aggregate sums."""
    n = int(row["n"])
    gain, sd = rounded(row["gain"], 12), rounded(row["sd"], 12)
    pre, post = rounded(row["pre_mean"], 12), rounded(row["post_mean"], 12)
    ci_low = ci_high = p_value = d_z = None
    if gain is not None and sd is not None and n >= 2:
        # paired t interval: mean difference ± t(0.975, n-1) · SD / sqrt(n) (Student 1908)
        half = special.stdtrit(n - 1, 0.975) * sd / math.sqrt(n)
        ci_low, ci_high = gain - half, gain + half
        if sd > 0:
            d_z = gain / sd  # Cohen's d_z (Lakens 2013, eq. 6): mean diff / SD of diffs
            p_value = float(2 * special.stdtr(n - 1, -abs(gain / (sd / math.sqrt(n)))))
    # normalised gain of class means, <g> = (post - pre) / (max - pre) (Hake 1998)
    norm = None
    if pre is not None and post is not None and 100 - pre > 0:
        norm = (post - pre) / (100 - pre)
    conf_n = int(row["conf_n"] or 0)
    return {
        "n": n,
        "pre_mean": rounded(pre, 3),
        "post_mean": rounded(post, 3),
        "gain": rounded(gain, 3),
        "ci_low": rounded(ci_low, 3),
        "ci_high": rounded(ci_high, 3),
        "p_value": None if p_value is None else float(f"{p_value:.4g}"),  # tiny p stays > 0
        "d_z": rounded(d_z, 3),
        "normalised_gain": rounded(norm, 4),
        "confidence_change": rounded(row["conf_change"], 3) if conf_n else None,
        "confidence_n": conf_n,
        "rescaled": bool(row["rescaled"]),
    }


def _survey_confidence(surv: ir.Table) -> tuple[float | None, int]:
    """Mean change of a person's first vs last answer to each ``confidence`` question."""
    rows = surv.filter(
        (surv.level == "confidence") & surv.person_id.notnull() & surv.response_num.notnull()
    )
    g = rows.group_by(["person_id", "question_id"]).aggregate(
        first=rows.response_num.argmin(rows.submitted_at),
        first_at=rows.submitted_at.min(),
        last=rows.response_num.argmax(rows.submitted_at),
        last_at=rows.submitted_at.max(),
    )
    g = g.filter(g.last_at > g.first_at)
    row = g.aggregate(change=(g.last - g.first).mean(), n=g.count()).to_pandas().iloc[0]
    n = int(row["n"])
    return (rounded(row["change"], 3) if n else None), n


def _application(surv: ir.Table, gone: Expired | None = None) -> dict[str, Any]:
    """Applying share, scrap learning and the participants' own contribution estimates.

    ``gone``: the expired answers' totals, pooled into the shares and means.
    """
    app = surv.filter(surv.level == "application")
    q = trimmed(app.question_id).lower()
    word = trimmed(app.response).lower()
    parsed = ibis.cases((word.isin(YES), 1.0), (word.isin(NO), 0.0), else_=ibis.null("float64"))
    value = ibis.coalesce(app.response_num, parsed)
    is_applied, is_contrib, is_conf = (
        q == "applied",
        q == "contribution_pct",
        q == "confidence_pct",
    )
    row = (
        app.aggregate(
            applying=value.mean(where=is_applied),
            applying_n=value.count(where=is_applied),
            contrib=app.response_num.mean(where=is_contrib),
            contrib_n=app.response_num.count(where=is_contrib),
            conf=app.response_num.mean(where=is_conf),
            conf_n=app.response_num.count(where=is_conf),
        )
        .to_pandas()
        .iloc[0]
    )
    # Phillips: adjusted share = contribution% x confidence%, per identified respondent
    named = app.filter(app.person_id.notnull())
    per = named.group_by("person_id").aggregate(
        c=named.response_num.mean(where=trimmed(named.question_id).lower() == "contribution_pct"),
        k=named.response_num.mean(where=trimmed(named.question_id).lower() == "confidence_pct"),
    )
    per = per.filter(per.c.notnull() & per.k.notnull())
    adj = per.aggregate(share=(per.c * per.k / 10000).mean(), n=per.count()).to_pandas().iloc[0]
    means = {
        name: pooled_mean(row[name], int(row[f"{name}_n"]), 0.0, 0, 12)
        for name in ("applying", "contrib", "conf")
    }
    if gone is not None:
        for name, question in (
            ("applying", "applied"),
            ("contrib", "contribution_pct"),
            ("conf", "confidence_pct"),
        ):
            extra = gone.answered("application", question)
            means[name] = pooled_mean(row[name], int(row[f"{name}_n"]), *extra, 12)
    share = rounded(means["applying"][0], 4)
    return {
        "applying_share": share,
        "applying_n": means["applying"][1],
        # scrap learning = 1 - share applying (methods.md)
        "scrap_learning": None if share is None else round(1 - share, 4),
        "participant_estimates": {
            "method": PARTICIPANT_ESTIMATE_LABEL,
            "contribution_pct_mean": rounded(means["contrib"][0], 2),
            "contribution_n": means["contrib"][1],
            "confidence_pct_mean": rounded(means["conf"][0], 2),
            "confidence_n": means["conf"][1],
            "adjusted_share_mean": rounded(adj["share"], 4) if int(adj["n"]) else None,
            "adjusted_n": int(adj["n"]),
        },
    }


def _by_persona(
    pairs: ir.Table, people: ir.Table, plan: ImpactPlan, skills: list[dict[str, Any]], k: int
) -> list[dict[str, Any]]:
    """Gain per persona and skill, suppressed within each skill below ``k`` people."""
    joined = pairs.left_join(people.select("person_id", "persona"), "person_id")
    joined = joined.mutate(persona=joined.persona.fill_null(NOT_SET))
    frame = joined.group_by(["persona", "skill"]).aggregate(**_gain_aggregates(joined))
    found = {(r["persona"], r["skill"]): r for r in frame.to_pandas().to_dict("records")}
    empty = {"n": 0, "pre_mean": None, "post_mean": None, "gain": None, "sd": None,
             "conf_change": None, "conf_n": 0, "rescaled": False}  # fmt: skip
    out: list[dict[str, Any]] = []
    for skill in skills:
        rows = [
            {
                "persona": p,
                "skill": skill["skill"],
                **_gain_figures(found.get((p, skill["skill"]), empty)),
            }
            for p in plan.personas
        ]
        out.extend(suppress_groups(rows, "n", k, total=skill["n"]))
    return out


def learner_metrics(
    tables: Mapping[str, ir.Table], plan: ImpactPlan, *, min_group_size: int
) -> dict[str, Any]:
    """Skill gain per skill, confidence change, applying share and participant estimates.

    Skill rows pair each person's pre and post scores (exempt and control-arm people
    left out) on a 0-100 scale: scores with ``max_score`` are rescaled from
    ``min_score`` (0 when absent) to ``max_score``; others are taken as already 0-100.
    Anonymous survey responses count in the shares and means, never in pairings.

    Args:
        tables: The store's tables by name (people, participation, assessments, surveys).
        plan: The program's impact plan.
        min_group_size: The privacy threshold for skills and the persona breakdown.

    Returns:
        A JSON-able dict with ``skills``, ``confidence_change``, ``applying_share``,
        ``scrap_learning``, ``participant_estimates`` and ``by_persona``.
    """
    pairs = _pairs(_program_assessments(tables, plan.program))
    frame = pairs.group_by("skill").aggregate(**_gain_aggregates(pairs)).order_by("skill")
    skills = [
        {"skill": r["skill"], **_gain_figures(r)} for r in frame.to_pandas().to_dict("records")
    ]
    overall = pairs.aggregate(**_gain_aggregates(pairs)).to_pandas().iloc[0]
    conf_n = int(overall["conf_n"] or 0)
    conf_change, source = (
        (rounded(overall["conf_change"], 3), "assessments") if conf_n else (None, None)
    )
    surv = program_surveys(tables["surveys"], plan.program)
    if not conf_n:
        conf_change, conf_n = _survey_confidence(surv)
        source = "surveys" if conf_n else None
    parts = program_participants(tables["participation"], plan.program)
    exempt = count_of(parts.count(where=parts.status == "exempt").to_pandas())
    by_persona = (
        _by_persona(pairs, tables["people"], plan, skills, min_group_size) if plan.personas else []
    )
    gone = expired_totals(tables, plan)
    warnings = []
    if gone is not None and (gone.assessments or gone.answers):
        # pairs and per-person shares need each person's rows: totals cannot rebuild them
        warnings.append(
            gone.warning("learner gain, confidence change and the adjusted participant share count")
        )
    return {
        # a skill measured on fewer people than the threshold is hidden like any small group
        "skills": suppress_groups(skills, "n", min_group_size, total=None),
        "pairs": count_of(overall["n"]),
        "exempt_excluded": exempt,
        "scale": "0-100 (rescaled from min_score-max_score where given)",
        "confidence_change": conf_change,
        "confidence_change_n": conf_n,
        "confidence_source": source,
        **_application(surv, gone),
        "by_persona": by_persona,
        "mean_gain": rounded(overall["gain"], 3),
        "warnings": warnings,
    }
