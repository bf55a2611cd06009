"""Phillips ROI against the textbook example and the contract's formula."""

from __future__ import annotations

import pandas as pd
import pytest

from impactlens.domain.plan import ImpactPlan
from impactlens.roi.phillips import KpiBenefitInput, compute_roi, infer_frequency


def _plan(**roi: object) -> ImpactPlan:
    return ImpactPlan.model_validate(
        {
            "program": "p",
            "kpis": [
                {
                    "id": "complaints",
                    "direction": "decrease",
                    "unit": "person",
                    "value_per_unit": 100.0,
                    "primary": True,
                }
            ],
            "roi": {"horizon_months": 12, **roi},
        }
    )


def _costs(total: float) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "item": ["delivery", "design"],
            "amount": [total / 2, total],
            "category": ["delivery", "development"],
            "prorate_share": [1.0, 0.5],
        }
    )


def test_textbook_bcr_and_roi() -> None:
    # methods.md: 750,000 / 425,000 gives BCR 1.76, ROI 76%.
    # effect -0.5 per person-week x 300 people x 50 weeks x 100 = 750,000
    kpi = KpiBenefitInput("complaints", "decrease", -0.5, -0.75, -0.25, 300, 100.0, 50.0)
    roi = compute_roi(_plan(), [kpi], _costs(425_000.0), currency="EUR")
    assert roi.costs == pytest.approx(425_000.0)
    assert roi.benefits == pytest.approx(750_000.0)
    assert roi.bcr == pytest.approx(1.76, abs=0.005)
    assert roi.roi_pct == pytest.approx(76.5, abs=0.1)
    assert roi.roi_pct_low == pytest.approx((375_000 - 425_000) / 425_000 * 100, abs=0.1)
    assert roi.roi_pct_high == pytest.approx((1_125_000 - 425_000) / 425_000 * 100, abs=0.1)
    assert roi.break_even_months == pytest.approx(425_000 / (750_000 / 12), abs=0.1)
    steps = [line.step for line in roi.ledger]
    assert "fully loaded costs" in steps and "cost: design" in steps


def test_harmful_effect_gives_negative_benefits_and_decay_shrinks_them() -> None:
    harmful = KpiBenefitInput("complaints", "decrease", 0.2, 0.1, 0.3, 100, 100.0, 52.0)
    roi = compute_roi(_plan(), [harmful], _costs(1000.0), currency="EUR")
    assert roi.benefits is not None and roi.benefits < 0
    good = KpiBenefitInput("complaints", "decrease", -0.2, -0.3, -0.1, 100, 100.0, 52.0)
    plain = compute_roi(_plan(), [good], _costs(1000.0), currency="EUR")
    faded = compute_roi(_plan(decay=0.5), [good], _costs(1000.0), currency="EUR")
    assert plain.benefits is not None and faded.benefits is not None
    assert 0 < faded.benefits < plain.benefits


def test_missing_costs_or_value_gives_null_roi() -> None:
    kpi = KpiBenefitInput("complaints", "decrease", -0.5, -0.7, -0.3, 10, None, 52.0)
    roi = compute_roi(
        _plan(),
        [kpi],
        pd.DataFrame(columns=["item", "amount", "category", "prorate_share"]),
        currency="EUR",
    )
    assert roi.roi_pct is None and roi.bcr is None and roi.costs is None


def test_frequency_inference() -> None:
    assert infer_frequency(pd.date_range("2025-01-31", periods=6, freq="ME")) == 12.0
    assert infer_frequency(pd.date_range("2025-01-01", periods=6, freq="D")) == 365.0
