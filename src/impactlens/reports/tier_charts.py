"""Small charts for the three tiers of the first screen: reach, skills, KPI change.

Same palette and encodings as :mod:`impactlens.reports.charts`, sized to sit three
across on a laptop screen.
"""

from __future__ import annotations

from typing import Any

import altair as alt

from impactlens.domain.result import KpiResult
from impactlens.reports.charts import (
    COMPARISON,
    NEUTRAL,
    TRAINED,
    TRAINED_COLOUR,
    chart_title,
    empty_chart,
    finish_spec,
    group_encodings,
)
from impactlens.reports.format import as_float, decimals_for, fmt_number, fmt_pct, kpi_label

SMALL_W, SMALL_H = 220, 80


def reach_chart(operational: dict[str, Any]) -> dict[str, Any]:
    """Funnel of eligible, enrolled and completed people.

    Examples:
        >>> reach_chart({"eligible": 100, "enrolled": 40, "completed": 30})["mark"]["type"]
        'bar'
    """
    steps = [("Eligible", "eligible"), ("Enrolled", "enrolled"), ("Completed", "completed")]
    rows = [{"step": name, "people": as_float(operational.get(key))} for name, key in steps]
    rows = [r for r in rows if r["people"] is not None]
    if not rows:
        return empty_chart("No participation counts", width=SMALL_W, height=SMALL_H)
    rate = as_float(operational.get("completion_rate"))
    text = f"{fmt_pct(rate)} of enrolled completed" if rate is not None else "Reach"
    chart = (
        alt.Chart(alt.Data(values=rows), title=chart_title(text, size=12))
        .mark_bar(color=TRAINED_COLOUR)
        .encode(
            x=alt.X("people:Q", title="People"),
            y=alt.Y("step:N", title=None, sort=[s for s, _ in steps]),
            tooltip=["step:N", alt.Tooltip("people:Q", format=",")],
        )
        .properties(width=SMALL_W, height=SMALL_H)
    )
    return finish_spec(chart)


def skill_chart(learner: dict[str, Any]) -> dict[str, Any]:
    """Mean score before and after per skill (a dumbbell: open = before, filled = after)."""
    rows: list[dict[str, Any]] = []
    for s in learner.get("skills") or []:
        if not isinstance(s, dict):
            continue
        pre, post = as_float(s.get("pre_mean")), as_float(s.get("post_mean"))
        if pre is not None and post is not None:
            rows.append({"skill": str(s.get("skill", "?")), "pre": pre, "post": post})
    if not rows:
        return empty_chart("No before/after assessments", width=SMALL_W, height=SMALL_H)
    gain = sum(r["post"] - r["pre"] for r in rows) / len(rows)
    text = f"Scores {'rose' if gain >= 0 else 'fell'} by {fmt_number(abs(gain), 1)} points"
    long = [
        {"skill": r["skill"], "when": w, "score": r[k]}
        for r in rows
        for w, k in (("Before", "pre"), ("After", "post"))
    ]
    y = alt.Y("skill:N", title=None)
    when = alt.Scale(domain=["Before", "After"], range=["#ffffff", TRAINED_COLOUR])
    chart = alt.layer(
        alt.Chart(alt.Data(values=rows))
        .mark_rule(color=NEUTRAL)
        .encode(
            x=alt.X("pre:Q", title="Score (higher is better)", scale=alt.Scale(zero=False)),
            x2="post:Q",
            y=y,
        ),
        alt.Chart(alt.Data(values=long))
        .mark_point(size=60, filled=False, strokeWidth=2, color=TRAINED_COLOUR)
        .encode(
            x="score:Q",
            y=y,
            fill=alt.Fill("when:N", scale=when, legend=alt.Legend(title=None)),
            tooltip=["skill:N", "when:N", alt.Tooltip("score:Q", format=".1f")],
        ),
        title=chart_title(text, size=12),
    )
    return finish_spec(chart.properties(width=SMALL_W, height=max(SMALL_H // 2, 26 * len(rows))))


def kpi_change_chart(row: dict[str, Any], kpi: KpiResult | None = None) -> dict[str, Any]:
    """Slope chart: the KPI before and after launch for trained vs comparison."""
    name = str(row.get("kpi", kpi.kpi if kpi else "KPI"))
    label = kpi_label(name)
    points: list[dict[str, Any]] = []
    for group, pre_key, post_key in (
        (TRAINED, "pre_treated", "post_treated"),
        (COMPARISON, "pre_comparison", "post_comparison"),
    ):
        pre, post = as_float(row.get(pre_key)), as_float(row.get(post_key))
        if pre is not None and post is not None:
            points += [
                {"group": group, "when": "Before", "value": pre},
                {"group": group, "when": "After", "value": post},
            ]
    if not points:
        return empty_chart(
            f"No before/after {label[:1].lower() + label[1:]}", width=SMALL_W, height=SMALL_H
        )
    changes = {p["group"]: 0.0 for p in points}
    for p in points:
        changes[p["group"]] += p["value"] if p["when"] == "After" else -p["value"]
    d = decimals_for(None, None, max(abs(c) for c in changes.values()) or 1.0)
    text = ", ".join(
        f"{g if i == 0 else g.lower()} {fmt_number(c, d, signed=True)}"
        for i, (g, c) in enumerate(changes.items())
    )
    better = ""
    if kpi is not None:
        better = "lower is better" if kpi.direction == "decrease" else "higher is better"
    enc = group_encodings(
        alt.X("when:N", title=None, sort=["Before", "After"], axis=alt.Axis(labelAngle=0)),
        alt.Y("value:Q", title=label, scale=alt.Scale(zero=False)),
    )
    base = alt.Chart(alt.Data(values=points))
    chart = alt.layer(
        base.mark_line(strokeWidth=2).encode(
            x=enc["x"], y=enc["y"], color=enc["color"], strokeDash=enc["strokeDash"]
        ),
        base.mark_point(filled=True, size=50).encode(
            x=enc["x"], y=enc["y"], color=enc["color"], shape=enc["shape"]
        ),
        title=chart_title(text, better.capitalize() or None, size=12),
    )
    return finish_spec(chart.properties(width=SMALL_W - 40, height=SMALL_H + 20))
