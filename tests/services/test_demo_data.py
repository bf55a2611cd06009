"""The demo organisation: contract-shaped files, determinism and the planted truth."""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from impactlens.domain.plan import parse_plan
from impactlens.services.demo_data import KINDS, DemoFiles, generate_demo
from impactlens.services.demo_data.truth import average_planted_effect, trained_starts

SMALL = {"people": 800, "teams": 60}
CARE, MASTER, PILOT = "customer-care-excellence", "presentation-masterclass", "packaging-pilot"

# contract.md, "Import kinds"
REQUIRED = {
    "people": {"person_id"},
    "participation": {"person_id", "program", "start_date"},
    "activity": {"person_id", "asset_id", "verb", "timestamp"},
    "assessments": {"person_id", "skill", "taken_at", "score"},
    "surveys": {"program", "question_id", "response", "submitted_at"},
    "kpis": {"kpi", "unit_id", "period", "value"},
    "costs": {"program", "item", "amount"},
}
OPTIONAL = {
    "people": {"team_id", "manager_id", "role", "location", "persona", "hire_date",
               "termination_date"},
    "participation": {"end_date", "cohort", "status", "arm", "trained_from"},
    "activity": {"program", "duration_minutes", "score", "max_score", "success",
                 "progress_pct", "attempt_id"},
    "assessments": {"min_score", "max_score", "phase", "confidence", "program"},
    "surveys": {"response_id", "person_id", "level", "comment"},
    "kpis": {"weight"},
    "costs": {"category", "prorate_share", "currency"},
}  # fmt: skip
KEYS = {
    "participation": ["person_id", "program"],
    "assessments": ["person_id", "skill", "taken_at"],
    "surveys": ["response_id"],
    "kpis": ["kpi", "unit_id", "period"],
    "costs": ["program", "item"],
}


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> DemoFiles:
    return generate_demo(tmp_path_factory.mktemp("demo"), seed=7, **SMALL)


def read(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def frame(demo: DemoFiles, kind: str, name: str | None = None) -> pd.DataFrame:
    paths = [p for p in demo.files[kind] if name is None or name in p.name]
    return pd.concat([read(p) for p in paths], ignore_index=True)


def truth(demo: DemoFiles) -> dict[str, dict[str, float]]:
    return json.loads(demo.truth.read_text())


def test_same_seed_writes_identical_bytes(demo: DemoFiles, tmp_path: Path) -> None:
    again = generate_demo(tmp_path, seed=7, **SMALL)
    first = {p.relative_to(demo.directory): p.read_bytes() for p in demo.all_files()}
    second = {p.relative_to(again.directory): p.read_bytes() for p in again.all_files()}
    assert first.keys() == second.keys()
    assert [k for k in first if first[k] != second[k]] == []


def test_another_seed_gives_another_organisation(demo: DemoFiles, tmp_path: Path) -> None:
    other = generate_demo(tmp_path, seed=8, **SMALL)
    assert other.files["people"][0].read_bytes() != demo.files["people"][0].read_bytes()


def test_files_are_listed_by_kind(demo: DemoFiles) -> None:
    assert tuple(demo.files) == KINDS
    assert all(p.is_file() for p in demo.all_files())
    names = {kind: sorted(p.name for p in paths) for kind, paths in demo.files.items()}
    assert names["activity"] == ["activity.csv", "activity_lms.csv"]
    assert len(names["participation"]) == 3 and len(names["kpis"]) == 3
    assert sorted(p.name for p in demo.plans) == sorted(f"{p}.yaml" for p in (CARE, MASTER, PILOT))
    assert demo.truth == demo.directory / "truth.json"


def test_columns_follow_the_contract(demo: DemoFiles) -> None:
    people = frame(demo, "people")
    extras = set(people.columns) - REQUIRED["people"] - OPTIONAL["people"]
    assert extras == {"email", "lms_account", "department", "tenure_years",
                      "employment_type", "fte"}  # fmt: skip
    for kind in KINDS[1:]:
        for path in demo.files[kind]:
            columns = set(read(path).columns)
            if path.name == "activity_lms.csv":  # an identity column in place of person_id
                columns = columns - {"lms_account"} | {"person_id"}
            assert REQUIRED[kind] <= columns, path.name
            assert columns <= REQUIRED[kind] | OPTIONAL[kind], path.name


def test_keys_are_unique_and_enums_valid(demo: DemoFiles) -> None:
    assert frame(demo, "people")["person_id"].is_unique
    for kind, key in KEYS.items():
        assert not frame(demo, kind).duplicated(key).any(), kind
    activity = frame(demo, "activity", "activity.csv")
    assert not activity.duplicated(["person_id", "asset_id", "verb", "timestamp"]).any()
    part = frame(demo, "participation")
    assert set(part["status"]) == {"assigned", "enrolled", "completed", "dropped"}
    assert set(frame(demo, "participation", PILOT)["arm"]) == {"treatment", "control"}
    assert set(frame(demo, "assessments")["phase"]) == {"pre", "post"}
    levels = {"reaction", "relevance", "confidence", "application"}
    assert set(frame(demo, "surveys")["level"]) == levels
    costs = frame(demo, "costs")
    assert set(costs["category"]) == {"needs_assessment", "development", "delivery",
                                      "participant_time", "evaluation", "overhead"}  # fmt: skip
    assert costs["prorate_share"].astype(float).between(0, 1).all()
    assert set(costs["currency"]) == {"EUR"}


def test_people_form_a_managed_organisation(demo: DemoFiles) -> None:
    people = frame(demo, "people")
    assert len(people) == 800 and people["team_id"].nunique() == 60
    assert people["person_id"].str.fullmatch(r"E\d{5}").all()
    assert people["email"].str.fullmatch(r"[a-z]+\.[a-z]+\.\d+@demo-corp\.example").all()
    assert people["lms_account"].str.fullmatch(r"lms-\d+").all()
    assert people["lms_account"].is_unique and people["email"].is_unique
    managers = people.loc[people["manager_id"] != "", "manager_id"]
    assert managers.isin(people["person_id"]).all()
    leads = people[people["persona"] == "team lead"]
    assert len(leads) == 60 and set(managers) <= set(leads["person_id"])
    assert people["location"].nunique() == 5
    assert set(people["department"]) == {"Customer Care", "Sales", "Field Ops"}


def test_kpis_are_weekly_sundays_with_gaps(demo: DemoFiles) -> None:
    csat = frame(demo, "kpis", "csat")
    periods = pd.to_datetime(pd.Series(sorted(set(csat["period"]))))
    assert (periods.dt.day_of_week == 6).all()
    assert periods.max() == pd.Timestamp("2026-09-27")
    assert periods.min() == pd.Timestamp("2025-04-06")
    assert len(periods) == 76  # 78 weeks minus two reporting outages
    per_unit = csat.groupby("unit_id").size()
    assert (per_unit < 76).mean() > 0.3  # random gaps, hires and leavers
    values = csat["value"].astype(float)
    assert values.between(0, 100).all() and 70 < values.mean() < 80
    complaints = frame(demo, "kpis", "complaints")
    assert (complaints["weight"].astype(int) > 0).all()
    assert complaints["unit_id"].str.fullmatch(r"T\d{3}").all()


def test_truth_keys_match_the_plans(demo: DemoFiles) -> None:
    plans = [parse_plan(p.read_text(), str(p)) for p in demo.plans]
    assert {p.program: {k.id for k in p.kpis} for p in plans} == {
        program: set(kpis) for program, kpis in truth(demo).items()
    }
    pilot = next(p for p in plans if p.program == PILOT)
    assert pilot.kpis[0].unit == "team" and pilot.comparison.method == "randomised"
    care = next(p for p in plans if p.program == CARE)
    assert care.objective and care.objective.behaviours and care.sponsor
    assert care.assets and care.personas == ["new agent", "senior agent"]
    assert care.kpis[0].baseline and care.kpis[0].target and care.kpis[0].value_per_unit
    assert care.comparison.eligible["department"] == "Customer Care"
    assert all("#" in p.read_text() for p in demo.plans)  # commented for a reader


def _cohort_did(kpi: pd.DataFrame, treated: pd.Series, never: set[str]) -> float:
    """Group-time DiD vs never-enrolled, weighted by treated post cells (the estimand).

    Each unit's own post-minus-pre change, so hires and leavers in the comparison
    group do not shift its mean.
    """
    rows = kpi.assign(value=kpi["value"].astype(float), start=kpi["unit_id"].map(treated))
    control = rows[rows["unit_id"].isin(never)]

    def changes(group: pd.DataFrame, start: str) -> tuple[float, int]:
        post = group["period"] >= start
        means = group.groupby([group["unit_id"], post])["value"].mean().unstack()
        return float((means[True] - means[False]).mean()), int(post.sum())

    total = weight = 0.0
    for start, group in rows[rows["start"].notna()].groupby("start"):
        treated_change, cells = changes(group, str(start))
        total += (treated_change - changes(control, str(start))[0]) * cells
        weight += cells
    return total / weight


def test_care_program_did_recovers_truth_and_naive_overstates(demo: DemoFiles) -> None:
    effect = truth(demo)[CARE]["csat"]
    assert 2.4 < effect < 3.0  # +3 points, ramped in over four weeks
    csat = frame(demo, "kpis", "csat")
    part = frame(demo, "participation", CARE)
    people = frame(demo, "people")
    agents = people.loc[people["persona"].isin(["new agent", "senior agent"]), "person_id"]
    never = set(agents) - set(part["person_id"])
    done = part[part["status"] == "completed"].set_index("person_id")["start_date"]
    assert abs(_cohort_did(csat, done, never) - effect) < 0.6
    post = csat["period"] >= part["start_date"].min()
    value = csat["value"].astype(float)
    naive = value[post & csat["unit_id"].isin(done.index)].mean()
    naive -= value[post & csat["unit_id"].isin(never)].mean()
    assert naive - effect > 2.0  # self-selection of high performers
    assert 0.03 < (part["status"] == "dropped").mean() < 0.25
    assert part["cohort"].nunique() == 6


def test_masterclass_is_loved_but_changes_nothing(demo: DemoFiles) -> None:
    assert truth(demo)[MASTER] == {"deals_closed": 0.0}
    surveys = frame(demo, "surveys")
    mine = surveys[surveys["program"] == MASTER]
    satisfaction = mine.loc[mine["question_id"] == "satisfaction", "response"].astype(int)
    assert satisfaction.mean() > 4.25  # ~4.6 expected; small org, few answers
    tests = frame(demo, "assessments")
    tests = tests[tests["program"] == MASTER].assign(score=lambda f: f["score"].astype(float))
    paired = tests.pivot_table(index=["person_id", "skill"], columns="phase", values="score")
    assert (paired["post"] - paired["pre"]).mean() > 12


def test_pilot_is_randomised_by_whole_teams(demo: DemoFiles) -> None:
    part = frame(demo, "participation", PILOT)
    people = frame(demo, "people").set_index("person_id")
    part["team"] = part["person_id"].map(people["team_id"])
    arms = part.groupby("team")["arm"].nunique()
    assert (arms == 1).all()  # no team with mixed arms
    by_arm = part.groupby("team")["arm"].first().value_counts()
    assert by_arm["treatment"] == by_arm["control"] == 6
    assert set(people.loc[part["person_id"], "department"]) == {"Field Ops"}
    assert part["start_date"].nunique() == 1  # the assignment date, for both arms
    control = part[part["arm"] == "control"]
    assert set(control["status"]) == {"assigned"} and set(control["end_date"]) == {""}
    treated = part[part["arm"] == "treatment"]
    assert 0.75 < (treated["status"] == "completed").mean() < 0.95
    assert -0.8 < truth(demo)[PILOT]["complaints_per_100"] < -0.4


def test_learning_records_are_realistically_messy(demo: DemoFiles) -> None:
    people = frame(demo, "people")
    activity = frame(demo, "activity", "activity.csv")
    lms = frame(demo, "activity", "activity_lms.csv")
    assert 0.1 < 100 * len(lms) / (len(lms) + len(activity)) < 35
    unknown = ~activity["person_id"].isin(people["person_id"])
    assert 0.001 < unknown.mean() < 0.015
    assert lms["lms_account"].isin(people["lms_account"]).mean() > 0.97
    assert {"launched", "completed", "attempted", "passed"} <= set(activity["verb"])
    assert lms["timestamp"].str.fullmatch(r"\d{10}").all()  # epoch seconds
    surveys = frame(demo, "surveys")
    assert 0.05 < (surveys["person_id"] == "").mean() < 0.3
    applied = surveys.loc[surveys["question_id"] == "applied", "response"]
    assert set(applied) == {"yes", "no"}
    pcts = surveys.loc[surveys["question_id"].isin(["contribution_pct", "confidence_pct"])]
    assert pcts["response"].astype(int).between(0, 100).all()
    learners = frame(demo, "participation").query("arm != 'control'")
    reaction = surveys[surveys["question_id"] == "satisfaction"]
    assert 0.45 < len(reaction) / len(learners) < 0.7  # response rate


def test_costs_make_care_pay_back_and_masterclass_lose(demo: DemoFiles) -> None:
    costs = frame(demo, "costs")
    charged = (
        (costs["amount"].astype(float) * costs["prorate_share"].astype(float))
        .groupby(costs["program"])
        .sum()
    )
    part = frame(demo, "participation")
    people = frame(demo, "people").set_index("person_id")
    completers = ((part["program"] == CARE) & (part["status"] == "completed")).sum()
    pilot = part[(part["program"] == PILOT) & (part["arm"] == "treatment")]
    treated_teams = people.loc[pilot["person_id"], "team_id"].nunique()
    effects = truth(demo)
    weeks = 52  # a 12-month horizon of weekly periods
    roi_care = effects[CARE]["csat"] * completers * weeks * 20 / charged[CARE] - 1
    roi_pilot = -effects[PILOT]["complaints_per_100"] * treated_teams * weeks * 600
    roi_pilot = roi_pilot / charged[PILOT] - 1
    assert roi_care > 0.5
    assert 0 < roi_pilot < 1.5
    # even a noisy estimate of +0.1 deal per rep-week (true: 0) leaves the masterclass in the red
    trained_reps = ((part["program"] == MASTER) & (part["status"] == "completed")).sum()
    assert effects[MASTER]["deals_closed"] == 0.0
    assert 0.1 * trained_reps * weeks * 400 * 0.35 < charged[MASTER]


def test_truth_follows_the_contracts_rungs_and_arms() -> None:
    people = pd.DataFrame({"person_id": ["a", "b", "c", "d"], "team_id": ["T1", "T1", "T2", "T2"]})
    rows = pd.DataFrame(
        {
            "person_id": ["a", "b", "c", "d"],
            "program": "x",
            "start_date": ["2026-01-12", "2026-01-05", "2026-01-05", "2026-01-05"],
            "status": ["completed", "dropped", "exempt", np.nan],
        }
    )
    assert trained_starts(rows, people).to_dict() == {
        "a": "2026-01-12", "c": "2026-01-05", "d": "2026-01-05"
    }  # fmt: skip
    assert list(trained_starts(rows, people, rung="enrolled").index) == ["a", "b", "c", "d"]
    teams = trained_starts(rows, people, unit="team")
    assert teams.to_dict() == {"T1": "2026-01-12", "T2": "2026-01-05"}
    arms = rows.assign(arm=["control", "treatment", "treatment", "control"])
    assert trained_starts(arms, people).to_dict() == {"b": "2026-01-05", "c": "2026-01-05"}
    assert trained_starts(arms, people, unit="team").to_dict() == {
        "T1": "2026-01-05", "T2": "2026-01-05"
    }  # fmt: skip


def test_truth_averages_only_written_post_cells() -> None:
    cells = pd.DataFrame(
        {
            "unit_id": ["a", "a", "a", "b", "b"],
            # a's start 2026-01-07 is exposed from the week ending 2026-01-11;
            # the week ending 2026-01-18 is a gap (not written)
            "period": ["2026-01-04", "2026-01-11", "2026-01-25", "2026-01-11", "2026-01-25"],
            "effect": [0.0, 1.0, 2.0, 0.0, 0.0],
        }
    )
    assert average_planted_effect(cells, pd.Series({"a": "2026-01-07"})) == 1.5
    with pytest.raises(ValueError, match="no treated post-period cells"):
        average_planted_effect(cells, pd.Series({"a": "2027-01-01"}))


def test_too_small_an_organisation_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="need at least 3 teams and 6 people per team"):
        generate_demo(tmp_path, people=20, teams=10)


@pytest.mark.slow
def test_default_organisation_is_built_quickly(tmp_path: Path) -> None:
    started = time.perf_counter()
    files = generate_demo(tmp_path)
    assert time.perf_counter() - started < 15
    people = read(files.files["people"][0])
    assert len(people) == 5000 and people["team_id"].nunique() == 300
    pilot = read(next(p for p in files.files["participation"] if PILOT in p.name))
    teams = pilot["person_id"].map(people.set_index("person_id")["team_id"])
    assert teams.nunique() == 60
    effects = json.loads(files.truth.read_text())
    assert 2.6 < effects[CARE]["csat"] < 3.0
    assert -0.8 < effects[PILOT]["complaints_per_100"] < -0.5
