"""An empty workspace served with its xAPI endpoint, and clients of each scope.

The LRS tests run on both engines the LRS writes to: the embedded DuckDB store and a
PostgreSQL database (a fresh one per test on the tests' server).
"""

from __future__ import annotations

import base64
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # starlette's test client suggests httpx2
    from fastapi.testclient import TestClient

from impactlens.domain.settings import WorkspaceSettings
from impactlens.services.lrs import create_client
from impactlens.services.workspace import Workspace
from impactlens.web.app import create_app

VERSION = {"X-Experience-API-Version": "1.0.3"}


@dataclass
class Lrs:
    """A test client and Basic-auth headers per scope."""

    http: TestClient
    auth: dict[str, dict[str, str]]
    workspace: Path

    def headers(self, scope: str = "all", **extra: str) -> dict[str, str]:
        return {**VERSION, **self.auth[scope], **extra}


@pytest.fixture
def lrs(tmp_path: Path, engine_settings: WorkspaceSettings) -> Iterator[Lrs]:
    ws = Workspace.create(tmp_path / "ws", engine_settings)
    auth = {}
    for scope in ("all", "read", "write"):
        new = create_client(ws, f"t-{scope}", scope)
        token = base64.b64encode(f"{new.key}:{new.secret}".encode()).decode()
        auth[scope] = {"Authorization": f"Basic {token}"}
    with TestClient(create_app(ws.path)) as http:
        yield Lrs(http, auth, ws.path)
