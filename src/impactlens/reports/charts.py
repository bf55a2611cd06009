"""Vega-Lite chart specs of the impact report, built with Altair, and their static SVG.

Specs are plain dicts with the data inline, so the web dashboard can embed the very
same specs interactively. Colours follow the Okabe-Ito palette (safe for colour
blindness); trained vs comparison also differ by dash and point shape, so the
charts read in greyscale print too.
"""

from __future__ import annotations

import html
import re
from typing import Any

import altair as alt
import vl_convert

from impactlens.domain.result import KpiResult, RoiResult
from impactlens.reports.format import excludes_zero, fmt_number, kpi_label, unit_noun

TRAINED, COMPARISON = "Trained", "Comparison"
TRAINED_COLOUR, COMPARISON_COLOUR = "#0072B2", "#D55E00"  # Okabe-Ito blue / vermillion
NEUTRAL = "#595959"  # 7:1 on white
WIDTH, HEIGHT = 560, 240
_GROUPS = [TRAINED, COMPARISON]
COLOUR_SCALE = alt.Scale(domain=_GROUPS, range=[TRAINED_COLOUR, COMPARISON_COLOUR])
DASH_SCALE = alt.Scale(domain=_GROUPS, range=[[1, 0], [6, 4]])
SHAPE_SCALE = alt.Scale(domain=_GROUPS, range=["circle", "square"])
_CONFIG: dict[str, Any] = {
    # The same wide font the browser picks on Debian, so labels measured by vl-convert fit.
    "font": "DejaVu Sans, Verdana, sans-serif",
    "padding": 8,
    "title": {"anchor": "start", "fontSize": 14, "subtitleColor": NEUTRAL, "subtitleFontSize": 11},
    "axis": {"labelFontSize": 11, "titleFontSize": 11, "labelColor": "#333", "titleColor": "#333"},
    "legend": {"labelFontSize": 11, "titleFontSize": 11, "orient": "bottom"},
    "view": {"stroke": None},
}


def chart_title(text: str, subtitle: str | None = None, *, size: int = 14) -> alt.TitleParams:
    """A chart title that states the finding, with an optional subtitle."""
    return alt.TitleParams(text=text, subtitle=subtitle or alt.Undefined, fontSize=size)


def finish_spec(chart: alt.TopLevelMixin) -> dict[str, Any]:
    """The chart as a plain Vega-Lite dict with the report's shared config."""
    spec: dict[str, Any] = chart.to_dict()
    spec["config"] = {**_CONFIG, **spec.get("config", {})}
    return spec


def _better(kpi: KpiResult) -> str:
    return "lower is better" if kpi.direction == "decrease" else "higher is better"


def empty_chart(message: str, *, width: int = WIDTH, height: int = 60) -> dict[str, Any]:
    """A chart that says why there is nothing to draw (still a valid spec).

    Examples:
        >>> empty_chart("No data")["mark"]["type"]
        'text'
    """
    chart = (
        alt.Chart(alt.Data(values=[{"m": message}]), title=chart_title(message))
        .mark_text(color=NEUTRAL, fontSize=12, text="")
        .properties(width=width, height=height, usermeta={"empty": True})
    )
    return finish_spec(chart)


def is_empty(spec: dict[str, Any]) -> bool:
    """Whether ``spec`` is an :func:`empty_chart` (the report then prints its message instead)."""
    return bool((spec.get("usermeta") or {}).get("empty"))


def group_encodings(x: alt.X, y: alt.Y) -> dict[str, Any]:
    """Encodings that keep trained vs comparison consistent (colour, dash and shape)."""
    legend = alt.Legend(title=None, symbolStrokeWidth=2, symbolSize=80)
    return {
        "x": x,
        "y": y,
        "color": alt.Color("group:N", scale=COLOUR_SCALE, legend=legend),
        "strokeDash": alt.StrokeDash("group:N", scale=DASH_SCALE, legend=legend),
        "shape": alt.Shape("group:N", scale=SHAPE_SCALE, legend=legend),
    }


def kpi_trend_chart(kpi: KpiResult, launch: str | None) -> dict[str, Any]:
    """KPI over time, trained vs comparison, the launch marked by a rule.

    Examples:
        >>> from impactlens.domain.result import TrendPoint
        >>> k = KpiResult(kpi="csat", direction="increase", effect=None, ci_low=None,
        ...     ci_high=None, p_value=None, relative_effect=None, method="", n_treated=0,
        ...     n_comparison=0, evidence="none", evidence_reasons=[], target_met=None,
        ...     trend=[TrendPoint(period="2025-01-31", group="treated", mean=3.0, n=9)])
        >>> kpi_trend_chart(k, "2025-01-31")["layer"][0]["mark"]["type"]
        'line'
    """
    label = kpi_label(kpi.kpi)
    rows: list[dict[str, Any]] = [
        {
            "period": p.period,
            "group": TRAINED if p.group == "treated" else COMPARISON,
            "mean": p.mean,
            "n": p.n,
        }
        for p in kpi.trend
        if p.mean is not None
    ]
    if not rows:
        return empty_chart(f"No {label} series to show yet")
    units = unit_noun(kpi)
    if excludes_zero(kpi) and kpi.effect is not None:
        verb = "fell" if kpi.effect < 0 else "rose"
        text = f"{label} {verb} after launch for trained {units}, relative to the comparison group"
    elif kpi.effect is not None:
        lower = label[:1].lower() + label[1:]
        text = f"After launch, {lower} moved alike for trained and comparison {units}"
    else:
        text = f"{label} over time, trained vs comparison {units}"
    sub = f"Mean per {unit_noun(kpi, 1)} and period; {_better(kpi)}"
    if launch:
        sub += "; the vertical line marks the launch"
    if any(p.mean is None and p.n > 0 for p in kpi.trend):
        sub += "; points of groups under the privacy threshold are hidden"
    base = alt.Chart(alt.Data(values=rows))
    enc = group_encodings(
        alt.X("period:T", title="Period (end date)"),
        alt.Y("mean:Q", title=f"{label} ({_better(kpi)})", scale=alt.Scale(zero=False)),
    )
    tooltip = [
        alt.Tooltip("group:N"),
        alt.Tooltip("period:T"),
        alt.Tooltip("mean:Q", format=".3~f"),
        alt.Tooltip("n:Q"),
    ]
    layers: list[Any] = [
        base.mark_line(strokeWidth=2).encode(
            x=enc["x"], y=enc["y"], color=enc["color"], strokeDash=enc["strokeDash"]
        ),
        base.mark_point(filled=True, size=45).encode(
            x=enc["x"], y=enc["y"], color=enc["color"], shape=enc["shape"], tooltip=tooltip
        ),
    ]
    if launch:
        mark = alt.Chart(alt.Data(values=[{"period": launch, "label": "launch"}]))
        layers.append(mark.mark_rule(color=NEUTRAL, strokeDash=[2, 2]).encode(x="period:T"))
        layers.append(
            mark.mark_text(
                align="left", dx=4, dy=-4, color=NEUTRAL, baseline="top", fontSize=11
            ).encode(x="period:T", text="label:N", y=alt.value(0))
        )
    chart = alt.layer(*layers, title=chart_title(text, sub)).properties(width=WIDTH, height=HEIGHT)
    return finish_spec(chart)


def event_study_chart(kpi: KpiResult) -> dict[str, Any]:
    """Effect by periods since launch, with the pre-launch placebo periods."""
    label = kpi_label(kpi.kpi)
    rows: list[dict[str, Any]] = [
        {
            "event_time": p.event_time,
            "effect": p.effect,
            "ci_low": p.ci_low,
            "ci_high": p.ci_high,
            "phase": "Before launch (placebo)" if p.event_time < 0 else "After launch",
        }
        for p in kpi.by_event_time
        if p.effect is not None
    ]
    if not rows:
        return empty_chart(f"No event-time estimates for {label}")
    pre = [r for r in rows if r["event_time"] < 0]
    flat = all(r["ci_low"] is None or r["ci_low"] <= 0 <= r["ci_high"] for r in pre)
    first = (
        "Before launch the groups moved together"
        if pre and flat
        else "Before launch the groups already drifted apart"
        if pre
        else "No pre-launch periods to check"
    )
    if excludes_zero(kpi) and kpi.effect is not None:
        second = f"after it, {label[:1].lower() + label[1:]} {'fell' if kpi.effect < 0 else 'rose'}"
    else:
        second = "after it, no clear change"
    sub = f"Trained minus comparison, with 95% intervals; {_better(kpi)}"
    phase_scale = alt.Scale(
        domain=["Before launch (placebo)", "After launch"], range=[NEUTRAL, TRAINED_COLOUR]
    )
    legend = alt.Legend(title=None)
    times = [r["event_time"] for r in rows]
    # Half a period of room either side, so the end points are not cut in half.
    x = alt.X(
        "event_time:Q",
        title="Periods since launch (0 = first trained period)",
        axis=alt.Axis(tickMinStep=1, format="d"),
        scale=alt.Scale(domain=[min(times) - 0.5, max(times) + 0.5], nice=False),
    )
    base = alt.Chart(alt.Data(values=rows))
    bars = (
        base.transform_filter("datum.ci_low != null")
        .mark_rule(strokeWidth=2)
        .encode(
            x=x,
            y=alt.Y("ci_low:Q", title=f"Effect on {label[:1].lower() + label[1:]}"),
            y2="ci_high:Q",
            color=alt.Color("phase:N", scale=phase_scale, legend=legend),
        )
    )
    dots = base.mark_point(filled=True, size=60).encode(
        x=x,
        y="effect:Q",
        color=alt.Color("phase:N", scale=phase_scale, legend=legend),
        shape=alt.Shape(
            "phase:N",
            scale=alt.Scale(domain=phase_scale.domain, range=["diamond", "circle"]),
            legend=legend,
        ),
        tooltip=[
            alt.Tooltip("event_time:Q"),
            alt.Tooltip("effect:Q", format=".3~f"),
            alt.Tooltip("ci_low:Q", format=".3~f"),
            alt.Tooltip("ci_high:Q", format=".3~f"),
        ],
    )
    zero = alt.Chart(alt.Data(values=[{"y": 0}])).mark_rule(color="#999").encode(y="y:Q")
    cut = alt.Chart(alt.Data(values=[{"x": -0.5}])).mark_rule(color=NEUTRAL, strokeDash=[2, 2])
    chart = alt.layer(
        zero, cut.encode(x="x:Q"), bars, dots, title=chart_title(f"{first}; {second}", sub)
    )
    return finish_spec(chart.properties(width=WIDTH, height=HEIGHT))


SYNTHETIC = "Synthetic comparison"


def synthetic_chart(kpi: KpiResult) -> dict[str, Any]:
    """Trained units vs their synthetic comparison over time, the launch marked.

    Reads ``synthetic_path`` (period, actual, synthetic) and ``synthetic_launch`` from
    the diagnostics of a synthetic control or synthetic DiD estimate.

    Examples:
        >>> k = KpiResult(kpi="sales", direction="increase", effect=None, ci_low=None,
        ...     ci_high=None, p_value=None, relative_effect=None, method="", n_treated=1,
        ...     n_comparison=9, evidence="none", evidence_reasons=[], target_met=None,
        ...     diagnostics={"synthetic_launch": "2025-02-28", "synthetic_path": [
        ...         {"period": "2025-01-31", "actual": 3.0, "synthetic": 3.1}]})
        >>> synthetic_chart(k)["layer"][0]["mark"]["type"]
        'line'
    """
    label = kpi_label(kpi.kpi)
    path = kpi.diagnostics.get("synthetic_path") or []
    rows = [
        {"period": p["period"], "group": g, "mean": p[key]}
        for p in path
        for g, key in ((TRAINED, "actual"), (SYNTHETIC, "synthetic"))
        if p.get(key) is not None
    ]
    if not rows:
        return empty_chart(f"No synthetic comparison for {label}")
    units = unit_noun(kpi, kpi.n_treated)
    if excludes_zero(kpi) and kpi.effect is not None:
        verb = "fell" if kpi.effect < 0 else "rose"
        their = "its" if kpi.n_treated == 1 else "their"
        text = f"{label} {verb} after launch for the trained {units} against {their} synthetic twin"
    else:
        text = f"After launch the trained {units} tracked the synthetic comparison"
    donors = kpi.diagnostics.get("n_donors")
    blend = f"a blend of {donors} untrained {unit_noun(kpi)}" if donors else "a blend"
    sub = f"Synthetic comparison: {blend} fitted before launch; dotted line: launch; {_better(kpi)}"
    groups = [TRAINED, SYNTHETIC]
    legend = alt.Legend(title=None, symbolStrokeWidth=2, symbolSize=80)
    x = alt.X("period:T", title="Period (end date)")
    y = alt.Y("mean:Q", title=f"{label} ({_better(kpi)})", scale=alt.Scale(zero=False))
    colour = alt.Color(
        "group:N", scale=alt.Scale(domain=groups, range=COLOUR_SCALE.range), legend=legend
    )
    dash = alt.StrokeDash(
        "group:N", scale=alt.Scale(domain=groups, range=DASH_SCALE.range), legend=legend
    )
    base = alt.Chart(alt.Data(values=rows))
    layers: list[Any] = [
        base.mark_line(strokeWidth=2).encode(
            x=x,
            y=y,
            color=colour,
            strokeDash=dash,
            tooltip=[
                alt.Tooltip("group:N"),
                alt.Tooltip("period:T"),
                alt.Tooltip("mean:Q", format=".3~f"),
            ],
        )
    ]
    launch = kpi.diagnostics.get("synthetic_launch")
    if launch:
        mark = alt.Chart(alt.Data(values=[{"period": launch, "label": "launch"}]))
        layers.append(mark.mark_rule(color=NEUTRAL, strokeDash=[2, 2]).encode(x="period:T"))
        layers.append(
            mark.mark_text(
                align="left", dx=4, dy=-4, color=NEUTRAL, baseline="top", fontSize=11
            ).encode(x="period:T", text="label:N", y=alt.value(0))
        )
    chart = alt.layer(*layers, title=chart_title(text, sub)).properties(width=WIDTH, height=HEIGHT)
    return finish_spec(chart)


def balance_chart(kpi: KpiResult) -> dict[str, Any]:
    """Absolute standardised mean differences before and after weighting, 0.1 marked."""
    rows: list[dict[str, Any]] = []
    for b in kpi.balance:
        for stage, smd in (("Before weighting", b.smd_before), ("After weighting", b.smd_after)):
            if smd is not None:
                rows.append({"covariate": b.covariate, "stage": stage, "abs_smd": abs(smd)})
    if not rows:
        return empty_chart("No covariate balance to show (no comparison weighting)")
    after = [r for r in rows if r["stage"] == "After weighting"]
    off = sum(r["abs_smd"] >= 0.1 for r in after)
    text = (
        "After weighting, every covariate is balanced"
        if after and not off
        else f"{off} covariate(s) still differ after weighting"
        if after
        else "Balance before weighting"
    )
    stages = ["Before weighting", "After weighting"]
    stage_scale = alt.Scale(domain=stages, range=["#999999", "#000000"])
    legend = alt.Legend(title=None)
    dots = (
        alt.Chart(alt.Data(values=rows))
        .mark_point(size=70, strokeWidth=2)
        .encode(
            x=alt.X(
                "abs_smd:Q",
                title="Absolute standardised mean difference (lower is better)",
                scale=alt.Scale(domain=[0, max(0.12, 1.1 * max(r["abs_smd"] for r in rows))]),
            ),
            y=alt.Y("covariate:N", title=None, sort=None),
            color=alt.Color("stage:N", scale=stage_scale, legend=legend),
            shape=alt.Shape(
                "stage:N",
                scale=alt.Scale(domain=stage_scale.domain, range=["circle", "diamond"]),
                legend=legend,
            ),
            fill=alt.Fill(
                "stage:N",
                scale=alt.Scale(domain=stage_scale.domain, range=["#ffffff", "#000000"]),
                legend=None,
            ),
            tooltip=["covariate:N", "stage:N", alt.Tooltip("abs_smd:Q", format=".3f")],
        )
    )
    rule = (
        alt.Chart(alt.Data(values=[{"x": 0.1}]))
        .mark_rule(color=TRAINED_COLOUR, strokeDash=[4, 3])
        .encode(x="x:Q")
    )
    height = max(60, 22 * len({r["covariate"] for r in rows}))
    sub = "Dashed line: 0.1, the balance threshold"
    chart = alt.layer(rule, dots, title=chart_title(text, sub))
    return finish_spec(chart.properties(width=WIDTH - 120, height=height))


def roi_range_chart(roi: RoiResult) -> dict[str, Any]:
    """ROI range from the effect's interval, with break-even (0%) marked."""
    pts = [v for v in (roi.roi_pct_low, roi.roi_pct, roi.roi_pct_high) if v is not None]
    if not pts:
        return empty_chart("ROI not computed (costs or value per unit missing)", width=WIDTH - 120)
    low, high = min(pts), max(pts)
    text = f"ROI between {fmt_number(low, 0)}% and {fmt_number(high, 0)}%" + (
        ": positive even at the low end"
        if low > 0
        else ": a loss across the whole range"
        if high < 0
        else ": a loss is possible"
    )
    best = roi.roi_pct if roi.roi_pct is not None else (low + high) / 2
    row = {"low": low, "high": high, "roi": best, "y": "ROI"}
    base = alt.Chart(alt.Data(values=[row]))
    x = alt.X(
        "low:Q",
        title="Return on investment (%) — higher is better",
        scale=alt.Scale(domain=[min(low, 0) - 10, max(high, 0) + 10]),
    )
    chart = alt.layer(
        alt.Chart(alt.Data(values=[{"x": 0, "t": "break-even"}]))
        .mark_rule(color=NEUTRAL)
        .encode(x="x:Q"),
        base.mark_rule(strokeWidth=10, color=TRAINED_COLOUR, opacity=0.35).encode(
            x=x, x2="high:Q", y=alt.Y("y:N", title=None, axis=None)
        ),
        base.mark_point(filled=True, size=120, color=TRAINED_COLOUR, shape="diamond").encode(
            x="roi:Q", y=alt.Y("y:N", axis=None)
        ),
        title=chart_title(
            text,
            "Bar: range from the effect's 95% interval; diamond: best estimate; line: break-even",
        ),
    )
    return finish_spec(chart.properties(width=WIDTH - 120, height=50))


def _title_text(spec: dict[str, Any]) -> str:
    title = spec.get("title")
    if isinstance(title, dict):
        parts = [title.get("text"), title.get("subtitle")]
        return ". ".join(str(p) for p in parts if isinstance(p, str) and p)
    return str(title) if title else "Chart"


def to_svg(spec: dict[str, Any], label: str | None = None) -> str:
    """Render a spec to inline SVG with a ``<title>`` and ``role="img"`` for screen readers."""
    svg = vl_convert.vegalite_to_svg(spec)
    text = html.escape(label or _title_text(spec), quote=True)
    svg = re.sub(r"^<svg ", lambda _: f'<svg role="img" aria-label="{text}" ', svg, count=1)
    return re.sub(r"^(<svg[^>]*>)", lambda m: f"{m.group(1)}<title>{text}</title>", svg, count=1)
