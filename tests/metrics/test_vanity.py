"""The vanity-trap warning."""

from __future__ import annotations

from typing import Any

from impactlens.metrics.vanity import vanity_flag


def _kpi(name: str, low: float | None, high: float | None, **extra: Any) -> dict[str, Any]:
    effect = None if low is None or high is None else (low + high) / 2
    return {"kpi": name, "direction": "increase", "effect": effect,
            "ci_low": low, "ci_high": high, **extra}  # fmt: skip


def test_loved_program_without_kpi_movement_is_flagged() -> None:
    flag = vanity_flag({"satisfaction_mean": 4.6}, [_kpi("deals_closed", -0.3, 0.4, primary=True)])
    assert flag == (
        "Learners rated it 4.6/5, but no business KPI moved: deals_closed changed by +0.05, "
        "95% interval -0.3 to +0.4, which includes zero. High ratings and completion show "
        "the program ran well, not that it changed results."
    )


def test_an_improved_primary_kpi_clears_the_flag() -> None:
    kpis = [_kpi("csat", 1.0, 5.0, primary=True), _kpi("aht", -1.0, 1.0)]
    assert vanity_flag({"satisfaction_mean": 4.8, "completion_rate": 0.95}, kpis) is None


def test_only_primary_kpis_count() -> None:
    kpis = [_kpi("csat", -1.0, 1.0, primary=True), _kpi("aht", 1.0, 2.0)]
    flag = vanity_flag({"completion_rate": 0.92}, kpis)
    assert flag is not None
    assert flag.startswith("92% of enrolled learners completed it, but no business KPI moved")


def test_a_decrease_kpi_must_fall_and_a_wrong_move_is_named() -> None:
    falling = _kpi("complaints", -0.8, -0.4, direction="decrease")
    assert vanity_flag({"satisfaction_mean": 4.2}, [falling]) is None
    rising = _kpi("complaints", 0.4, 0.8, direction="decrease")
    flag = vanity_flag({"satisfaction_mean": 4.2, "completion_rate": 0.85}, [rising])
    assert flag is not None
    assert "Learners rated it 4.2/5 and 85% of enrolled learners completed it" in flag
    assert "complaints moved the wrong way (+0.6, 95% interval +0.4 to +0.8)" in flag


def test_unestimated_and_missing_kpis() -> None:
    flag = vanity_flag({"satisfaction_mean": 4.0}, [_kpi("nps", None, None)])
    assert flag is not None and "nps could not be estimated" in flag
    flag = vanity_flag({"satisfaction_mean": 4.0}, [])
    assert flag is not None and "the plan measures no business KPI" in flag


def test_middling_or_missing_operational_figures_give_none() -> None:
    kpis = [_kpi("csat", -1.0, 1.0)]
    assert vanity_flag({"satisfaction_mean": 3.99, "completion_rate": 0.79}, kpis) is None
    assert vanity_flag({"satisfaction_mean": None, "completion_rate": None}, kpis) is None
    assert vanity_flag({}, kpis) is None
