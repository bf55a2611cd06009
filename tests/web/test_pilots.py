"""Pilot pages: the portfolio (analysts see registrations, viewers figures and decisions)
and the design page, whose JSON twin is `impactlens pilot design --json`."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest
from fastapi.testclient import TestClient

from impactlens.web.app import create_app

from .conftest import PROGRAM, Served

EXE = [sys.executable, "-m", "impactlens.cli"]
DESIGN = f"/pilots/{PROGRAM}/design"


@pytest.mark.slow
def test_pilot_portfolio_by_role(tmp_path: Path, pilot_org: ModuleType) -> None:
    ws = pilot_org.run(tmp_path, -0.8)["ws"]
    # the CLI first: the app holds the store's write lock while it lives
    cli = _cli_design(ws.path, "tidy-pilot", "--teams", "24")
    app = create_app(ws.path)
    board = app.state.dashboard
    try:
        with board.ws.store():
            analyst = board.accounts.add("ana", "analyst")
            viewer = board.accounts.add("vic", "viewer")
        client = TestClient(app)
        full = client.get(
            "/pilots.json", headers={"Authorization": f"Bearer {analyst.token}"}
        ).json()
        row = full["pilots"][0]
        assert row["program"] == "tidy-pilot" and row["decision"] == "scale"
        assert row["hypothesis"].startswith("The tidy-packing routine")
        assert full["by_status"] == {"scale": 1}
        seen = client.get("/pilots.json", headers={"Authorization": f"Bearer {viewer.token}"})
        assert set(seen.json()["pilots"][0]) == {
            "program",
            "title",
            "status",
            "kpi",
            "effect",
            "ci_low",
            "ci_high",
            "decision",
        }
        page = client.get("/pilots", headers={"Authorization": f"Bearer {analyst.token}"})
        assert page.status_code == 200 and "Registered hypothesis" in page.text
        program = client.get(
            "/programs/tidy-pilot", headers={"Authorization": f"Bearer {analyst.token}"}
        )
        assert "Registered pilot plan beside the result" in program.text
        assert 'href="/pilots/tidy-pilot/design"' in page.text
        web = client.get(
            "/pilots/tidy-pilot/design.json?teams=24",
            headers={"Authorization": f"Bearer {analyst.token}"},
        )
        assert web.json() == cli
        assert cli["sentence"].startswith("With 24 teams you could only see a")
    finally:
        board.close()


def _cli_design(workspace: Path, program: str, *args: str) -> dict[str, object]:
    res = subprocess.run(
        [*EXE, "pilot", "design", program, "--json", *args, "-w", str(workspace)],
        capture_output=True,
        text=True,
    )
    assert res.returncode == 0, res.stderr
    return json.loads(res.stdout)


def test_design_page_is_for_analysts(served: Served, pilot_org: ModuleType) -> None:
    for role, status in (("viewer", 403), ("analyst", 200), ("admin", 200)):
        for url in (DESIGN, DESIGN + ".json"):
            assert served.clients[role].get(url).status_code == status, (role, url)
    doc = served.clients["analyst"].get(DESIGN + ".json").json()
    assert set(doc) >= pilot_org.DESIGN_KEYS and doc["kpi"] == "csat" and doc["unit"] == "team"
    html = served.clients["analyst"].get(DESIGN).text
    assert f"<strong>{doc['sentence']}</strong>" in html  # the plain sentence
    assert "Minimum detectable effect" in html and "Power at the MDE, simulated" in html
    # the form shows the design as computed, ready to change
    assert f'name="teams" inputmode="numeric" value="{doc["teams"]}"' in html
    assert "<option selected>team</option>" in html and 'action="' + DESIGN + '"' in html
    # switching the form to people leaves the teams field filled: the form ignores it
    switched = served.clients["analyst"].get(DESIGN, params={"unit": "people", "teams": "27"})
    assert switched.status_code == 200 and "People in the pilot" in switched.text
    pilots = served.clients["analyst"].get("/pilots").text
    assert f'href="{DESIGN}"' in pilots
    assert f'href="{DESIGN}"' not in served.clients["viewer"].get("/pilots").text


def test_design_json_equals_the_cli(served: Served, tmp_path: Path) -> None:
    # the conftest's pristine copy of the same demo (the served one is held by the app)
    copy = shutil.copytree(served.workspace.parent / "browser", tmp_path / "ws")
    args = {"unit": "people", "people": "300", "alpha": "0.1"}
    cli = _cli_design(copy, PROGRAM, *[f"--{k}={v}" for k, v in args.items()])
    web = served.clients["analyst"].get(DESIGN + ".json", params=args).json()
    assert web == cli
    assert web["people"] == 300 and "teams" not in web and web["alpha"] == 0.1


@pytest.mark.parametrize(
    ("query", "status", "message"),
    [
        ("teams=twelve", 400, "teams must be a whole number, got 'twelve'"),
        ("teams=-3", 400, "teams must be a whole number, got '-3'"),
        ("teams=1", 400, "1 teams cannot fill two arms with share 0.5: each arm needs at least"),
        ("share=1.5", 400, "share must be between 0 and 1 (exclusive), got 1.5"),
        ("share=nan", 400, "share must be a number between 0 and 1, got 'nan'"),
        ("alpha=0.5&power=0.3", 400, "power (0.3) must be above alpha (0.5)"),
        ("unit=cluster", 400, "unit must be 'team' or 'people', got 'cluster'"),
        ("kpi=nps", 400, f"the plan of {PROGRAM!r} has no KPI 'nps' (KPIs: csat"),
        ("people=40", 400, "people is for a design that randomises people; this one randomises"),
        ("team=12", 400, "unknown parameter 'team'; the design takes kpi, unit, teams, people"),
    ],
)
def test_bad_parameters_are_4xx_in_words(
    served: Served, query: str, status: int, message: str
) -> None:
    client = served.clients["analyst"]
    got = client.get(f"{DESIGN}.json?{query}")
    assert got.status_code == status and got.json()["detail"].startswith(message)
    page = client.get(f"{DESIGN}?{query}")
    assert page.status_code == status
    assert "<strong>No design:</strong>" in page.text and 'id="teams"' in page.text


def test_unknown_program_is_404(served: Served) -> None:
    got = served.clients["analyst"].get("/pilots/nope/design.json")
    assert got.status_code == 404 and "no plan for program 'nope'" in got.json()["detail"]
