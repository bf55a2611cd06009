"""End to end: design -> assignment -> registration -> import -> analysis -> decision -> report."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from impactlens.domain.errors import ImpactLensError
from impactlens.services.pilot_design import PilotInputError, design_pilot
from impactlens.services.pilots import decide_pilot, register_pilot
from impactlens.services.reporting import write_program_report
from impactlens.services.workspace import Workspace


def _load_org():
    spec = importlib.util.spec_from_file_location(
        "pilot_org", Path(__file__).with_name("pilot_org.py")
    )
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


pilot_org = _load_org()
EFFECT = -0.8


@pytest.fixture(scope="module")
def pilot(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    out = pilot_org.run(tmp_path_factory.mktemp("pilot"), EFFECT)
    return {**out, "result": out["ws"].analyze("tidy-pilot")}


def test_design_reads_the_history(pilot: dict[str, Any]) -> None:
    d = pilot["design"]
    assert d.unit == "team" and d.teams == 60 and d.icc == 1.0
    # the between-team SD of 6-week means is sqrt(0.8^2 + 0.6^2 / 6) ~ 0.83 (sampling noise aside)
    assert 0.55 < d.sd < 1.1
    assert d.r2 > 0.7
    assert d.needed_for_target is not None and d.mde > 0
    assert abs(d.simulation["power_at_mde"] - 0.8) < 0.07


def test_assignment_is_balanced_and_importable(pilot: dict[str, Any]) -> None:
    a = pilot["assignment"]
    rows = pd.read_csv(pilot["csv"])
    assert set(rows.columns) >= {"person_id", "program", "start_date", "arm", "trained_from"}
    assert rows["person_id"].str.startswith("E").all()  # the HR ids, not pseudonyms
    assert a.record()["n_treatment"] == a.record()["n_control"] == 30
    assert a.balanced and a.max_smd < 0.1
    # each region is split evenly: stratification by location
    by_region = rows.drop_duplicates("person_id").groupby("arm").size()
    assert by_region["treatment"] == by_region["control"] == 240


def test_registration_freezes_the_plan(pilot: dict[str, Any]) -> None:
    reg = pilot["registration"]
    assert reg.created and len(reg.sha256) == 64
    rec = reg.record
    assert rec["primary_kpi"] == "errors_per_100" and rec["target_effect"] == pytest.approx(-0.4)
    assert rec["assignment"]["seed"] == pilot["assignment"].seed
    assert rec["assignment"]["balance"][0]["covariate"] == "baseline_kpi"
    again = register_pilot(pilot["ws"], "tidy-pilot")
    assert not again.created and again.sha256 == reg.sha256


def test_analysis_follows_the_registration_and_decides(pilot: dict[str, Any]) -> None:
    result = pilot["result"]
    kpi = result.kpis[0]
    assert kpi.method == "randomised ANCOVA (intention to treat)"
    assert kpi.ci_low <= EFFECT <= kpi.ci_high
    section = result.plan["pilot"]
    assert section["registered"] and section["deviations"] == []
    assert section["decision"]["decision"] == "scale"
    curse = section["decision"]["winners_curse"]
    assert abs(curse["shrunken"]["effect"]) < abs(kpi.effect)
    assert not [w for w in result.warnings if "deviation" in w]


def test_decide_and_report_show_the_registered_plan(pilot: dict[str, Any]) -> None:
    doc = decide_pilot(pilot["ws"], "tidy-pilot")
    assert doc["decision"]["decision"] == "scale" and doc["result"]["kpi"] == "errors_per_100"
    html = write_program_report(pilot["result"], pilot["root"] / "report.html").read_text()
    assert "Registered pilot plan beside the result" in html
    assert pilot["registration"].sha256[:12] in html
    assert "The tidy-packing routine cuts packing errors" in html


def test_changed_target_is_a_flagged_deviation_and_plan_change(
    pilot: dict[str, Any], tmp_path: Path
) -> None:
    ws = pilot["ws"]
    plan = ws.path / "plans" / "tidy-pilot.yaml"
    original = plan.read_text()
    try:
        plan.write_text(pilot_org.plan_text(target=4.9, end="2026-04-26"), encoding="utf-8")
        result = ws.analyze("tidy-pilot")
    finally:
        plan.write_text(original, encoding="utf-8")
    devs = result.plan["pilot"]["deviations"]
    assert "target changed from 4.6 to 4.9" in devs
    assert "pilot.end extended from 2026-03-29 to 2026-04-26" in devs
    history = result.plan["history"]
    assert history and history[-1]["after_launch"]
    assert {"key": "kpis[errors_per_100].target", "before": 4.6, "after": 4.9} in history[-1][
        "changes"
    ]
    assert any(w.startswith("plan changed after launch") for w in result.warnings)
    html = write_program_report(result, tmp_path / "r.html").read_text()
    assert "plan changed after launch" in html


def test_changed_registration_is_refused(pilot: dict[str, Any]) -> None:
    ws = pilot["ws"]
    plan = ws.path / "plans" / "tidy-pilot.yaml"
    original = plan.read_text()
    try:
        plan.write_text(pilot_org.plan_text(target=4.8), encoding="utf-8")
        with pytest.raises(ImpactLensError, match="a registration cannot be changed"):
            register_pilot(ws, "tidy-pilot")
    finally:
        plan.write_text(original, encoding="utf-8")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"kpi": "nope"}, "has no KPI 'nope'"),
        ({"power": 0.04}, r"power \(0.04\) must be above alpha \(0.05\)"),
        ({"share": 1.0}, "share must be between 0 and 1"),
        ({"teams": 1}, "1 teams cannot fill two arms"),
        ({"teams": 0}, "0 teams cannot fill two arms"),  # not "all teams"
        ({"people": 40}, "people is for a design that randomises people; this one randomises"),
        ({"unit": "people"}, "is measured per team: randomise teams"),
    ],
)
def test_bad_design_input_is_one_clear_message(
    pilot: dict[str, Any], kwargs: dict[str, Any], message: str
) -> None:
    with pytest.raises(PilotInputError, match=message):
        design_pilot(pilot["ws"], "tidy-pilot", draws=10, **kwargs)


def test_kpi_without_history_is_refused(tmp_path: Path) -> None:
    ws = Workspace.create(tmp_path / "ws")
    (ws.path / "plans" / "tidy-pilot.yaml").write_text(pilot_org.plan_text(), encoding="utf-8")
    with pytest.raises(PilotInputError, match="'errors_per_100' has no history before launch"):
        design_pilot(ws, "tidy-pilot")


def test_wait_list_and_waves(pilot: dict[str, Any], tmp_path: Path) -> None:
    import shutil

    from impactlens.services.pilot_assignment import assign_pilot

    shutil.copytree(pilot["ws"].path, tmp_path / "ws")  # a new assignment would be recorded
    ws = Workspace(tmp_path / "ws")
    a = assign_pilot(ws, "tidy-pilot", waves=2, wait_list=True, seed=5)
    rows = a.rows
    control = rows[rows["arm"] == "control"]
    assert (control["trained_from"] == "2026-03-30").all()  # the day after pilot.end
    treated = rows[rows["arm"] == "treatment"]
    assert set(treated["start_date"]) == {"2026-01-05", "2026-02-02"}
    assert set(treated["cohort"]) == {"wave 1", "wave 2"}
    assert (treated["trained_from"] == "").all()
    with pytest.raises(PilotInputError, match="60 teams cannot fill two arms over 31 waves"):
        assign_pilot(ws, "tidy-pilot", waves=31)


def test_an_assignment_written_as_pseudonyms_re_imports(
    pilot: dict[str, Any], tmp_path: Path
) -> None:
    """Without --people the file names people by pseudonym; importing it changes nothing."""
    import shutil

    from impactlens.services.importing import import_data
    from impactlens.services.pilot_assignment import write_assignment

    shutil.copytree(pilot["ws"].path, tmp_path / "ws")  # the import below writes
    ws = Workspace(tmp_path / "ws")
    csv = write_assignment(pilot["assignment"], tmp_path / "pseudonyms.csv", ws)
    assert pd.read_csv(csv)["person_id"].str.startswith("p_").all()

    def participation() -> list[dict[str, Any]]:
        with ws.store(read_only=True) as store:
            rows = store.table("participation").to_pyarrow().to_pylist()
        return sorted(rows, key=lambda r: r["person_id"])

    before = participation()
    summary = import_data(ws, "participation", [csv])
    assert summary.unknown_people == 0 and summary.inserted == 0
    assert summary.rows == len(before) == 480
    assert participation() == before  # the same people, arms and dates as the HR-id file


def test_interim_looks_use_the_spending_boundary(pilot: dict[str, Any]) -> None:
    from impactlens.services.pilot_review import decide

    kpi = pilot["result"].kpis[0]
    reg = {**pilot["registration"].record, "looks": 3}
    early = decide(reg, kpi, 0.5)
    assert early["look"] == 2 and early["final"] is False
    assert early["z_boundary"] == pytest.approx(3.0, abs=0.4)  # well above 1.96 half-way
    assert early["decision"] == "scale"  # a -0.8 effect crosses even the early boundary
    # an estimate beyond the target (-0.4) but uncertain: se 0.2
    diagnostics = {**kpi.diagnostics, "se": 0.2}
    weak = kpi.model_copy(
        update={"effect": -0.5, "ci_low": -0.9, "ci_high": -0.1, "diagnostics": diagnostics}
    )
    assert decide(reg, weak, 0.5)["decision"] == "continue"  # -0.5 +/- 3.0 x 0.2 spans zero
    final = decide(reg, weak, 1.0)
    assert final["final"] and final["z_boundary"] == pytest.approx(2.0, abs=0.02)
    assert final["decision"] == "scale"  # -0.5 +/- 2.0 x 0.2 excludes zero at the last look
