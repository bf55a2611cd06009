"""The plan's pilot section and its stop/scale rules."""

from __future__ import annotations

import pytest

from impactlens.domain.errors import PlanError
from impactlens.domain.pilot import LookFacts, evaluate_rule, parse_rule
from impactlens.domain.plan import parse_plan

KPI = "kpis: [{id: errors, direction: decrease, unit: team}]\n"


def test_pilot_section_parses_with_defaults() -> None:
    plan = parse_plan(
        f"program: p\n{KPI}pilot:\n  hypothesis: fewer errors\n  looks: 3\n", "p.yaml"
    )
    assert plan.pilot is not None
    assert plan.pilot.looks == 3 and plan.pilot.share == 0.5
    assert plan.pilot.decision.scale_if == "ci_excludes_zero and effect_beyond_target"


def test_unknown_condition_is_pointed_at() -> None:
    text = f"program: p\n{KPI}pilot:\n  decision:\n    stop_if: harmfull\n"
    with pytest.raises(PlanError, match="unknown condition 'harmfull'; did you mean 'harmful'"):
        parse_plan(text, "p.yaml")


def test_share_outside_zero_one_is_refused() -> None:
    with pytest.raises(PlanError, match=r"pilot\.share"):
        parse_plan(f"program: p\n{KPI}pilot:\n  share: 1.2\n", "p.yaml")


def test_and_binds_tighter_than_or() -> None:
    assert parse_rule("harmful or significant and ci_excludes_zero") == [
        ["harmful"],
        ["significant", "ci_excludes_zero"],
    ]
    assert (
        evaluate_rule("harmful or significant and ci_excludes_zero", {"significant": True}) is False
    )


@pytest.mark.parametrize(
    ("effect", "low", "high", "expected"),
    [
        (
            -0.6,
            -0.9,
            -0.3,
            {"ci_excludes_zero", "effect_beyond_target", "significant", "effect_beyond_mde"},
        ),
        (-0.1, -0.3, -0.05, {"ci_excludes_zero", "ci_excludes_target", "significant"}),
        (0.4, 0.1, 0.7, {"ci_excludes_target", "harmful", "significant"}),
        (
            -0.9,
            -1.2,
            -0.6,
            {
                "ci_excludes_zero",
                "effect_beyond_target",
                "ci_beyond_target",
                "significant",
                "effect_beyond_mde",
            },
        ),
    ],
)
def test_predicates_read_the_good_direction(
    effect: float, low: float, high: float, expected: set[str]
) -> None:
    facts = LookFacts(effect, low, high, "decrease", target_effect=-0.5, mde=0.4).predicates()
    assert {k for k, v in facts.items() if v} == expected
