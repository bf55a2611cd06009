"""The vanity trap: a loved, well-attended program whose business KPIs did not move.

Users of today's tools judge success on satisfaction and consumption (methods.md);
Kirkpatrick's chain of evidence and Kadakia & Owens' "Track" action ask for the
level-3/4 change instead. This warning says so in plain words beside the numbers.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

HIGH_SATISFACTION = 4.0  # of 5
HIGH_COMPLETION = 0.8


def _num(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _improved(kpi: Mapping[str, Any]) -> bool:
    """Whether the KPI's 95% interval excludes zero on the side of its direction."""
    low, high = _num(kpi.get("ci_low")), _num(kpi.get("ci_high"))
    if low is None or high is None:
        return False
    return low > 0 if kpi.get("direction", "increase") == "increase" else high < 0


def _describe(kpi: Mapping[str, Any]) -> str:
    name = kpi.get("kpi", "a KPI")
    effect = _num(kpi.get("effect"))
    low, high = _num(kpi.get("ci_low")), _num(kpi.get("ci_high"))
    if effect is None or low is None or high is None:
        return f"{name} could not be estimated"
    span = f"{effect:+.3g}, 95% interval {low:+.3g} to {high:+.3g}"
    if low <= 0 <= high:
        return f"{name} changed by {span}, which includes zero"
    return f"{name} moved the wrong way ({span})"


def vanity_flag(operational: Mapping[str, Any], kpi_results: list[dict[str, Any]]) -> str | None:
    """A warning when learners loved or finished the program but no primary KPI improved.

    A KPI counts as improved when its 95% interval excludes zero in its ``direction``.
    The primary KPIs are those marked ``primary``; when none is, every KPI counts.

    Args:
        operational: The operational metrics (``satisfaction_mean``, ``completion_rate``).
        kpi_results: The contract's ``kpis[]`` entries (``kpi``, ``direction``,
            ``effect``, ``ci_low``, ``ci_high``, optional ``primary``).

    Returns:
        The plain-language warning, or None when there is nothing to warn about.

    Examples:
        >>> kpis = [{"kpi": "deals_closed", "direction": "increase",
        ...          "effect": 0.05, "ci_low": -0.3, "ci_high": 0.4, "primary": True}]
        >>> vanity_flag({"satisfaction_mean": 4.62}, kpis).split(": ")[0]
        'Learners rated it 4.6/5, but no business KPI moved'
        >>> vanity_flag({"satisfaction_mean": 3.1, "completion_rate": 0.5}, kpis) is None
        True
    """
    praise: list[str] = []
    satisfaction = _num(operational.get("satisfaction_mean"))
    completion = _num(operational.get("completion_rate"))
    if satisfaction is not None and satisfaction >= HIGH_SATISFACTION:
        praise.append(f"Learners rated it {satisfaction:.1f}/5")
    if completion is not None and completion >= HIGH_COMPLETION:
        praise.append(f"{completion:.0%} of enrolled learners completed it")
    if not praise:
        return None
    primary = [k for k in kpi_results if k.get("primary")] or list(kpi_results)
    if any(_improved(k) for k in primary):
        return None
    head = " and ".join(praise)
    tail = "High ratings and completion show the program ran well, not that it changed results."
    if not primary:
        return f"{head}, but the plan measures no business KPI. {tail} Add a primary KPI."
    moved = "; ".join(_describe(k) for k in primary)
    return f"{head}, but no business KPI moved: {moved}. {tail}"
