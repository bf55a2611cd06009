"""Hand-made analysis results for the report tests (tests/fixtures/results/*.json)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from impactlens.domain.result import AnalysisResult

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "results"
NAMES = ("strong", "vanity", "thin")


def load_result(name: str) -> AnalysisResult:
    """One fixture: strong (randomised, KPI fell), vanity (loved, no move), thin (no data)."""
    return AnalysisResult.model_validate(json.loads((FIXTURES / f"{name}.json").read_text()))


@pytest.fixture(params=NAMES)
def any_result(request: pytest.FixtureRequest) -> AnalysisResult:
    return load_result(request.param)
