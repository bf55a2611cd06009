"""Plan templates: every one parses, teaches, and names a program."""

from __future__ import annotations

import pytest

from impactlens.domain.check import plan_alignment
from impactlens.domain.errors import ImpactLensError
from impactlens.domain.plan import parse_plan
from impactlens.services.plan_templates import DEFAULT_TEMPLATE, list_templates, render_template

PROGRAMS = [
    "sales-enablement",
    "customer-care",
    "new-manager-leadership",
    "onboarding",
    "safety-compliance",
]
NAMES = [name for name, _ in list_templates()]


def test_list_names_the_common_programs_and_blank_sorted() -> None:
    assert set(PROGRAMS) | {"blank"} <= set(NAMES)
    assert sorted(NAMES) == NAMES
    assert DEFAULT_TEMPLATE == "blank"
    for name, description in list_templates():
        assert description, name
        assert "\n" not in description and not description.startswith("#")


def test_descriptions_come_from_the_first_comment_line() -> None:
    description = dict(list_templates())["onboarding"]
    assert description.startswith("Onboarding: new hires reach full productivity")


@pytest.mark.parametrize("name", NAMES)
def test_every_template_parses_with_the_program_substituted(name: str) -> None:
    text = render_template(name, "acme-2026")
    assert "__PROGRAM__" not in text
    plan = parse_plan(text, f"plans/{name}.yaml")
    assert plan.program == "acme-2026"
    assert "impactlens check acme-2026" in text
    assert plan.kpis, "a template shows at least one KPI to fill in"


@pytest.mark.parametrize("name", PROGRAMS)
def test_program_templates_are_fully_aligned(name: str) -> None:
    plan = parse_plan(render_template(name, name), name)
    assert plan_alignment(plan) == []
    assert 1 <= len(plan.primary_kpis()) <= 3
    assert all(k.value_per_unit is not None for k in plan.primary_kpis())
    assert plan.comparison.eligible and plan.roi.intangibles


@pytest.mark.parametrize("name", NAMES)
def test_templates_teach_what_each_key_means(name: str) -> None:
    text = render_template(name, "p")
    comments = [line for line in text.splitlines() if line.lstrip().startswith("#")]
    assert len(comments) >= 20
    for phrase in ("strategic performance objective", "sponsor", "value_per_unit", "eligible"):
        assert phrase in text.lower(), phrase


def test_blank_template_leaves_the_content_to_fill() -> None:
    plan = parse_plan(render_template("blank", "my-program"), "plans/my-program.yaml")
    codes = {f.code for f in plan_alignment(plan)}
    assert {"objective-missing", "sponsor-missing", "kpi-baseline-or-target-missing"} <= codes


def test_unknown_template_lists_the_available_ones() -> None:
    with pytest.raises(ImpactLensError) as info:
        render_template("gardening", "p")
    assert str(info.value) == "unknown plan template 'gardening'; available: " + ", ".join(NAMES)


def test_unknown_template_suggests_a_close_name() -> None:
    with pytest.raises(ImpactLensError, match="did you mean 'onboarding'"):
        render_template("onbording", "p")


@pytest.mark.parametrize("program", ["", "my program"])
def test_program_ids_with_spaces_are_refused(program: str) -> None:
    with pytest.raises(ImpactLensError, match="must be non-empty and without spaces"):
        render_template("blank", program)


@pytest.mark.parametrize("program", ["true", "null", "2026", "0x1F", "a:b", "p#1", "2026-01-01"])
def test_ids_yaml_would_misread_are_quoted(program: str) -> None:
    assert parse_plan(render_template("blank", program), "p").program == program
