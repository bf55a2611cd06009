"""Uploads: a good file lands, a bad one changes nothing, a big one gets 413."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from impactlens.services.setup import init_workspace
from impactlens.web.app import create_app

from .conftest import TestClient, csrf_in, login

COSTS = b"program,item,amount\ncustomer-care,venue,1200\ncustomer-care,trainer,800\n"


@pytest.fixture
def small(tmp_path: Path) -> Iterator[tuple[TestClient, dict[str, str]]]:
    """An empty workspace with an upload limit of 1 KB and one analyst."""
    init_workspace(tmp_path / "ws", "customer-care")
    app = create_app(tmp_path / "ws", max_upload_bytes=1024)
    board = app.state.dashboard
    with board.ws.store():
        analyst = board.accounts.add("ana", "analyst")
    client = TestClient(app)
    login(client, "ana", analyst.password)
    yield client, {"Authorization": f"Bearer {analyst.token}"}
    board.close()


def test_api_upload_lands_and_shows_on_the_data_page(small) -> None:
    client, auth = small
    before = client.get("/data.json").json()
    got = client.post("/api/imports/costs", headers=auth, files={"file": ("costs.csv", COSTS)})
    assert got.status_code == 200, got.text
    assert got.json()["rows"] == 2 and got.json()["inserted"] == 2
    after = client.get("/data.json").json()
    assert len(after["imports"]) == len(before["imports"]) + 1
    assert after["imports"][0]["kind"] == "costs" and after["imports"][0]["rows"] == 2
    assert "costs" in after["freshness"]


def test_form_upload_redirects_back_with_a_summary(small) -> None:
    client, _ = small
    token = csrf_in(client.get("/data").text)
    got = client.post(
        "/data/imports",
        data={"kind": "costs", "csrf_token": token},
        files={"file": ("costs.csv", COSTS)},
    )
    assert got.status_code == 200
    assert "Imported costs: 2 rows, 2 new, 0 replaced." in got.text


def test_bad_file_is_refused_with_its_row_and_the_store_is_unchanged(small) -> None:
    client, auth = small
    board = client.app.state.dashboard  # type: ignore[attr-defined]
    before = board.fingerprint()
    bad = b"program,item,amount\ncustomer-care,venue,1200\ncustomer-care,trainer,lots\n"
    got = client.post("/api/imports/costs", headers=auth, files={"file": ("costs.csv", bad)})
    assert got.status_code == 400
    assert got.json()["detail"] == "costs.csv, row 3, column 'amount': not a number: 'lots'"
    assert board.fingerprint() == before
    kind = client.post("/api/imports/salaries", headers=auth, files={"file": ("s.csv", COSTS)})
    assert kind.status_code == 400
    assert kind.json()["detail"].startswith("unknown import kind 'salaries'")
    empty = client.post("/api/imports/costs", headers=auth, files={"file": ("c.csv", b"")})
    assert 400 <= empty.status_code < 500


def test_too_large_upload_gets_413(small) -> None:
    client, auth = small
    big = COSTS + b"customer-care,x,1\n" * 100
    got = client.post("/api/imports/costs", headers=auth, files={"file": ("costs.csv", big)})
    assert got.status_code == 413
    assert "larger than the upload limit" in got.json()["detail"]
    assert client.get("/data.json").json()["imports"] == []
