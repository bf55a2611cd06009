"""``check_plan`` against planted data in an in-memory Ibis DuckDB connection."""

from __future__ import annotations

import math
from datetime import date
from typing import Any

import ibis
import numpy as np
import pandas as pd
import pytest
from rich.console import Console
from scipy.stats import norm

from impactlens.domain.check import SEVERITY_RANK, Finding
from impactlens.domain.plan import ImpactPlan
from impactlens.services.plan_check import check_plan, format_findings

START = date(2024, 7, 1)
# 18 month ends, 12 of them before START
PERIODS = list(pd.date_range("2023-07-31", periods=18, freq="ME").date)
N = 60

PLAN: dict[str, Any] = {
    "program": "care",
    "objective": {"outcome": "Lift FCR from 70% to 75% this year", "behaviours": ["Confirm"]},
    "sponsor": "Head of Care",
    "stakeholders": ["Team leads"],
    "personas": ["new agent", "tenured agent"],
    "segments": ["region"],
    "assets": [{"id": "listening", "kind": "microlearning"}],
    "kpis": [
        {"id": "fcr", "direction": "increase", "unit": "person", "baseline": 70, "target": 75,
         "value_per_unit": 40, "primary": True},
    ],
    "comparison": {"covariates": ["tenure_years"], "eligible": {"department": "Care"}},
}  # fmt: skip
TEAM_KPI = {"id": "incidents", "direction": "decrease", "unit": "team", "baseline": 5,
            "target": 3, "value_per_unit": 100, "primary": True}  # fmt: skip


def plan(**update: Any) -> ImpactPlan:
    return ImpactPlan.model_validate({**PLAN, **update})


def people() -> pd.DataFrame:
    ids = range(N)
    return pd.DataFrame(
        {
            "person_id": [f"p{i:02}" for i in ids],
            "team_id": [f"t{i // 5:02}" for i in ids],  # 12 teams of 5
            "persona": ["new agent" if i % 2 else "tenured agent" for i in ids],
            "region": ["N" if i % 4 < 2 else "S" for i in ids],
            "department": ["Care"] * N,
            "tenure_years": [1.0 + i % 7 for i in ids],
        }
    )


def participation(n: int = 30, **cols: Any) -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "person_id": [f"p{i:02}" for i in range(n)],
            "program": "care",
            "start_date": [START] * n,
            "status": "completed",
        }
    )
    return frame.assign(**cols)


def kpis(unit_sd: float = 3.0, noise_sd: float = 2.0, seed: int = 7) -> pd.DataFrame:
    """Person KPI 'fcr' (70 + unit level + noise) and team KPI 'incidents', monthly."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(N):
        level = 70 + rng.normal(0, unit_sd)
        rows += [("fcr", f"p{i:02}", p, level + rng.normal(0, noise_sd)) for p in PERIODS]
    for t in range(N // 5):
        rows += [("incidents", f"t{t:02}", p, 5 + rng.normal(0, 0.5)) for p in PERIODS]
    return pd.DataFrame(rows, columns=["kpi", "unit_id", "period", "value"])


@pytest.fixture(scope="module")
def con() -> Any:
    return ibis.duckdb.connect()


def tables(con: Any, **frames: pd.DataFrame | None) -> dict[str, ibis.Table]:
    data = {"people": people(), "participation": participation(), "kpis": kpis(), **frames}
    return {
        name: con.create_table(name, frame, overwrite=True)
        for name, frame in data.items()
        if frame is not None
    }


def run(con: Any, the_plan: ImpactPlan | None = None, *, min_group_size: int = 5,
        **frames: pd.DataFrame | None) -> list[Finding]:  # fmt: skip
    return check_plan(the_plan or plan(), tables(con, **frames), min_group_size=min_group_size)


def by_code(findings: list[Finding]) -> dict[str, Finding]:
    return {f.code: f for f in findings}


def test_aligned_plan_with_good_data_has_no_findings(con: Any) -> None:
    assert run(con) == []


def test_aligned_team_kpi_with_good_data_has_no_findings(con: Any) -> None:
    assert run(con, plan(kpis=[TEAM_KPI])) == []


def test_empty_workspace_says_what_is_not_imported(con: Any) -> None:
    found = check_plan(plan(), {}, min_group_size=5)
    codes = [(f.severity, f.code) for f in found]
    assert codes == [("error", "kpi-no-data"), ("error", "no-people"), ("info", "no-participants")]
    assert found[0].message == "KPI 'fcr' has no rows: no KPI data imported yet."
    assert found[1].message.startswith("No people imported yet")
    assert found[2].message == (
        "No participation rows for this program yet: it is planned, not launched."
    )


def test_empty_tables_count_as_not_imported(con: Any) -> None:
    schema = ibis.schema(
        {"kpi": "string", "unit_id": "string", "period": "date", "value": "float64"}
    )
    empty = {"kpis": con.create_table("kpis", schema=schema, overwrite=True)}
    found = by_code(check_plan(plan(), empty, min_group_size=5))
    assert found["kpi-no-data"].message == "KPI 'fcr' has no rows: no KPI data imported yet."


def test_findings_are_ordered_errors_first_then_by_code(con: Any) -> None:
    bare = plan(objective=None, sponsor=None, stakeholders=[], personas=["ghost"])
    found = run(con, bare, participation=participation(N))
    keys = [(SEVERITY_RANK[f.severity], f.code) for f in found]
    assert keys == sorted(keys) and len(found) >= 5
    assert found[0].severity == "error"
    assert run(con, bare, participation=participation(N)) == found  # deterministic


# -- data about people ---------------------------------------------------------------


def test_personas_missing_from_people(con: Any) -> None:
    f = by_code(run(con, plan(personas=["new agent", "veteran"])))["persona-not-in-data"]
    assert f.severity == "warning"
    assert f.message == (
        "Personas 'veteran' appear in no people row (people have: 'new agent', 'tenured agent')."
    )


def test_people_without_a_persona_column(con: Any) -> None:
    f = by_code(run(con, people=people().drop(columns="persona")))["persona-not-in-data"]
    assert "people have no 'persona' column" in f.message


def test_segments_and_covariates_people_do_not_have(con: Any) -> None:
    the_plan = plan(segments=["region", "shift"], comparison={"covariates": ["grade"]})
    found = by_code(run(con, the_plan))
    assert found["segment-unknown-column"].message == (
        "The plan's segments name 'shift', which people do not have."
    )
    assert found["covariate-unknown-column"].severity == "warning"
    assert "'grade'" in found["covariate-unknown-column"].message


def test_eligible_filter_on_a_missing_column_is_an_error(con: Any) -> None:
    found = by_code(run(con, plan(comparison={"eligible": {"division": "Care"}})))
    f = found["eligible-unknown-column"]
    assert f.severity == "error"
    assert f.message.startswith("comparison.eligible filters on 'division', which people do not")
    assert "'department'" in f.fix
    assert "no-comparison" not in found


def test_eligible_accepts_a_list_of_values(con: Any) -> None:
    frame = people().assign(department=["Care"] * 30 + ["Sales"] * 30)
    assert (
        run(con, plan(comparison={"eligible": {"department": ["Care", "Sales"]}}), people=frame)
        == []
    )


# -- participation and the comparison group -------------------------------------------


def test_no_participants_yet_is_planned(con: Any) -> None:
    other = participation().assign(program="another")
    f = by_code(run(con, participation=other))["no-participants"]
    assert f.severity == "info" and "planned" in f.message


def test_nobody_eligible_left_untrained_is_an_error(con: Any) -> None:
    f = by_code(run(con, participation=participation(N)))["no-comparison"]
    assert f.severity == "error"
    assert f.message.startswith("Nobody eligible is left untrained: 0 comparison people against 60")


def test_untrained_outside_eligible_do_not_count_as_comparison(con: Any) -> None:
    frame = people().assign(department=["Care"] * 30 + ["Sales"] * 30)
    f = by_code(run(con, people=frame))["no-comparison"]
    assert "0 comparison people against 30 trained" in f.message


def test_trained_people_outside_eligible_are_reported(con: Any) -> None:
    frame = people().assign(department=["Sales"] * 5 + ["Care"] * 55)
    f = by_code(run(con, people=frame))["trained-outside-eligible"]
    assert (f.severity, f.message.split(";")[0]) == (
        "info",
        "5 trained people do not match comparison.eligible",
    )


def test_eligible_value_compared_as_text_when_types_differ(con: Any) -> None:
    frame = people().assign(grade=[3] * N)
    the_plan = plan(comparison={"eligible": {"grade": "3"}})
    assert run(con, the_plan, people=frame) == []
    frame = people().assign(grade=["3"] * N)
    assert run(con, plan(comparison={"eligible": {"grade": 3}}), people=frame) == []


def test_no_comparison_is_a_warning_when_the_plan_says_method_none(con: Any) -> None:
    the_plan = plan(comparison={"method": "none", "eligible": {"department": "Care"}})
    f = by_code(run(con, the_plan, participation=participation(N)))["no-comparison"]
    assert f.severity == "warning"


def test_randomised_plan_needs_no_untrained_eligible(con: Any) -> None:
    arms = participation(N, arm=["treatment", "control"] * (N // 2))
    assert run(con, participation=arms) == []


def test_randomised_without_control_arm_is_an_error(con: Any) -> None:
    f = by_code(run(con, participation=participation(N, arm="treatment")))["no-control-arm"]
    assert f.severity == "error" and "none is 'control'" in f.message


def test_team_kpi_needs_teams_without_any_participant(con: Any) -> None:
    one_per_team = participation(N).iloc[::5]  # p00, p05, ...: one member of every team
    f = by_code(run(con, plan(kpis=[TEAM_KPI]), participation=one_per_team))["no-comparison"]
    assert f.message.startswith("Nobody eligible is left untrained: 0 comparison teams against 12")


def test_nobody_at_the_rung_yet(con: Any) -> None:
    f = by_code(run(con, participation=participation(status="assigned")))["nobody-trained-yet"]
    assert (f.severity, f.message) == (
        "info",
        "30 participation rows, none at the rung 'completed' yet.",
    )


def test_dropped_counts_as_enrolled(con: Any) -> None:
    the_plan = plan(participants={"status": "enrolled"})
    assert run(con, the_plan, participation=participation(status="dropped")) == []


# -- KPI data -------------------------------------------------------------------------


def test_kpi_with_no_rows_names_the_kpis_the_data_has(con: Any) -> None:
    kpi = {**PLAN["kpis"][0], "id": "fcr_pct"}
    f = by_code(run(con, plan(kpis=[kpi])))["kpi-no-data"]
    assert f.severity == "error"
    assert f.message == "KPI 'fcr_pct' has no rows in the KPI data (it has: 'fcr', 'incidents')."


def test_fewer_than_two_pre_periods_is_an_error(con: Any) -> None:
    early = participation(start_date=date(2023, 8, 15))
    f = by_code(run(con, participation=early))["no-pre-period"]
    assert f.severity == "error"
    assert f.message.startswith(
        "KPI 'fcr' has 1 period(s) of data before the first start date 2023-08-15; at least 2"
    )
    assert "2023-08-15" in f.fix


def test_a_short_pre_period_is_a_warning(con: Any) -> None:
    found = by_code(run(con, participation=participation(start_date=date(2024, 1, 15))))
    assert found["short-pre-period"].severity == "warning"
    assert found["short-pre-period"].message.startswith(
        "KPI 'fcr' has only 6 periods of data before the first start date 2024-01-15"
    )
    assert "no-pre-period" not in found


def test_planned_program_counts_all_kpi_history(con: Any) -> None:
    one_period = kpis().query("period == @PERIODS[0]")
    found = by_code(run(con, participation=None, kpis=one_period))
    assert found["no-pre-period"].message.startswith("KPI 'fcr' has 1 period(s) of data so far")


def test_kpi_rows_for_unknown_units(con: Any) -> None:
    frame = kpis().assign(unit_id=lambda d: "x" + d.unit_id)
    found = [f for f in run(con, kpis=frame) if f.code == "kpi-units-unmatched"]
    assert [f.message for f in found] == [
        "KPI 'fcr' has rows for none of the 30 trained people.",
        "KPI 'fcr' has rows for none of the 30 comparison people.",
    ]
    assert found[0].severity == "error"


def _oracle(frame: pd.DataFrame, n_t: int, n_c: int, delta: float) -> tuple[float, int]:
    """The contract's closed-form MDE and units needed, from a pandas view of the cells."""
    pre = frame[(frame.kpi == "fcr") & (frame.period < START)]
    sd = pre.value.std(ddof=1)
    within = ((pre.value - pre.groupby("unit_id").value.transform("mean")) ** 2).sum()
    r2 = 1 - within / (len(pre) - pre.unit_id.nunique()) / pre.value.var(ddof=1)
    share, z = n_t / (n_t + n_c), norm.ppf(0.975) + norm.ppf(0.8)
    mde = z * sd * math.sqrt((1 - r2) / (share * (1 - share) * (n_t + n_c)))
    needed = math.ceil((z * sd / delta) ** 2 * (1 - r2) / (share * (1 - share)))
    return mde, needed


def test_target_smaller_than_the_detectable_effect(con: Any) -> None:
    kpi = {**PLAN["kpis"][0], "target": 70.5}
    f = by_code(run(con, plan(kpis=[kpi])))["too-few-to-detect"]
    mde, needed = _oracle(kpis(), 30, 30, 0.5)
    assert f.severity == "warning"
    assert f.message.startswith("KPI 'fcr': with 30 trained and 30 comparison people, the smallest")
    assert f"is {mde:.4g} (SD" in f.message
    assert f"the target asks for 0.5; about {needed} people would be needed." in f.message
    assert needed > N and f"about {needed} people" in f.fix


def test_noisy_kpi_with_few_people(con: Any) -> None:
    """Planted: no unit levels (R² ≈ 0), SD 10, 8 people: a 5-point target is out of reach."""
    few = people().head(8)
    frame = kpis(unit_sd=0.0, noise_sd=10.0)
    f = by_code(run(con, people=few, participation=participation(4), kpis=frame))[
        "too-few-to-detect"
    ]
    mde, needed = _oracle(frame, 4, 4, 5.0)
    assert 2.8 * 10 * math.sqrt(1 / 2) * 0.8 < mde < 2.8 * 10 * math.sqrt(1 / 2) * 1.2
    assert f"is {mde:.4g} (SD" in f.message and f"about {needed} people" in f.message


def test_planned_program_assumes_half_trained(con: Any) -> None:
    kpi = {**PLAN["kpis"][0], "target": 70.5}
    f = by_code(run(con, plan(kpis=[kpi]), participation=None))["too-few-to-detect"]
    assert f.message.startswith("KPI 'fcr': if half of 60 people were trained, the smallest")


def test_enough_people_for_the_target_gives_no_power_warning(con: Any) -> None:
    assert "too-few-to-detect" not in by_code(run(con))


# -- hard data: check predicts what analyze cannot answer ---------------------------------


def test_one_trained_person_predicts_synthetic_did_and_evidence_none(con: Any) -> None:
    f = by_code(run(con, participation=participation(1)))["too-few-units"]
    assert f.severity == "warning"
    assert f.message == (
        "KPI 'fcr': 1 trained and 59 comparison people; with fewer than 5 in a group "
        "analyze grades the evidence none whatever the estimate. With so few trained people and "
        "12 periods before the start it fits synthetic difference-in-differences (a "
        "weighted blend of comparison people) and reports the effect as indicative only."
    )
    assert "randomise which ones" in f.fix


def test_one_trained_team_is_too_few_units(con: Any) -> None:
    # p00-p04 are team t00: 1 trained team against the 11 others
    f = by_code(run(con, plan(kpis=[TEAM_KPI]), participation=participation(5)))["too-few-units"]
    assert f.message.startswith("KPI 'incidents': 1 trained and 11 comparison teams; with")
    assert "synthetic difference-in-differences" in f.message


def test_few_comparison_units_without_synthetic_mention(con: Any) -> None:
    f = by_code(run(con, participation=participation(N - 3)))["too-few-units"]
    assert f.message == (
        "KPI 'fcr': 57 trained and 3 comparison people; with fewer than 5 in a group "
        "analyze grades the evidence none whatever the estimate."
    )


def test_five_in_each_group_is_not_too_few(con: Any) -> None:
    found = by_code(run(con, participation=participation(5)))
    assert "too-few-units" not in found
    randomised = participation(N, arm=["treatment"] * 2 + ["control"] * (N - 2))
    assert "too-few-units" not in by_code(run(con, participation=randomised))


def test_constant_kpi_is_an_error(con: Any) -> None:
    zeros = kpis().assign(value=lambda d: np.where(d.kpi == "fcr", 0.0, d.value))
    f = by_code(run(con, kpis=zeros))["kpi-constant"]
    assert f.severity == "error"
    assert f.message == (
        f"KPI 'fcr' is 0 in all {N * len(PERIODS):,} rows: a KPI that does not vary shows no "
        "effect, and analyze grades the evidence none (standard error 0)."
    )


def test_kpi_constant_before_launch_is_a_warning(con: Any) -> None:
    frame = kpis()
    before = (frame.kpi == "fcr") & (frame.period < START)
    f = by_code(run(con, kpis=frame.assign(value=frame.value.where(~before, 70.0))))["kpi-constant"]
    assert f.severity == "warning"
    assert f.message.startswith(f"KPI 'fcr' is 70 in all {N * 12:,} rows before launch: there")


def test_covariate_that_separates_the_groups_is_an_error(con: Any) -> None:
    # the 30 trained people (p00-p29) all have 10+ years, the comparison 1-7
    frame = people().assign(tenure_years=[10.0 + i if i < 30 else 1.0 + i % 7 for i in range(N)])
    f = by_code(run(con, people=frame))["covariate-separates"]
    assert f.severity == "error"
    assert f.message == (
        "Covariate 'tenure_years' separates trained from comparison people completely "
        "(trained 10 to 39, comparison 1 to 7): no comparison person resembles a trained "
        "one, so analyze finds no overlap and gives no estimate (evidence none)."
    )


def test_categorical_covariate_that_separates_the_groups(con: Any) -> None:
    frame = people().assign(site=["A" if i < 15 else "B" if i < 30 else "C" for i in range(N)])
    f = by_code(run(con, plan(comparison={"covariates": ["site"]}), people=frame))[
        "covariate-separates"
    ]
    assert "(trained: 'A', 'B'; comparison: 'C')" in f.message
    touching = people().assign(tenure_years=[7.0 if i < 30 else 1.0 + i % 7 for i in range(N)])
    assert "covariate-separates" not in by_code(run(con, people=touching))


def test_kpi_gaps_share_and_staggered_drop(con: Any) -> None:
    frame = kpis()
    rng = np.random.default_rng(3)
    drop = (frame.kpi == "fcr") & (rng.random(len(frame)) < 0.2)
    gappy = frame[~drop]
    n_missing = int(drop.sum())
    units = gappy[gappy.kpi == "fcr"].groupby("unit_id").period.nunique()
    n_gappy = int((units < len(PERIODS)).sum())
    f = by_code(run(con, kpis=gappy))["kpi-gaps"]
    share = n_missing / (N * len(PERIODS))
    assert f.severity == "warning"
    assert f.message.startswith(
        f"KPI 'fcr' is missing {share:.0%} of its unit-periods ({n_missing:,} of "
        f"{N * len(PERIODS):,}); {n_gappy} of {N} people lack at least one period."
    )
    staggered = plan(comparison={**PLAN["comparison"], "method": "staggered"})
    g = by_code(run(con, staggered, kpis=gappy))["kpi-gaps"]
    assert g.message.endswith(
        f"drops every unit with a gap, so those {n_gappy} people would be left out."
    )
    assert "comparison.method: auto" in g.fix


def test_a_few_gaps_are_an_info(con: Any) -> None:
    frame = kpis()
    f = by_code(run(con, kpis=frame.drop(index=[0, 1])))["kpi-gaps"]
    assert f.severity == "info"
    assert "(2 of 1,080); 1 of 60 people lack at least one period." in f.message


# -- privacy ----------------------------------------------------------------------------


def test_small_persona_group_among_participants(con: Any) -> None:
    frame = people()
    frame.loc[:2, "persona"] = "rare"
    found = run(con, plan(personas=["new agent", "tenured agent", "rare"]), people=frame)
    f = by_code(found)["small-group"]
    assert f.severity == "warning"
    assert f.message == (
        "Among participants, persona groups below 5 people: rare (3); they will be hidden "
        "from viewers."
    )


def test_the_plan_can_raise_the_privacy_threshold(con: Any) -> None:
    found = [f for f in run(con, plan(privacy={"min_group_size": 20})) if f.code == "small-group"]
    assert [f.message.split(":")[1].split(";")[0].strip() for f in found] == [
        "new agent (15), tenured agent (15)",
        "N (16), S (14)",
    ]
    assert all("below 20 people" in f.message for f in found)


# -- the terminal table -----------------------------------------------------------------


def _text(findings: list[Finding]) -> str:
    console = Console(record=True, width=200, color_system=None)
    console.print(format_findings(findings))
    return console.export_text()


def test_format_findings_shows_severity_problem_and_fix(con: Any) -> None:
    found = run(con, plan(personas=["[new driver]"]))
    text = _text(found)
    assert "severity" in text and "what is wrong" in text and "how to fix it" in text
    assert "warning" in text and "'[new driver]'" in text  # brackets are text, not markup
    assert "(persona-not-in-data)" in text and "program" not in text.splitlines()[1]


def test_format_findings_adds_a_program_column_for_several_programs() -> None:
    found = [
        Finding(severity="error", code="a", message="m1", fix="f1", program="one"),
        Finding(severity="info", code="b", message="m2", fix="f2", program="two"),
    ]
    text = _text(found)
    assert "program" in text and "one" in text and "two" in text
    assert "No findings" in _text([])
