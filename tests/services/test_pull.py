"""``pull xapi``: copy statements from another LRS over real HTTP, page by page, resumable."""

from __future__ import annotations

import base64
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from tests.ingest.xapi_statements import statement

from impactlens.domain.errors import ImpactLensError
from impactlens.domain.settings import WorkspaceSettings
from impactlens.services.pull import pull_statements
from impactlens.services.workspace import Workspace

PAGE = 2


class Source:
    """A tiny LRS: stored statements, ``since`` / ``ascending`` and ``more`` paging."""

    def __init__(self) -> None:
        self.statements: list[dict[str, Any]] = []
        self.requests: list[dict[str, str]] = []

    def add(self, n: int, stored: str, **changes: Any) -> None:
        self.statements.append({**statement(n, **changes), "stored": stored})

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.get("/xapi/statements")
        def statements(request: Request) -> JSONResponse:
            query = dict(request.query_params)
            self.requests.append(query)
            expected = "Basic " + base64.b64encode(b"k1:s1").decode()
            if request.headers.get("authorization") != expected:
                return JSONResponse({"error": "unauthorised"}, status_code=401)
            if request.headers.get("x-experience-api-version") != "1.0.3":
                return JSONResponse({"error": "version"}, status_code=400)
            since = query.get("since", "")
            rows = sorted(
                (s for s in self.statements if s["stored"] > since), key=lambda s: s["stored"]
            )
            start = int(query.get("from", 0))
            page = rows[start : start + PAGE]
            more = ""
            if start + PAGE < len(rows):
                more = f"/xapi/statements?since={since}&from={start + PAGE}"
            return JSONResponse({"statements": page, "more": more})

        return app


@pytest.fixture
def source() -> Iterator[tuple[Source, str]]:
    lrs = Source()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    config = uvicorn.Config(lrs.app(), host="127.0.0.1", port=port, log_level="error")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    yield lrs, f"http://127.0.0.1:{port}/xapi"
    server.should_exit = True
    thread.join(timeout=10)


def _ids(ws: Workspace) -> list[str]:
    with ws.store(read_only=True) as store:
        t = store.table("xapi_statements").order_by("seq")
        return [r[-2:] for r in t.statement_id.to_pyarrow().to_pylist()]


@pytest.fixture
def target(tmp_path: Path, engine_settings: WorkspaceSettings) -> Workspace:
    """The workspace pulled into: on DuckDB, then on PostgreSQL."""
    return Workspace.create(tmp_path / "ws", engine_settings)


def test_pull_follows_more_and_resumes(source: tuple[Source, str], target: Workspace) -> None:
    lrs, endpoint = source
    ws = target
    for n in range(1, 6):
        lrs.add(n, f"2024-05-0{n}T10:00:00.000Z")
    done = pull_statements(ws, endpoint, since="2024-05-01T12:00:00Z", key="k1", secret="s1")
    # statement 1 was stored before `since`; 4 statements in pages of 2 (+ the `more` hops)
    assert (done.statements, done.inserted, done.pages) == (4, 4, 2)
    assert done.last_stored == "2024-05-05T10:00:00.000Z"
    assert lrs.requests[0]["ascending"] == "true"
    assert lrs.requests[0]["since"] == "2024-05-01T12:00:00Z"
    assert _ids(ws) == ["02", "03", "04", "05"]

    lrs.add(6, "2024-05-06T10:00:00.000Z")
    again = pull_statements(ws, endpoint, key="k1", secret="s1")
    assert lrs.requests[-1]["since"] == "2024-05-05T10:00:00.000Z"  # where the last pull ended
    assert (again.statements, again.inserted) == (1, 1)
    assert _ids(ws) == ["02", "03", "04", "05", "06"]
    with ws.store(read_only=True) as store:
        row = store.table("xapi_statements").order_by("seq").to_pyarrow().to_pylist()[0]
    # our LRS sets `stored` on arrival; the source's authority stays
    assert row["stored"].year != 2024


def test_a_bad_page_stores_nothing_of_it(source: tuple[Source, str], tmp_path: Path) -> None:
    lrs, endpoint = source
    ws = Workspace.create(tmp_path / "ws")
    lrs.add(1, "2024-05-01T10:00:00.000Z")
    lrs.add(2, "2024-05-02T10:00:00.000Z")
    lrs.add(3, "2024-05-03T10:00:00.000Z", verb={"id": "completed"})
    with pytest.raises(ImpactLensError, match=r"statement 1 of the page .*field 'verb.id'"):
        pull_statements(ws, endpoint, since="2024-01-01T00:00:00Z", key="k1", secret="s1")
    # the first page landed with its cursor; the second did not
    assert _ids(ws) == ["01", "02"]
    lrs.statements[-1]["verb"] = {"id": "http://adlnet.gov/expapi/verbs/completed"}
    again = pull_statements(ws, endpoint, key="k1", secret="s1")
    assert lrs.requests[-1]["since"] == "2024-05-02T10:00:00.000Z"
    assert again.inserted == 1


def test_wrong_credentials_say_what_the_lrs_answered(
    source: tuple[Source, str], tmp_path: Path
) -> None:
    _, endpoint = source
    ws = Workspace.create(tmp_path / "ws")
    with pytest.raises(ImpactLensError, match="the LRS answered 401"):
        pull_statements(ws, endpoint, since="2024-01-01T00:00:00Z", key="k1", secret="nope")
