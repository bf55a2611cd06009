"""Callaway & Sant'Anna group-time effects: R did's published mpdta results, planted truth."""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest
from moderndid import aggte, att_gt, load_mpdta

from impactlens.estimators.base import KpiPanel
from impactlens.estimators.grid import PanelGrid
from impactlens.estimators.registry import ESTIMATORS, choose
from impactlens.estimators.staggered import CallawaySantAnna, long_frame

Simulate = Callable[..., KpiPanel]

# R did vignette (Callaway & Sant'Anna 2021): att_gt(yname="lemp", gname="first.treat",
# idname="countyreal", tname="year", xformla=~1, data=mpdta), never-treated comparison.
R_ATT_GT = {
    (2004, 2004): -0.0105,
    (2004, 2005): -0.0704,
    (2004, 2006): -0.1373,
    (2004, 2007): -0.1008,
    (2006, 2004): 0.0065,
    (2006, 2005): -0.0028,
    (2006, 2006): -0.0046,
    (2006, 2007): -0.0412,
    (2007, 2004): 0.0305,
    (2007, 2005): -0.0027,
    (2007, 2006): -0.0311,
    (2007, 2007): -0.0261,
}
R_SIMPLE_ATT, R_SIMPLE_SE = -0.0400, 0.0120


def mpdta_panel(covariates: tuple[str, ...] = ()) -> KpiPanel:
    """moderndid's shipped mpdta as a KpiPanel: counties, yearly periods on 1 January."""
    df = load_mpdta().to_pandas()
    df["unit_id"] = [f"c{c:05d}" for c in df["countyreal"]]
    df["period"] = pd.to_datetime(df["year"].astype(str) + "-01-01")
    units = df.groupby("unit_id", as_index=False).first().sort_values("unit_id")
    first = units["first.treat"]
    units = pd.DataFrame(
        {
            "unit_id": units["unit_id"],
            "group": np.where(first > 0, "treated", "comparison"),
            "first_period": pd.to_datetime(
                first.where(first > 0).astype("Int64").astype(str) + "-01-01", errors="coerce"
            ),
            "cluster": units["unit_id"],
            "lpop": units["lpop"],
        }
    ).reset_index(drop=True)
    cells = pd.DataFrame(
        {"unit_id": df["unit_id"], "period": df["period"], "value": df["lemp"], "weight": 1.0}
    )
    cells = cells.sort_values(["unit_id", "period"], ignore_index=True)
    return KpiPanel("lemp", "team", cells, units, covariates=covariates)


def gt_by_year(rows: list[dict[str, object]]) -> dict[tuple[int, int], float]:
    return {(int(str(r["group"])[:4]), int(str(r["time"])[:4])): float(str(r["att"])) for r in rows}


def test_moderndid_reproduces_r_did_on_mpdta() -> None:
    res = att_gt(
        data=load_mpdta(),
        yname="lemp",
        tname="year",
        idname="countyreal",
        gname="first.treat",
        xformla=None,
        est_method="dr",
        cband=False,
    )
    got = {
        (int(g), int(t)): float(a)
        for g, t, a in zip(res.groups, res.times, res.att_gt, strict=True)
    }
    assert got.keys() == R_ATT_GT.keys()
    for key, expected in R_ATT_GT.items():
        assert got[key] == pytest.approx(expected, abs=1e-4), key
    simple = aggte(res, type="simple", cband=False)
    assert round(float(simple.overall_att), 4) == R_SIMPLE_ATT
    assert round(float(simple.overall_se), 4) == R_SIMPLE_SE


def test_adapter_reproduces_r_did_on_mpdta() -> None:
    est = CallawaySantAnna(control="never", method="dr").fit(mpdta_panel())
    got = gt_by_year(est.diagnostics["group_time"])
    assert got.keys() == R_ATT_GT.keys()
    for key, expected in R_ATT_GT.items():
        assert got[key] == pytest.approx(expected, abs=1e-4), key
    assert est.effect is not None and est.se is not None
    assert round(est.effect, 4) == R_SIMPLE_ATT
    # county-level clusters: the analytic SE times sqrt(G / (G - 1)), G = 500
    assert est.se == pytest.approx(0.012034 * np.sqrt(500 / 499), abs=2e-6)
    assert est.ci_low == pytest.approx(est.effect - 1.959964 * est.se)
    assert (est.n_treated, est.n_comparison) == (191, 309)
    assert est.diagnostics["control_group"] == "never-treated units"
    assert (est.n_pre_periods, est.n_post_periods) == (1, 4)
    assert est.notes == ()


def test_event_study_matches_r_dynamic_aggregation() -> None:
    # R did: aggte(out, type="dynamic") on mpdta, event times -3..3
    expected = [0.0305, -0.0006, -0.0245, -0.0199, -0.0510, -0.1373, -0.1008]
    table = CallawaySantAnna().fit(mpdta_panel()).event_study
    assert table is not None
    assert table["event_time"].tolist() == [-3, -2, -1, 0, 1, 2, 3]
    assert table["effect"].round(4).tolist() == expected
    # cohorts 2004 (20 counties), 2006 (40), 2007 (131) behind each event time
    assert table["n_units"].tolist() == [131, 171, 171, 191, 60, 20, 20]
    assert (table["ci_low"] < table["effect"]).all()


def test_pretrend_tests_on_mpdta() -> None:
    est = CallawaySantAnna().fit(mpdta_panel())
    # R did reports the Wald pre-test of the 5 pre-period ATT(g,t) as p = 0.168 (chi-square,
    # unit variance); ours refers the clustered statistic to F(5, 495): slightly larger.
    p_cells = est.diagnostics["pretrend_p_group_time"]
    assert p_cells == pytest.approx(0.175, abs=0.005)
    assert est.pretrend_p is not None and 0.05 < est.pretrend_p < 0.1


@pytest.mark.parametrize("method", ["ipw", "reg"])
def test_methods_agree_without_covariates(method: str) -> None:
    # Without covariates DR, IPW and regression adjustment are all the plain 2x2 DiD.
    est = CallawaySantAnna(method=method).fit(mpdta_panel())  # type: ignore[arg-type]
    assert est.effect is not None
    assert round(est.effect, 4) == R_SIMPLE_ATT
    got = gt_by_year(est.diagnostics["group_time"])
    assert got[2004, 2006] == pytest.approx(-0.1373, abs=1e-4)


@pytest.mark.parametrize(
    ("control", "covariates", "control_group"),
    [("never", ("lpop",), "nevertreated"), ("notyet", (), "notyettreated")],
)
def test_adapter_matches_moderndid_directly(
    control: str, covariates: tuple[str, ...], control_group: str
) -> None:
    res = att_gt(
        data=load_mpdta(),
        yname="lemp",
        tname="year",
        idname="countyreal",
        gname="first.treat",
        xformla="~ lpop" if covariates else None,
        control_group=control_group,
        cband=False,
    )
    simple = aggte(res, type="simple", cband=False)
    est = CallawaySantAnna(control=control).fit(mpdta_panel(covariates))  # type: ignore[arg-type]
    got = gt_by_year(est.diagnostics["group_time"])
    for g, t, a in zip(res.groups, res.times, res.att_gt, strict=True):
        assert got[int(g), int(t)] == pytest.approx(float(a), abs=1e-10)
    assert est.effect == pytest.approx(float(simple.overall_att), abs=1e-10)
    assert est.se == pytest.approx(float(simple.overall_se) * np.sqrt(500 / 499), rel=1e-6)


def staggered_panel(
    seed: int, n_units: int = 900, n_periods: int = 12, missing: float = 0.0, n_teams: int = 0
) -> tuple[KpiPanel, float]:
    """Cohorts starting in periods 3, 6 and 9 plus never-trained units; the effect grows
    by 0.5 per period since the start (0.5 in the first exposed period). Returns the
    panel and the true mean effect over treated post cells."""
    rng = np.random.default_rng(seed)
    cohort = np.array([3, 6, 9, n_periods])[rng.integers(0, 4, n_units)]
    treated = cohort < n_periods
    t = np.arange(n_periods)
    event = t[None, :] - cohort[:, None]
    effect = np.where(event >= 0, 0.5 * (event + 1), 0.0)
    team = rng.integers(0, n_teams, n_units) if n_teams else np.arange(n_units)
    shock = rng.normal(scale=0.5 if n_teams else 0.0, size=(team.max() + 1, n_periods))
    y = (
        rng.normal(size=n_units)[:, None]
        + np.cumsum(rng.normal(scale=0.3, size=n_periods))[None, :]
        + shock[team]
        + effect
        + rng.normal(scale=0.5, size=(n_units, n_periods))
    )
    keep = rng.random(y.shape) >= missing
    ids = np.array([f"u{i:05d}" for i in range(n_units)])
    periods = pd.Timestamp("2024-01-07") + pd.to_timedelta(7 * t, unit="D")
    ui, ti = np.nonzero(keep)
    cells = pd.DataFrame(
        {"unit_id": ids[ui], "period": periods[ti], "value": y[ui, ti], "weight": 1.0}
    )
    units = pd.DataFrame(
        {
            "unit_id": ids,
            "group": np.where(treated, "treated", "comparison"),
            "first_period": pd.Series(periods[np.minimum(cohort, n_periods - 1)]).where(treated),
            "cluster": [f"t{k}" for k in team],
        }
    )
    truth = float(effect[(event >= 0) & keep & treated[:, None]].mean())
    return KpiPanel("kpi", "person", cells, units, seed=seed), truth


def test_recovers_planted_dynamic_effect() -> None:
    panel, truth = staggered_panel(1)
    est = CallawaySantAnna().fit(panel)
    assert est.effect is not None and est.se is not None
    assert abs(est.effect - truth) < 3 * est.se
    table = est.event_study
    assert table is not None
    post = table[table["event_time"].between(0, 2)]
    assert post["effect"].to_numpy() == pytest.approx([0.5, 1.0, 1.5], abs=0.15)
    assert est.pretrend_p is not None and est.pretrend_p > 0.01


def test_unbalanced_panel_is_balanced_with_a_note() -> None:
    panel, _ = staggered_panel(2, missing=0.01)
    est = CallawaySantAnna().fit(panel)
    dropped = int(
        (panel.cells.groupby("unit_id").size().reindex(panel.units["unit_id"]) < 12).sum()
    )
    assert dropped > 0
    assert (
        f"the panel is unbalanced: {dropped} units missing a period are dropped to balance it "
        "(R did's default)"
    ) in est.notes
    assert est.n_treated + est.n_comparison == 900 - dropped
    assert est.diagnostics["balanced_panel"] is True


def test_unbalanced_estimator_when_balancing_leaves_no_trained_unit() -> None:
    panel, truth = staggered_panel(5, n_units=300, n_periods=10)
    treated = panel.units.loc[panel.units["group"] == "treated", "unit_id"]
    # every trained unit misses its first period: balancing would drop them all
    gap = panel.cells["unit_id"].isin(treated) & (panel.cells["period"] == panel.periods[0])
    est = CallawaySantAnna().fit(KpiPanel("kpi", "person", panel.cells[~gap], panel.units))
    assert est.diagnostics["balanced_panel"] is False
    assert any("unbalanced-panel (repeated cross-section) estimator" in n for n in est.notes)
    assert not any("unit order" in n for n in est.notes)  # clusters map onto moderndid's rows
    assert est.effect is not None and est.se is not None
    assert abs(est.effect - truth) < 3 * est.se


def test_redundant_one_hot_covariates_are_dropped() -> None:
    panel, _ = staggered_panel(6, n_units=400)
    rng = np.random.default_rng(99)
    region = rng.integers(0, 3, len(panel.units))
    units = panel.units.assign(
        **{f"region_{k}": (region == k).astype(float) for k in range(3)}, tenure=rng.random(400)
    )
    covs = ("region_0", "region_1", "region_2", "tenure")
    full = CallawaySantAnna().fit(KpiPanel("kpi", "person", panel.cells, units, covariates=covs))
    reduced = CallawaySantAnna().fit(
        KpiPanel("kpi", "person", panel.cells, units, covariates=("region_0", "region_1", "tenure"))
    )
    # the full set of levels is collinear with the intercept; the last level adds nothing
    assert full.effect is not None
    assert full.effect == pytest.approx(reduced.effect, abs=1e-12)


def test_no_overlap_gives_no_estimate_and_says_why() -> None:
    panel, _ = staggered_panel(7, n_units=300)
    # a covariate that is 1 for every trained unit and 0 for every comparison unit
    units = panel.units.assign(trained=(panel.units["group"] == "treated").astype(float))
    est = CallawaySantAnna().fit(KpiPanel("kpi", "person", panel.cells, units, ("trained",)))
    assert est.effect is None
    assert est.notes[-1].startswith("moderndid could not estimate any effect")
    assert any(n.startswith("Overlap condition violated") and "similar)" in n for n in est.notes)


def test_errors_are_clustered_by_team() -> None:
    panel, _ = staggered_panel(3, n_teams=40)
    est = CallawaySantAnna().fit(panel)
    assert est.diagnostics["n_clusters"] == 40
    # moderndid clusters only through its multiplier bootstrap; ours is analytic from the
    # same influence functions, so the two agree up to bootstrap noise (and G/(G-1)).
    grid = PanelGrid.from_panel(panel)
    frame = long_frame(grid, panel).frame
    frame["team"] = grid.cluster[frame["id"].to_numpy() - 1]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # moderndid notes that the Wald pre-test is skipped
        res = att_gt(
            data=frame,
            yname="y",
            tname="t",
            idname="id",
            gname="g",
            clustervars=["team"],
            boot=True,
            biters=5000,
            random_state=0,
            cband=False,
        )
        boot = aggte(
            res,
            type="simple",
            boot=True,
            biters=5000,
            random_state=0,
            cband=False,
            clustervars=["team"],
        )
    assert est.se == pytest.approx(float(boot.overall_se), rel=0.05)
    unit_level = CallawaySantAnna().fit(
        KpiPanel("kpi", "person", panel.cells, panel.units.assign(cluster=panel.units["unit_id"]))
    )
    assert est.effect == pytest.approx(unit_level.effect)
    assert est.se is not None and unit_level.se is not None
    assert est.se > 1.1 * unit_level.se


def test_no_comparison_units_gives_no_estimate() -> None:
    panel, _ = staggered_panel(4, n_units=60)
    treated_only = panel.units[panel.units["group"] == "treated"].reset_index(drop=True)
    cells = panel.cells[panel.cells["unit_id"].isin(treated_only["unit_id"])]
    est = CallawaySantAnna().fit(KpiPanel("kpi", "person", cells, treated_only))
    assert est.effect is None
    assert est.notes[-1] == "no never-trained units to compare with"
    # the last cohort can still serve as the not-yet-treated comparison of earlier ones
    notyet = CallawaySantAnna(control="notyet").fit(KpiPanel("kpi", "person", cells, treated_only))
    assert notyet.effect is not None


def test_invalid_options() -> None:
    with pytest.raises(ValueError, match="control must be 'never' or 'notyet', not 'all'"):
        CallawaySantAnna(control="all")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="method must be 'dr', 'ipw' or 'reg', not 'ols'"):
        CallawaySantAnna(method="ols")  # type: ignore[arg-type]


def test_registry_chooses_it_for_staggered_plans(simulate: Simulate) -> None:
    assert ESTIMATORS["staggered"] is CallawaySantAnna
    estimator, why = choose(simulate(0, n_units=30), "staggered")
    assert isinstance(estimator, CallawaySantAnna)
    assert "Callaway & Sant'Anna 2021" in why
    auto, _ = choose(simulate(0, n_units=30), "auto")
    assert not isinstance(auto, CallawaySantAnna)


@pytest.mark.slow
def test_speed_on_the_demo_shape() -> None:
    """5,000 units x 78 weekly periods, 6 cohorts: the demo care program's shape."""
    rng = np.random.default_rng(5)
    n, p = 5000, 78
    cohort = np.array([10, 20, 30, 40, 50, 60, p])[rng.integers(0, 7, n)]
    y = rng.normal(size=(n, p)) + (np.arange(p)[None, :] >= cohort[:, None])
    ids = np.array([f"u{i:05d}" for i in range(n)])
    periods = pd.Timestamp("2024-01-07") + pd.to_timedelta(7 * np.arange(p), unit="D")
    cells = pd.DataFrame(
        {"unit_id": np.repeat(ids, p), "period": np.tile(periods, n), "value": y.ravel()}
    ).assign(weight=1.0)
    units = pd.DataFrame(
        {
            "unit_id": ids,
            "group": np.where(cohort < p, "treated", "comparison"),
            "first_period": pd.Series(periods[np.minimum(cohort, p - 1)]).where(cohort < p),
            "cluster": ids,
        }
    )
    start = time.perf_counter()
    est = CallawaySantAnna().fit(KpiPanel("kpi", "person", cells, units))
    elapsed = time.perf_counter() - start
    assert est.effect == pytest.approx(1.0, abs=0.05)
    assert len(est.diagnostics["group_time"]) == 6 * (p - 1)
    assert elapsed < 20, f"{elapsed:.1f} s"
