"""The pilot portfolio page: analysts see registrations, viewers figures and decisions."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from impactlens.web.app import create_app

ORG = Path(__file__).parents[1] / "services" / "pilot_org.py"


def _org():
    spec = importlib.util.spec_from_file_location("pilot_org", ORG)
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.mark.slow
def test_pilot_portfolio_by_role(tmp_path: Path) -> None:
    ws = _org().run(tmp_path, -0.8)["ws"]
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
    finally:
        board.close()
