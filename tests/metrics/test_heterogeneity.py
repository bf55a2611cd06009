"""Effects by persona and segment: planted group effects, Holm, small-group suppression."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from impactlens.domain.plan import ImpactPlan
from impactlens.estimators.base import KpiPanel
from impactlens.estimators.matched_did import WeightedDiffInDiff
from impactlens.metrics.heterogeneity import heterogeneity, holm, sub_panel

PERIODS = pd.date_range("2024-01-07", periods=12, freq="W-SUN")


def planted(seed: int = 0, n: int = 400, tiny_region: int = 0) -> tuple[KpiPanel, pd.DataFrame]:
    """Persona A gains +4, persona B +1; trained from period 6; one team per person."""
    rng = np.random.default_rng(seed)
    ids = [f"u{i:03d}" for i in range(n)]
    persona = np.where(np.arange(n) % 2 == 0, "A", "B")
    treated = rng.random(n) < 0.4
    region = np.where(np.arange(n) < n // 2, "north", "south").astype(object)
    if tiny_region:
        t_idx = np.flatnonzero(treated)[:tiny_region]
        region[t_idx] = "island"  # only a few trained people: below the threshold
    level = rng.normal(10, 2, n)
    effect = np.where(persona == "A", 4.0, 1.0)
    rows = []
    for i, uid in enumerate(ids):
        for j, period in enumerate(PERIODS):
            post = treated[i] and j >= 6
            y = level[i] + 0.1 * j + effect[i] * post + rng.normal(0, 1)
            rows.append((uid, period, y))
    cells = pd.DataFrame(rows, columns=["unit_id", "period", "value"]).assign(weight=1.0)
    units = pd.DataFrame(
        {
            "unit_id": ids,
            "group": np.where(treated, "treated", "comparison"),
            "first_period": pd.to_datetime(np.where(treated, PERIODS[6], pd.NaT)),
            "cluster": ids,
        }
    )
    people = pd.DataFrame({"person_id": ids, "team_id": ids, "persona": persona, "region": region})
    return KpiPanel("sales", "person", cells, units), people


PLAN = ImpactPlan.model_validate(
    {
        "program": "p",
        "personas": ["A", "B"],
        "segments": ["region", "persona"],
        "kpis": [{"id": "sales", "direction": "increase", "unit": "person"}],
    }
)


def test_planted_persona_effects_are_recovered_with_holm_p_values() -> None:
    panel, people = planted()
    rows = heterogeneity(panel, WeightedDiffInDiff(), PLAN, people, min_group_size=5)
    by = {(r["dimension"], r["group"]): r for r in rows}
    # persona appears once even though the plan also lists it as a segment
    assert sorted(by) == [("persona", "A"), ("persona", "B"), ("region", "north"),
                          ("region", "south")]  # fmt: skip
    a, b = by[("persona", "A")], by[("persona", "B")]
    assert a["ci_low"] < 4.0 < a["ci_high"] and b["ci_low"] < 1.0 < b["ci_high"]
    assert a["effect"] == pytest.approx(4.0, abs=0.3) and b["effect"] == pytest.approx(1.0, abs=0.3)
    assert a["comparison"] == "same persona"
    assert all(r["correction"] == "Holm" for r in rows)
    ps = [r["p_value"] for r in rows]
    assert [r["p_adjusted"] for r in rows] == holm(ps)
    assert all(r["p_adjusted"] >= r["p_value"] for r in rows)
    assert a["n_treated"] + b["n_treated"] == panel.n("treated")


def test_holm_by_hand() -> None:
    # sorted 0.01, 0.02, 0.04 times 3, 2, 1 = 0.03, 0.04, 0.04 (monotone)
    assert holm([0.04, 0.01, 0.02]) == [0.04, 0.03, 0.04]
    assert holm([0.5, 0.6]) == [1.0, 1.0]


def test_small_groups_are_suppressed_with_a_complement() -> None:
    panel, people = planted(tiny_region=3)
    rows = heterogeneity(panel, WeightedDiffInDiff(), PLAN, people, min_group_size=5)
    region = {r["group"]: r for r in rows if r["dimension"] == "region"}
    assert region["island"]["suppressed"] and region["island"]["effect"] is None
    assert region["island"]["suppressed_reason"] == "small group"
    assert region["island"]["n_treated"] is None
    # the smallest shown group is hidden too, so the total cannot give the island back
    hidden = [g for g, r in region.items() if r["suppressed_reason"] == "complementary"]
    assert len(hidden) == 1
    # the small region has too few own comparison units: the whole comparison group is used
    assert region["island"]["comparison"] == "all comparison units"


def test_sub_panel_keeps_only_the_chosen_units() -> None:
    panel, _ = planted(n=20)
    keep = np.zeros(20, dtype=bool)
    keep[[1, 5, 7]] = True
    sub = sub_panel(panel, keep)
    assert list(sub.units["unit_id"]) == ["u001", "u005", "u007"]
    assert set(sub.cells["unit_id"].astype(str)) == {"u001", "u005", "u007"}
    assert len(sub.cells) == 3 * len(PERIODS)
