"""The impact plan model: parsing, typo suggestions with their row, required keys."""

from __future__ import annotations

import pytest

from impactlens.domain.errors import PlanError
from impactlens.domain.plan import ImpactPlan, parse_plan, plan_sha256

# The contract's example plan, verbatim.
CONTRACT_PLAN = """\
program: service-excellence          # id used everywhere
title: Service Excellence learning cluster
objective:                           # the strategic performance objective
  outcome: Cut repeat complaints about damaged parcels by 15% this year
  behaviours:                        # what people will do differently
    - Run the packaging checklist at every pickup
sponsor: Head of Field Operations
stakeholders: [Regional ops leads, Top drivers panel]
personas: [new driver, senior driver]  # values of the people column `persona`
segments: [region, role]             # people columns to break results down by
assets:                              # activity rows count for this program when their
  - {id: packaging-basics, kind: microlearning}   # `program` is this id or their
  - {id: ride-along, kind: coaching}              # `asset_id` is listed here
participants:
  status: completed                  # the rung: assigned / enrolled / completed
kpis:
  - id: complaints_per_100
    direction: decrease              # or increase
    unit: person                     # or team
    baseline: 4.2
    target: 3.6
    value_per_unit: 85               # money per unit of improvement per unit per period, for ROI
    primary: true
comparison:
  method: auto                       # auto | randomised | matched | staggered | synthetic | none
  covariates: [tenure_years, region, role]
  eligible: {department: Field Ops}  # who could have been trained
roi:
  horizon_months: 12                 # benefits counted this long after launch (first year)
  margin: 1.0                        # share of a unit's value that is profit
  decay: 0.0                         # yearly fade of the effect
  intangibles: [Fewer escalations to managers]
privacy:
  min_group_size: 5                  # smaller groups are never shown to viewers
"""

MINIMAL = "program: p\nkpis:\n  - id: csat\n    direction: increase\n    unit: person\n"


def _error(text: str) -> PlanError:
    with pytest.raises(PlanError) as info:
        parse_plan(text, "plans/p.yaml")
    return info.value


def test_contract_example_parses_with_every_value() -> None:
    plan = parse_plan(CONTRACT_PLAN, "plans/service-excellence.yaml")
    assert plan.program == "service-excellence"
    assert plan.objective is not None
    assert plan.objective.behaviours == ["Run the packaging checklist at every pickup"]
    assert plan.personas == ["new driver", "senior driver"]
    assert [(a.id, a.kind) for a in plan.assets] == [
        ("packaging-basics", "microlearning"),
        ("ride-along", "coaching"),
    ]
    kpi = plan.kpi("complaints_per_100")
    assert (kpi.direction, kpi.unit, kpi.baseline, kpi.target) == ("decrease", "person", 4.2, 3.6)
    assert kpi.value_per_unit == 85 and kpi.primary
    assert plan.comparison.eligible == {"department": "Field Ops"}
    assert plan.roi.intangibles == ["Fewer escalations to managers"]
    assert plan.privacy.min_group_size == 5


def test_minimal_plan_takes_the_defaults() -> None:
    plan = parse_plan(MINIMAL, "plans/p.yaml")
    assert plan.objective is None and plan.sponsor is None
    assert plan.participants.status == "completed"
    assert plan.comparison.method == "auto" and plan.comparison.eligible == {}
    assert (plan.roi.horizon_months, plan.roi.margin, plan.roi.decay) == (12, 1.0, 0.0)
    assert plan.privacy.min_group_size == 5


def test_only_program_is_required_at_the_top() -> None:
    assert parse_plan("program: p\n", "plans/p.yaml").kpis == []
    err = _error("title: no id\n")
    assert str(err) == "plans/p.yaml, column 'program': missing required key 'program'"


@pytest.mark.parametrize("key", ["id", "direction", "unit"])
def test_kpi_required_keys_are_named_with_their_row(key: str) -> None:
    lines = ["id: csat", "direction: increase", "unit: person"]
    kpi = [line for line in lines if not line.startswith(key)]
    text = "program: p\ntitle: t\nkpis:\n  - " + "\n    ".join(kpi) + "\n"
    err = _error(text)
    assert str(err) == f"plans/p.yaml, row 4, column 'kpis.0.{key}': missing required key {key!r}"


def test_top_level_typo_points_at_its_row_and_suggests_the_key() -> None:
    err = _error("program: p\ntitle: t\nsponser: Jo\n")
    assert str(err) == (
        "plans/p.yaml, row 3, column 'sponser': unknown key 'sponser'; did you mean 'sponsor'?"
    )
    assert (err.file, err.row, err.column) == ("plans/p.yaml", 3, "sponser")


def test_nested_typo_in_a_kpi_suggests_the_kpi_key() -> None:
    text = MINIMAL + "    basline: 3\n  - id: nps\n    direction: increase\n    unit: team\n"
    err = _error(text)
    assert str(err) == (
        "plans/p.yaml, row 6, column 'kpis.0.basline': unknown key 'basline'; "
        "did you mean 'baseline'?"
    )


def test_typo_in_an_optional_section_suggests_from_that_section() -> None:
    err = _error("program: p\nobjective:\n  outcome: x\n  behaviors: [y]\n")
    assert err.row == 4
    assert str(err).endswith("unknown key 'behaviors'; did you mean 'behaviours'?")


def test_unknown_key_without_a_close_match_lists_the_allowed_keys() -> None:
    err = _error("program: p\nroi:\n  zebra: 1\n")
    assert str(err) == (
        "plans/p.yaml, row 3, column 'roi.zebra': unknown key 'zebra'; "
        "allowed: horizon_months, margin, decay, intangibles, rules"
    )


def test_bad_value_names_the_key_and_row() -> None:
    err = _error("program: p\nkpis:\n  - id: csat\n    direction: up\n    unit: person\n")
    assert err.row == 4 and err.column == "kpis.0.direction"
    assert "'increase' or 'decrease'" in str(err)


def test_program_with_spaces_is_refused() -> None:
    err = _error("program: my program\n")
    assert err.row == 1
    assert "program must be a non-empty id without spaces" in str(err)


def test_invalid_yaml_names_the_row() -> None:
    err = _error("program: p\nkpis: [a, b\ntitle: x\n")
    assert str(err).startswith("plans/p.yaml, row ")
    assert "not valid YAML" in str(err)


@pytest.mark.parametrize("text", ["", "- a\n- b\n", "just text\n"])
def test_a_plan_must_be_a_mapping(text: str) -> None:
    err = _error(text)
    assert str(err) == (
        "plans/p.yaml: a plan must be a YAML mapping with at least 'program' and 'kpis'"
    )


def test_primary_kpis_fall_back_to_all_and_kpi_lookup() -> None:
    plan = ImpactPlan.model_validate(
        {
            "program": "p",
            "kpis": [
                {"id": "a", "direction": "increase", "unit": "person"},
                {"id": "b", "direction": "decrease", "unit": "team"},
            ],
        }
    )
    assert [k.id for k in plan.primary_kpis()] == ["a", "b"]
    marked = plan.model_copy(
        update={"kpis": [plan.kpis[0], plan.kpis[1].model_copy(update={"primary": True})]}
    )
    assert [k.id for k in marked.primary_kpis()] == ["b"]
    assert plan.kpi("b").unit == "team"
    with pytest.raises(KeyError):
        plan.kpi("c")


def test_plan_is_frozen_and_hash_is_stable() -> None:
    plan = parse_plan(MINIMAL, "plans/p.yaml")
    with pytest.raises(ValueError, match="frozen"):
        plan.program = "q"  # type: ignore[misc]
    assert plan_sha256(MINIMAL) == plan_sha256(MINIMAL)
    assert plan_sha256(MINIMAL) != plan_sha256(MINIMAL + "# c\n")
    assert len(plan_sha256(MINIMAL)) == 64
