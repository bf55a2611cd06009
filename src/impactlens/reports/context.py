"""The report's view model: every number formatted and every chart rendered, ready for Jinja.

The template only lays things out; all wording and rounding lives here and in
:mod:`impactlens.reports.format`. Every read of the free-form dicts is defensive:
a missing figure shows as ``n/a``, never as a crash.
"""

from __future__ import annotations

from typing import Any

from markupsafe import Markup

from impactlens.domain.result import AnalysisResult, KpiResult
from impactlens.reports import charts, tier_charts
from impactlens.reports.format import (
    as_float,
    decimals_for,
    fmt_money,
    fmt_number,
    fmt_pct,
    kpi_label,
    next_step_sentence,
    primary_kpi,
    unit_noun,
    verdict_sentence,
)
from impactlens.reports.pilot_context import pilot_block, plan_changes
from impactlens.reports.tables import Table, mapping_table, records_table
from impactlens.reports.tables import header as header_text

# Method names (or parts of them) in plain words, most specific first.
_PLAIN_METHODS = [
    (
        "synthetic",
        "We built a weighted blend of untrained units whose KPI tracked the trained "
        "ones before launch, and compared the two afterwards.",
    ),
    (
        "staggered",
        "Groups started at different dates; each group was compared with units not "
        "yet trained at the same time, and the results were averaged "
        "(Callaway & Sant'Anna 2021).",
    ),
    (
        "randomis",
        "People or teams were assigned at random to take the program now or later, so "
        "the two groups differ only by chance; we compare their KPI after launch.",
    ),
    (
        "difference",
        "We compared how the KPI changed for trained people with how it changed for "
        "similar untrained people over the same periods (difference-in-differences).",
    ),
    (
        "before",
        "We compared the KPI before and after the program for trained people only; "
        "anything else that changed at the same time is mixed into this number.",
    ),
    (
        "trend",
        "We projected the pre-launch trend forward and compared it with what happened; "
        "anything else that changed at the same time is mixed into this number.",
    ),
]


def as_dict(value: Any) -> dict[str, Any]:
    """``value`` when it is a dict, else an empty one (free-form input may hold anything)."""
    return value if isinstance(value, dict) else {}


def _svg(spec: dict[str, Any]) -> Markup:
    if charts.is_empty(spec):
        # Nothing to draw: say why in a line of text rather than an empty frame.
        message = spec.get("title", {}).get("text", "No data")
        return Markup('<p class="no-chart">{}</p>').format(message)
    # vl-convert escapes all text it draws; the markup is ours, so mark it safe.
    return Markup(charts.to_svg(spec))


def fmt_p(p: float | None) -> str:
    """A p-value with the precision it deserves.

    Examples:
        >>> fmt_p(0.67), fmt_p(0.0412), fmt_p(0.0001)
        ('0.67', '0.041', '< 0.001')
    """
    if p is None:
        return "n/a"
    return "< 0.001" if p < 0.001 else f"{p:.2f}" if p >= 0.1 else f"{p:.3f}"


def plain_method(method: str) -> str:
    """A method's name explained in one sentence.

    Examples:
        >>> plain_method("matched difference-in-differences")[:24]
        'We compared how the KPI '
    """
    low = method.lower()
    for key, text in _PLAIN_METHODS:
        if key in low:
            return text
    return "There was too little data to estimate an effect." if low in {"", "none"} else method


def _period(result: AnalysisResult) -> str:
    plan = as_dict(result.plan)
    for key in ("period", "period_covered"):
        if plan.get(key):
            return str(plan[key])
    periods = sorted({p.period for k in result.kpis for p in k.trend})
    if not periods:
        return "n/a"
    return periods[0] if periods[0] == periods[-1] else f"{periods[0]} to {periods[-1]}"


def _launch(kpi: KpiResult, result: AnalysisResult) -> str | None:
    # The analysis puts the launch on the business row; diagnostics or the plan may too.
    business = as_dict(as_dict(result.metrics).get("business")).get("kpis") or []
    rows = [r for r in business if isinstance(r, dict) and r.get("kpi") == kpi.kpi]
    for source in (*rows, kpi.diagnostics, as_dict(result.plan)):
        value = source.get("launch") or source.get("first_exposed_period")
        if value:
            return str(value)
    return None


def header(result: AnalysisResult) -> dict[str, Any]:
    """Program, objective, sponsor and period for the first screen."""
    plan = as_dict(result.plan)
    objective = as_dict(plan.get("objective"))
    return {
        "title": result.title or plan.get("title") or result.program,
        "program": result.program,
        "outcome": objective.get("outcome"),
        "behaviours": [str(b) for b in objective.get("behaviours") or []],
        "sponsor": plan.get("sponsor") or "n/a",
        "period": _period(result),
    }


def _tier(
    name: str,
    question: str,
    number: str,
    caption: str,
    lines: list[tuple[str, str]],
    spec: dict[str, Any],
) -> dict[str, Any]:
    return {
        "name": name,
        "question": question,
        "number": number,
        "caption": caption,
        "lines": lines,
        "svg": _svg(spec),
    }


def tiers(result: AnalysisResult) -> list[dict[str, Any]]:
    """The three tiers: operational, learner goal, business."""
    metrics = as_dict(result.metrics)
    op = as_dict(metrics.get("operational"))
    learner = as_dict(metrics.get("learner"))
    business = as_dict(metrics.get("business"))
    eligible, enrolled = as_float(op.get("eligible")), as_float(op.get("enrolled"))
    reach = fmt_pct(enrolled / eligible) if eligible and enrolled is not None else "n/a"
    sat = as_float(op.get("satisfaction_mean"))
    operational = _tier(
        "Operational",
        "Did the program run?",
        fmt_pct(as_float(op.get("completion_rate"))),
        "completed, of those enrolled",
        [
            (
                "Reach",
                f"{fmt_number(enrolled)} of {fmt_number(eligible)} eligible ({reach})"
                if eligible
                else f"{fmt_number(enrolled)} enrolled",
            ),
            ("Satisfaction", f"{fmt_number(sat, 1)}/5" if sat is not None else "n/a"),
            ("Learning hours", fmt_number(as_float(op.get("learning_hours")), 0)),
        ],
        tier_charts.reach_chart(op),
    )
    skills = [s for s in learner.get("skills") or [] if isinstance(s, dict)]
    gains = [g for g in (as_float(s.get("gain")) for s in skills) if g is not None]
    conf = as_float(learner.get("confidence_change"))
    learn = _tier(
        "Learner goal",
        "Do people do things differently?",
        fmt_pct(as_float(learner.get("applying_share"))),
        "say they apply it on the job",
        [
            (
                "Skill gain",
                f"{fmt_number(sum(gains) / len(gains), 1, signed=True)} points (mean of "
                f"{len(gains)} skill{'s' if len(gains) != 1 else ''})"
                if gains
                else "n/a",
            ),
            (
                "Confidence",
                f"{fmt_number(conf, 1, signed=True)} on a 1-5 scale" if conf is not None else "n/a",
            ),
        ],
        tier_charts.skill_chart(learner),
    )
    kpi = primary_kpi(result)
    rows = [r for r in business.get("kpis") or [] if isinstance(r, dict)]
    row = next((r for r in rows if kpi and r.get("kpi") == kpi.kpi), rows[0] if rows else {})
    if kpi is not None and kpi.effect is not None:
        d = decimals_for(kpi.ci_low, kpi.ci_high, kpi.effect)
        number = fmt_number(kpi.effect, d, signed=True)
        caption = f"{kpi_label(kpi.kpi).lower()} per {unit_noun(kpi, 1)} vs comparison"
        lines = [
            (
                "Interval (95%)",
                f"{fmt_number(kpi.ci_low, d, signed=True)} to "
                f"{fmt_number(kpi.ci_high, d, signed=True)}",
            ),
            ("Relative", fmt_pct(kpi.relative_effect, signed=True)),
            ("Evidence", kpi.evidence),
        ]
    else:
        number, caption = "n/a", "business KPI change vs comparison"
        lines = [("Evidence", kpi.evidence if kpi else "none")]
    bus = _tier(
        "Business",
        "Did the KPI move?",
        number,
        caption,
        lines,
        tier_charts.kpi_change_chart(row, kpi),
    )
    return [operational, learn, bus]


def worth(result: AnalysisResult) -> dict[str, Any]:
    """Benefits, costs, ROI range and break-even."""
    roi = result.roi
    cur = roi.currency or "EUR"
    low, high = roi.roi_pct_low, roi.roi_pct_high
    if low is not None and high is not None:
        rng = f"ROI between {fmt_number(min(low, high), 0)}% and {fmt_number(max(low, high), 0)}%"
    elif roi.roi_pct is not None:
        rng = f"ROI {fmt_number(roi.roi_pct, 0)}%"
    else:
        rng = "ROI not computed (costs or the value of one unit of KPI are missing)"
    if roi.break_even_months is not None:
        rng += f"; break-even within {fmt_number(roi.break_even_months, 0)} months"
    benefits = fmt_money(roi.benefits, cur)
    if roi.benefits_low is not None and roi.benefits_high is not None:
        benefits += (
            f" (between {fmt_money(roi.benefits_low, cur)} and {fmt_money(roi.benefits_high, cur)})"
        )
    return {
        "sentence": rng,
        "benefits": benefits,
        "costs": fmt_money(roi.costs, cur),
        "bcr": fmt_number(roi.bcr, 2),
        "svg": _svg(charts.roi_range_chart(roi)),
        "conventions": roi.conventions,
        "intangibles": roi.intangibles,
        "ledger": [(line.step, fmt_number(line.value), line.detail) for line in roi.ledger],
        "costs_table": records_table(roi.cost_items, "Fully loaded costs, item by item"),
        "sensitivity": records_table(
            roi.sensitivity, "ROI when one assumption changes (the others as planned)"
        ),
        "rules": [
            (r.get("principle"), "applied" if r.get("applied") else "off", r.get("effect"))
            for r in roi.rules
        ],
        "participant": _participant_sentence(roi.participant_estimate, cur),
    }


def _participant_sentence(estimate: dict[str, Any] | None, cur: str) -> str | None:
    """The participants' own estimate beside the measured benefit, labelled as weakest."""
    if not estimate:
        return None
    text = (
        f"Participants' own estimate (contribution x confidence, the weakest isolation "
        f"method): {fmt_money(as_float(estimate.get('benefits')), cur)}"
    )
    off = as_float(estimate.get("off_by_pct"))
    if off is not None:
        text += (
            f", {fmt_number(abs(off), 0)}% {'below' if off < 0 else 'above'} the measured "
            f"{fmt_money(as_float(estimate.get('measured_benefits')), cur)}"
        )
    return text


def kpi_detail(kpi: KpiResult, result: AnalysisResult) -> dict[str, Any]:
    """One KPI's estimate, charts and balance for the analyst section."""
    d = decimals_for(kpi.ci_low, kpi.ci_high, kpi.effect)
    balance = [
        {
            "covariate": b.covariate,
            "mean_treated": b.mean_treated,
            "mean_comparison": b.mean_comparison,
            "smd_before": b.smd_before,
            "smd_after": b.smd_after,
        }
        for b in kpi.balance
    ]
    return {
        "id": kpi.kpi,
        "label": kpi_label(kpi.kpi),
        "better": "lower is better" if kpi.direction == "decrease" else "higher is better",
        "effect": fmt_number(kpi.effect, d, signed=True),
        "interval": (
            f"{fmt_number(kpi.ci_low, d, signed=True)} to {fmt_number(kpi.ci_high, d, signed=True)}"
        ),
        "relative": fmt_pct(kpi.relative_effect, 1, signed=True),
        "p_value": fmt_p(kpi.p_value),
        "naive": fmt_number(kpi.naive_effect, d, signed=True),
        "target_met": {True: "yes", False: "no", None: "n/a"}[kpi.target_met],
        "evidence": kpi.evidence,
        "reasons": kpi.evidence_reasons,
        "method": kpi.method,
        "plain": plain_method(kpi.method),
        "n": f"{kpi.n_treated:,} trained, {kpi.n_comparison:,} comparison {unit_noun(kpi)}",
        "trend_svg": _svg(charts.kpi_trend_chart(kpi, _launch(kpi, result))),
        "event_svg": _svg(charts.event_study_chart(kpi)),
        "synthetic_svg": (
            _svg(charts.synthetic_chart(kpi)) if kpi.diagnostics.get("synthetic_path") else None
        ),
        "balance_svg": _svg(charts.balance_chart(kpi)) if kpi.balance else None,
        "balance": records_table(balance, "Trained vs comparison, before and after weighting"),
        # the synthetic path is drawn as a chart, not listed
        "diagnostics": mapping_table(
            {k: v for k, v in kpi.diagnostics.items() if k != "synthetic_path"}, "Diagnostics"
        ),
    }


def breakdowns(result: AnalysisResult) -> list[Table]:
    """Effects and figures by persona and segment, hidden below the privacy threshold."""
    plan = as_dict(result.plan)
    privacy = as_dict(plan.get("privacy"))
    n = int(as_float(privacy.get("min_group_size") or plan.get("min_group_size")) or 5)
    tables = []
    if result.segments:
        tables.append(records_table(result.segments, "Effects by segment", min_group_size=n))
    for tier in ("operational", "learner"):
        data = as_dict(as_dict(result.metrics).get(tier))
        for key in ("by_persona", "by_segment"):
            rows = data.get(key)
            if isinstance(rows, list) and rows:
                caption = f"{tier.capitalize()} figures {key.replace('_', ' ')}"
                tables.append(records_table(rows, caption, min_group_size=n))
    return tables


def data_quality(result: AnalysisResult) -> list[Table]:
    """The data-health dict as tables, whatever its shape."""
    tables: list[Table] = []
    flat: dict[str, Any] = {}
    for key, value in (result.data_health or {}).items():
        if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            tables.append(records_table(value, header_text(key)))
        elif isinstance(value, dict) and value:
            tables.append(mapping_table(value, header_text(key), kind=key))
        else:
            flat[key] = value
    if flat:
        tables.insert(0, mapping_table(flat, "Overview"))
    op = as_dict(as_dict(result.metrics).get("operational"))
    if op.get("response_rate") is not None:
        tables.append(
            mapping_table({"response_rate": as_float(op.get("response_rate"))}, "Survey response")
        )
    return tables


def report_context(result: AnalysisResult) -> dict[str, Any]:
    """Everything the template shows, formatted."""
    return {
        "head": header(result),
        "verdict": result.verdict or verdict_sentence(result),
        "vanity": as_dict(result.metrics).get("vanity_flag"),
        "tiers": tiers(result),
        "worth": worth(result),
        "next_step": next_step_sentence(result),
        "kpis": [kpi_detail(k, result) for k in result.kpis],
        "breakdowns": breakdowns(result),
        "quality": data_quality(result),
        "warnings": result.warnings,
        "provenance": result.provenance,
        "pilot": pilot_block(result),
        "plan_changes": plan_changes(result),
    }
