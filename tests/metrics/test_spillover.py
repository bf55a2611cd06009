"""Spillover: trained-peer shares, the across-team estimate and contamination warnings."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from impactlens.estimators.base import KpiPanel
from impactlens.estimators.matched_did import WeightedDiffInDiff
from impactlens.metrics.spillover import other_program_overlap, spillover, trained_peer_share

PERIODS = pd.date_range("2024-01-07", periods=10, freq="W-SUN")


def planted(seed: int = 1) -> tuple[KpiPanel, pd.DataFrame, set[str]]:
    """Teams T0-T9 of 5: in T0-T4 two members are trained; T5-T9 have none.

    Trained people gain +2 from period 5; their untrained team mates gain +1 (spillover).
    """
    rng = np.random.default_rng(seed)
    people = pd.DataFrame(
        {
            "person_id": [f"p{i:02d}" for i in range(50)],
            "team_id": [f"T{i // 5}" for i in range(50)],
        }
    )
    trained = {f"p{i:02d}" for i in range(50) if i < 25 and i % 5 < 2}
    rows = []
    for i, pid in enumerate(people["person_id"]):
        for j, period in enumerate(PERIODS):
            post = j >= 5
            gain = 2.0 if pid in trained else (1.0 if i < 25 else 0.0)
            rows.append((pid, period, 5.0 + gain * post + rng.normal(0, 0.1)))
    cells = pd.DataFrame(rows, columns=["unit_id", "period", "value"]).assign(weight=1.0)
    is_t = people["person_id"].isin(trained).to_numpy()
    units = pd.DataFrame(
        {
            "unit_id": people["person_id"],
            "group": np.where(is_t, "treated", "comparison"),
            "first_period": pd.to_datetime(np.where(is_t, PERIODS[5], pd.NaT)),
            "cluster": people["team_id"],
        }
    )
    return KpiPanel("sales", "person", cells, units), people, trained


def test_trained_peer_share_by_hand() -> None:
    panel, people, trained = planted()
    share = trained_peer_share(panel, people, trained)
    # an untrained member of T0 has 2 trained among 4 peers; T5-T9 members have none
    assert share["p02"] == pytest.approx(0.5)
    assert share["p30"] == 0.0
    assert len(share) == 40


def test_spillover_warning_and_the_across_team_estimate() -> None:
    panel, people, trained = planted()
    out, warnings = spillover(panel, people, trained, WeightedDiffInDiff())
    assert out is not None
    # 15 exposed comparison people at 0.5, 25 clean at 0: mean 15 x 0.5 / 40
    assert out["mean_trained_peer_share"] == pytest.approx(0.1875)
    assert out["comparison_with_trained_peers"] == 15
    assert out["comparison_in_untrained_teams"] == 25
    assert warnings == [
        "KPI 'sales': 15 of 40 comparison people share a team with trained colleagues "
        "(mean share of trained peers 19%); within-team comparisons understate the effect "
        "when trained peers lift untrained colleagues (spillover)"
    ]
    across = out["across_team"]
    assert across["n_comparison"] == 25
    # the full comparison is contaminated by +1 for 15 of 40: 2 - 15/40 = 1.625
    full = WeightedDiffInDiff().fit(panel)
    assert full.effect == pytest.approx(1.625, abs=0.05)
    assert across["effect"] == pytest.approx(2.0, abs=0.05)


def test_no_warning_when_teams_are_not_shared() -> None:
    panel, people, _ = planted()
    trained = {f"p{i:02d}" for i in range(10)}  # whole teams T0 and T1
    units = panel.units.assign(
        group=np.where(panel.units["unit_id"].isin(trained), "treated", "comparison")
    )
    clean = KpiPanel(panel.kpi, "person", panel.cells, units)
    out, warnings = spillover(clean, people, trained, WeightedDiffInDiff())
    assert out is not None and out["mean_trained_peer_share"] == 0.0
    assert warnings == [] and out["across_team"] is None


def test_other_programs_on_the_same_kpi_inside_the_window_are_flagged() -> None:
    panel, people, _ = planted()
    others = pd.DataFrame(
        {
            "person_id": ["p30", "p31", "p40", "p02"],
            "program": ["sales-boost", "sales-boost", "sales-boost", "unrelated"],
            "start_date": pd.to_datetime(["2024-02-01", "2024-02-10", "2023-01-01", "2024-02-01"]),
        }
    )
    warnings = other_program_overlap(panel, people, others, ["sales-boost"])
    # p40 started before the window (a level that differencing removes): not counted
    assert warnings == [
        "KPI 'sales': 2 comparison people took part in the program 'sales-boost', whose "
        "plan names the same KPI, between 2024-01-07 and 2024-03-10; if that program "
        "works, it lifts the comparison path and biases this effect toward zero"
    ]
    assert other_program_overlap(panel, people, others, []) == []
