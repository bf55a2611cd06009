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


def test_form_upload_errors_show_in_place_on_the_data_page(small) -> None:
    client, _ = small
    token = csrf_in(client.get("/data").text)
    bad = b"program,item,amount\ncustomer-care,venue,1200\ncustomer-care,trainer,lots\n"
    got = client.post(
        "/data/imports",
        data={"kind": "costs", "csrf_token": token},
        files={"file": ("my costs.csv", bad)},
        follow_redirects=False,
    )
    assert got.status_code == 400
    assert '<p class="flag" role="alert" id="upload-error">' in got.text
    assert "my_costs.csv, row 3, column &#39;amount&#39;: not a number: &#39;lots&#39;" in got.text
    assert "<option selected>costs</option>" in got.text  # the form keeps its choice
    assert 'aria-describedby="upload-error"' in got.text and "<h1>Data</h1>" in got.text
    assert client.get("/data.json").json()["imports"] == []
    big = client.post(
        "/data/imports",
        data={"kind": "costs", "csrf_token": csrf_in(got.text)},
        files={"file": ("costs.csv", COSTS + b"customer-care,x,1\n" * 100)},
    )
    # a body over the limit is refused before it is read: the error page says why
    assert big.status_code == 413 and "larger than the upload limit" in big.text


def test_an_upload_applies_the_retention_setting(tmp_path: Path) -> None:
    init_workspace(tmp_path / "ws", "customer-care")
    toml = tmp_path / "ws" / "impactlens.toml"
    toml.write_text(toml.read_text().replace("# retention_months = 36", "retention_months = 6"))
    app = create_app(tmp_path / "ws")
    board = app.state.dashboard
    with board.ws.store():
        analyst = board.accounts.add("ana", "analyst")
    client = TestClient(app)
    old = b"person_id,asset_id,verb,timestamp\nE1,a1,completed,2020-01-05T10:00:00\n"
    got = client.post(
        "/api/imports/activity",
        headers={"Authorization": f"Bearer {analyst.token}"},
        files={"file": ("activity.csv", old)},
    )
    assert got.status_code == 200, got.text
    assert got.json()["rows"] == 1 and got.json()["expired"] == 1
    with board.ws.store() as store:
        assert store.table("activity").count().to_pyarrow().as_py() == 0
        audit = store.table("audit_log").to_pyarrow().to_pylist()
    assert any(a["action"] == "expire" and a["user"] == "ana" for a in audit)
    board.close()
