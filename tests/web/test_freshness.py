"""The dashboard re-analyses when the LRS stores statements while it runs."""

from __future__ import annotations

import base64
import warnings
from pathlib import Path

from tests.ingest.test_xapi_activity import sales_workspace
from tests.ingest.xapi_statements import COURSE, statement

from impactlens.services.lrs import create_client
from impactlens.services.users import add_user
from impactlens.web.app import create_app

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # starlette's test client suggests httpx2
    from fastapi.testclient import TestClient


def test_statements_posted_to_the_lrs_reach_the_cached_analysis(tmp_path: Path) -> None:
    ws = sales_workspace(tmp_path)
    client = create_client(ws, "lms", "write")
    basic = base64.b64encode(f"{client.key}:{client.secret}".encode()).decode()
    lrs = {"Authorization": f"Basic {basic}", "X-Experience-API-Version": "1.0.3"}
    analyst = {"Authorization": f"Bearer {add_user(ws, 'ann', 'analyst').token}"}
    with TestClient(create_app(ws.path)) as http:
        before = http.get("/programs/sales.json", headers=analyst).json()
        assert before["metrics"]["operational"]["activity_rows"] == 3
        again = http.get("/programs/sales.json", headers=analyst).json()
        assert again["provenance"] == before["provenance"]  # cached: nothing changed
        new = statement(
            20,
            actor={"mbox": "mailto:p09@x.org"},
            object={"id": f"{COURSE}1"},
            result={"completion": True, "duration": "PT45M"},
            context=None,
        )
        posted = http.post("/xapi/statements", json=new, headers=lrs)
        assert posted.status_code == 200, posted.text
        after = http.get("/programs/sales.json", headers=analyst).json()
    assert after["provenance"]["data_sha256"] != before["provenance"]["data_sha256"]
    assert after["metrics"]["operational"]["activity_rows"] == 4
    assert after["metrics"]["operational"]["learning_hours"] == (30 + 60 + 90 + 45) / 60
