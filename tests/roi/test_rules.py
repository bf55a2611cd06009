"""The ROI ledger by hand, each Phillips rule switch, sensitivity and participants' estimate."""

from __future__ import annotations

import pandas as pd
import pytest

from impactlens.domain.plan import ImpactPlan
from impactlens.roi.phillips import KpiBenefitInput, ParticipantInput, compute_roi

# effect +1 per person-month, interval 0.5..1.5, 10 people, 12 months, value 20, margin 0.5
KPI = KpiBenefitInput("sales", "increase", 1.0, 0.5, 1.5, 10, 20.0, 12.0)
COSTS = pd.DataFrame(
    {
        "item": ["design", "delivery", "time away", "overhead"],
        "amount": [1000.0, 300.0, 200.0, 100.0],
        "category": ["development", "delivery", "participant_time", "overhead"],
        "prorate_share": [0.5, 1.0, 1.0, None],
    }
)


def _plan(**roi: object) -> ImpactPlan:
    kpi = {"id": "sales", "direction": "increase", "unit": "person", "value_per_unit": 20.0}
    return ImpactPlan.model_validate({"program": "p", "kpis": [kpi], "roi": {"margin": 0.5, **roi}})


def _participants(shares: list[float | None]) -> ParticipantInput:
    units = pd.DataFrame(
        {
            "unit_id": [f"u{i}" for i in range(10)],
            "change": [2.0, 1.0, 4.0, 0.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0],
            "share": shares + [None] * (10 - len(shares)),
        }
    )
    return ParticipantInput(KPI, units)


def test_ledger_arithmetic_by_hand() -> None:
    roi = compute_roi(_plan(), [KPI], COSTS, currency="EUR")
    lines = {line.step: line.value for line in roi.ledger}
    # 1.0 x 10 people x 12 months x 20 EUR x 0.5 margin = 1,200
    assert lines["sales: periods in horizon"] == 12.0
    assert lines["sales: benefits"] == 1200.0
    # 1000 x 0.5 + 300 + 200 + 100 x 1 (no share = 1) = 1,100
    assert lines["cost: design"] == 500.0 and lines["cost: overhead"] == 100.0
    assert lines["fully loaded costs"] == 1100.0
    assert roi.benefits == 1200.0 and roi.costs == 1100.0
    assert roi.bcr == pytest.approx(1.09)
    assert roi.roi_pct == pytest.approx(9.1)  # (1200 - 1100) / 1100
    assert roi.benefits_low == 600.0 and roi.benefits_high == 1800.0
    assert roi.roi_pct_low == pytest.approx(-45.5) and roi.roi_pct_high == pytest.approx(63.6)
    assert [r["rule"] for r in roi.rules if r["applied"]] == [
        "conservative_alternative",
        "first_year_only",
        "non_respondents_zero",
        "fully_loaded_costs",
    ]
    # the interval's low end is the conservative alternative without participants' figures
    assert roi.conservative == {
        "benefits": 600.0,
        "roi_pct": pytest.approx(-45.5),
        "source": "lower end of the effect's 95% interval",
    }
    assert "Fully loaded costs lack the categories: needs_assessment, evaluation." in (
        roi.conventions
    )


def test_first_year_rule_caps_a_long_horizon() -> None:
    capped = compute_roi(_plan(horizon_months=24), [KPI], COSTS, currency="EUR")
    free = compute_roi(
        _plan(horizon_months=24, rules={"first_year_only": False}), [KPI], COSTS, currency="EUR"
    )
    assert capped.benefits == 1200.0
    assert free.benefits == 2400.0
    assert capped.ledger[0].step == "horizon" and capped.ledger[0].value == 12.0
    assert capped.break_even_months == pytest.approx(1100 / (1200 / 12), abs=0.05)


def test_fully_loaded_rule_off_counts_direct_costs_only() -> None:
    roi = compute_roi(_plan(rules={"fully_loaded_costs": False}), [KPI], COSTS, currency="EUR")
    assert roi.costs == 800.0  # design 500 + delivery 300
    assert [c["item"] for c in roi.cost_items] == ["delivery", "design"]
    steps = [line.step for line in roi.ledger]
    assert "cost left out: time away" in steps and "direct costs" in steps
    assert roi.roi_pct == pytest.approx(50.0)


def test_conservative_rule_off_gives_no_conservative_figure() -> None:
    roi = compute_roi(
        _plan(rules={"conservative_alternative": False}), [KPI], COSTS, currency="EUR"
    )
    assert roi.conservative is None
    assert roi.benefits == 1200.0


def test_participant_estimate_by_hand_and_the_non_respondent_rule() -> None:
    # respondents u0 (change 2, share 0.5) and u1 (change 1, share 0.2); 8 did not answer
    people = _participants([0.5, 0.2])
    roi = compute_roi(_plan(), [KPI], COSTS, currency="EUR", participants=[people])
    est = roi.participant_estimate
    assert est is not None
    # (2 x 0.5 + 1 x 0.2) x 12 months x 20 EUR x 0.5 margin = 144; measured 1,200
    assert est["benefits"] == pytest.approx(144.0)
    assert est["off_by_pct"] == pytest.approx(-88.0)
    assert est["method"] == "participant estimate (the weakest isolation method)"
    # the conservative alternative picks the lower of interval end (600) and estimate (144)
    assert roi.conservative is not None and roi.conservative["benefits"] == pytest.approx(144.0)
    assert roi.conservative["source"] == "participants' estimate"
    extrapolated = compute_roi(
        _plan(rules={"non_respondents_zero": False}),
        [KPI],
        COSTS,
        currency="EUR",
        participants=[people],
    )
    assert extrapolated.participant_estimate is not None
    assert extrapolated.participant_estimate["benefits"] == pytest.approx(144.0 * 10 / 2)
    # the headline never uses the participants' figure
    assert extrapolated.benefits == roi.benefits == 1200.0


def test_sensitivity_table_values() -> None:
    roi = compute_roi(_plan(decay=0.0), [KPI], COSTS, currency="EUR")
    table = {(r["assumption"], r["setting"]): r for r in roi.sensitivity}
    assert len(roi.sensitivity) == 9
    assert table[("value per unit", "x0.5")]["benefits"] == 600.0
    assert table[("value per unit", "x1.5")]["benefits"] == 1800.0
    assert table[("horizon", "6 months")]["benefits"] == 600.0
    assert table[("horizon", "24 months")]["benefits"] == 2400.0
    # monthly periods i = 0..11 keep 0.5 ** (i / 12): sum = (1 - 0.5) / (1 - 0.5 ** (1/12))
    decayed = 100.0 * (1 - 0.5) / (1 - 0.5 ** (1 / 12))
    assert table[("yearly decay", "50%")]["benefits"] == pytest.approx(decayed, abs=0.01)
    assert table[("value per unit", "x1")]["as_planned"] is True
    assert table[("value per unit", "x1.5")]["roi_pct"] == pytest.approx(63.6)
    assert table[("value per unit", "x1.5")]["roi_pct_low"] == pytest.approx(
        (900 - 1100) / 1100 * 100, abs=0.05
    )
