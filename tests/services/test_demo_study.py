"""A small, fast version of bench/demo_coverage.py: the demo recovers its planted effects."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _study():
    spec = importlib.util.spec_from_file_location(
        "demo_coverage", ROOT / "bench" / "demo_coverage.py"
    )
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.mark.slow
def test_demo_recovers_planted_effects_on_three_seeds() -> None:
    study = _study()
    rows = [r for seed in (1, 2, 3) for r in study.one_seed(seed)]
    summary = study.summarise(rows)
    assert summary["pairs"] == 9
    # 9 intervals at 95%: three or more misses would be a 1-in-125 event if calibrated
    assert summary["coverage"] >= 7 / 9
    assert summary["pilot_strong"] == 1.0
    assert summary["naive_misses_self_selection"] == 1.0
    assert summary["vanity_contains_zero"] >= 2 / 3
    # the honest estimate sits near the truth while the naive one is far off
    assert abs(summary["mean_bias"]["customer-care-excellence"]) < 0.15
    assert summary["mean_naive_bias_self_selection"] > 2.0
