"""The Finding model, its order, and the alignment rules that need only the plan."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from impactlens.domain.check import Finding, plan_alignment, sort_findings, target_is_improvement
from impactlens.domain.plan import ImpactPlan, KpiSpec

ALIGNED: dict[str, Any] = {
    "program": "care",
    "objective": {"outcome": "Lift FCR from 70% to 75% this year", "behaviours": ["Confirm"]},
    "sponsor": "Head of Care",
    "stakeholders": ["Team leads"],
    "personas": ["new agent"],
    "assets": [{"id": "listening", "kind": "microlearning"}],
    "kpis": [
        {"id": "fcr", "direction": "increase", "unit": "person", "baseline": 70, "target": 75,
         "value_per_unit": 40, "primary": True},
    ],
}  # fmt: skip


def _kpi(**kw: Any) -> dict[str, Any]:
    return {"id": "k", "direction": "increase", "unit": "person", "baseline": 1, "target": 2,
            "value_per_unit": 1, **kw}  # fmt: skip


def _codes(**update: Any) -> dict[str, Finding]:
    plan = ImpactPlan.model_validate({**ALIGNED, **update})
    return {f.code: f for f in plan_alignment(plan)}


def test_finding_is_frozen_and_strict() -> None:
    f = Finding(severity="warning", code="c", message="m", fix="x", program="p")
    with pytest.raises(ValidationError):
        f.severity = "error"  # type: ignore[misc]
    with pytest.raises(ValidationError):
        Finding(severity="fatal", code="c", message="m", fix="x", program="p")  # type: ignore[arg-type]
    assert not f.is_error
    assert f.model_dump() == {
        "severity": "warning", "code": "c", "message": "m", "fix": "x", "program": "p",
    }  # fmt: skip


def test_sort_puts_errors_first_then_by_code_and_is_stable() -> None:
    def f(severity: Any, code: str, message: str = "m") -> Finding:
        return Finding(severity=severity, code=code, message=message, fix="x", program="p")

    found = sort_findings(
        [f("info", "a"), f("warning", "b", "2"), f("error", "z"), f("warning", "b", "1"),
         f("error", "c"), f("warning", "a")]
    )  # fmt: skip
    assert [(x.severity, x.code, x.message) for x in found] == [
        ("error", "c", "m"), ("error", "z", "m"), ("warning", "a", "m"),
        ("warning", "b", "2"), ("warning", "b", "1"), ("info", "a", "m"),
    ]  # fmt: skip


def test_an_aligned_plan_has_no_findings() -> None:
    assert _codes() == {}


@pytest.mark.parametrize(
    ("update", "code", "severity", "fragment"),
    [
        ({"objective": None}, "objective-missing", "error", "no objective.outcome"),
        ({"objective": {"outcome": " ", "behaviours": ["x"]}}, "objective-missing", "error", ""),
        ({"objective": {"outcome": "o"}}, "behaviours-missing", "warning", "no behaviours"),
        ({"sponsor": None}, "sponsor-missing", "warning", "no sponsor"),
        ({"stakeholders": []}, "stakeholders-missing", "info", "no stakeholders"),
        ({"personas": []}, "personas-missing", "warning", "no personas"),
        ({"assets": []}, "assets-missing", "info", "program column is 'care'"),
        ({"kpis": []}, "kpi-missing", "error", "names no KPI"),
    ],
)
def test_missing_alignment_keys(
    update: dict[str, Any], code: str, severity: str, fragment: str
) -> None:
    found = _codes(**update)
    assert found[code].severity == severity
    assert fragment in found[code].message
    assert found[code].fix and found[code].program == "care"


def test_more_than_three_primary_kpis_is_an_error() -> None:
    kpis = [_kpi(id=f"k{i}", primary=True) for i in range(4)]
    f = _codes(kpis=kpis)["too-many-primary-kpis"]
    assert f.severity == "error"
    assert (
        f.message
        == "4 KPIs are marked primary ('k0', 'k1', 'k2', 'k3'); a program should focus on 1-3."
    )


def test_unmarked_kpis_all_count_as_primary() -> None:
    f = _codes(kpis=[_kpi(id=f"k{i}") for i in range(5)])["too-many-primary-kpis"]
    assert f.message.startswith("5 KPIs count as primary because none is marked primary")
    assert "too-many-primary-kpis" not in _codes(kpis=[_kpi(id=f"k{i}") for i in range(3)])


def test_kpi_without_baseline_or_target() -> None:
    f = _codes(kpis=[_kpi(baseline=None, target=None)])["kpi-baseline-or-target-missing"]
    assert f.severity == "warning"
    assert f.message.startswith("KPI 'k' has no baseline and no target")
    f = _codes(kpis=[_kpi(target=None)])["kpi-baseline-or-target-missing"]
    assert f.message.startswith("KPI 'k' has no target,")


@pytest.mark.parametrize(
    ("direction", "baseline", "target", "side"),
    [("increase", 70, 65, "above"), ("decrease", 4.2, 4.5, "below"), ("increase", 3, 3, "above")],
)
def test_target_against_the_direction_is_an_error(
    direction: str, baseline: float, target: float, side: str
) -> None:
    kpi = _kpi(direction=direction, baseline=baseline, target=target)
    f = _codes(kpis=[kpi])["target-wrong-direction"]
    assert f.severity == "error"
    assert f.message == (
        f"KPI 'k' should {direction}, but its target {target:g} is not {side} its baseline "
        f"{baseline:g}."
    )


def test_target_is_improvement() -> None:
    assert target_is_improvement(KpiSpec.model_validate(_kpi(direction="decrease", target=0.5)))
    assert not target_is_improvement(KpiSpec.model_validate(_kpi(target=None)))


def test_primary_kpi_without_value_per_unit_has_no_roi() -> None:
    kpis = [_kpi(id="a", value_per_unit=None, primary=True), _kpi(id="b", value_per_unit=None)]
    found = [f for f in plan_alignment(ImpactPlan.model_validate({**ALIGNED, "kpis": kpis}))]
    roi = [f for f in found if f.code == "value-per-unit-missing"]
    assert len(roi) == 1 and roi[0].severity == "warning"
    assert roi[0].message.startswith("Primary KPI 'a' has no value_per_unit")
    assert "no ROI" in roi[0].message


def test_duplicate_kpi_ids() -> None:
    f = _codes(kpis=[_kpi(id="a"), _kpi(id="a")])["kpi-duplicate"]
    assert (f.severity, f.message) == ("error", "KPI 'a' is listed 2 times.")
