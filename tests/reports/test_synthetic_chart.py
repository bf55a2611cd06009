"""The treated vs synthetic trajectory chart, from a real synthetic DiD estimate."""

from __future__ import annotations

import doctest

import numpy as np
import pandas as pd

from impactlens.domain.result import KpiResult
from impactlens.estimators.base import KpiPanel
from impactlens.estimators.synthetic import SyntheticDiffInDiff
from impactlens.reports import charts


def _site_result(effect: float) -> KpiResult:
    rng = np.random.default_rng(3)
    n, p, start = 12, 16, 10
    t = np.arange(p)
    y = (
        rng.normal(scale=2, size=(n, 1))
        + np.cumsum(rng.normal(size=p))
        + 0.2 * rng.normal(size=(n, p))
    )
    y[0, start:] += effect
    periods = pd.Timestamp("2025-01-05") + pd.to_timedelta(7 * t, unit="D")
    ids = [f"site{i}" for i in range(n)]
    cells = pd.DataFrame(
        {
            "unit_id": np.repeat(ids, p),
            "period": np.tile(periods, n),
            "value": y.ravel(),
            "weight": 1.0,
        }
    )
    units = pd.DataFrame(
        {
            "unit_id": ids,
            "group": ["treated"] + ["comparison"] * (n - 1),
            "first_period": [periods[start]] + [pd.NaT] * (n - 1),
            "cluster": ids,
        }
    )
    est = SyntheticDiffInDiff(replications=50).fit(KpiPanel("sales", "team", cells, units))
    return KpiResult(
        kpi="sales",
        direction="increase",
        unit="team",
        effect=est.effect,
        ci_low=est.ci_low,
        ci_high=est.ci_high,
        p_value=est.p_value,
        relative_effect=None,
        method=est.method,
        n_treated=est.n_treated,
        n_comparison=est.n_comparison,
        evidence="none",
        evidence_reasons=[],
        target_met=None,
        diagnostics={
            k: est.diagnostics[k] for k in ("synthetic_path", "synthetic_launch", "n_donors")
        },
    )


def test_chart_states_the_finding_and_marks_the_launch() -> None:
    kpi = _site_result(5.0)
    spec = charts.synthetic_chart(kpi)
    assert spec["title"]["text"] == (
        "Sales rose after launch for the trained team against its synthetic twin"
    )
    assert spec["title"]["subtitle"].startswith("Synthetic comparison: a blend of ")
    values = spec["layer"][0]["data"]["values"]
    assert {v["group"] for v in values} == {"Trained", "Synthetic comparison"}
    assert len(values) == 2 * 16
    assert spec["layer"][1]["data"]["values"] == [{"period": "2025-03-16", "label": "launch"}]
    svg = charts.to_svg(spec)
    assert svg.startswith('<svg role="img" aria-label="')


def test_no_clear_change_and_no_path() -> None:
    kpi = _site_result(0.0)
    assert charts.synthetic_chart(kpi)["title"]["text"] == (
        "After launch the trained team tracked the synthetic comparison"
    )
    empty = charts.synthetic_chart(kpi.model_copy(update={"diagnostics": {}}))
    assert charts.is_empty(empty)


def test_doctest() -> None:
    finder = doctest.DocTestFinder()
    runner = doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE)
    for test in finder.find(charts.synthetic_chart, "synthetic_chart", globs=vars(charts)):
        runner.run(test)
    assert runner.failures == 0
