"""A small demo workspace served by the dashboard, and one signed-in client per role."""

from __future__ import annotations

import re
import shutil
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

with warnings.catch_warnings():
    # starlette 1.x suggests httpx2 for its test client; httpx is the pinned dev dependency
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from fastapi import FastAPI

from impactlens.services.demo import run_demo
from impactlens.services.users import NewUser
from impactlens.web.app import create_app

ROLES = ("viewer", "analyst", "admin")
PROGRAM = "customer-care-excellence"
# raised in the demo plan so that one persona group (10 new agents) is too small to show
MIN_GROUP = 12
# The demo (seed 3, 800 people) trains 52 people in the masterclass: with a threshold of 60
# a viewer must not see their trajectory, event study or covariate means.
FEW_PROGRAM, FEW_MIN_GROUP = "presentation-masterclass", 60


@dataclass
class Served:
    """The app over the demo workspace, its users and their signed-in clients."""

    app: FastAPI
    workspace: Path
    users: dict[str, NewUser]
    clients: dict[str, TestClient]

    def anonymous(self) -> TestClient:
        return TestClient(self.app)

    def bearer(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.users[role].token}"}


def login(client: TestClient, name: str, password: str) -> None:
    """Sign in through the form, as a browser does."""
    page = client.get("/login")
    token = csrf_in(page.text)
    done = client.post(
        "/login",
        data={"name": name, "password": password, "csrf_token": token},
        follow_redirects=False,
    )
    assert done.status_code == 303, done.text


def csrf_in(html: str) -> str:
    """The CSRF token of the first form in a page."""
    found = re.search(r'name="csrf_token" value="([^"]*)"', html)
    assert found, "no CSRF field in the page"
    return found.group(1)


@pytest.fixture(scope="session")
def demo_source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo workspace (800 people), with a privacy threshold that hides one group."""
    root = tmp_path_factory.mktemp("web")
    run_demo(root / "demo", 3, people=800, teams=60)
    plan = root / "demo" / "plans" / f"{PROGRAM}.yaml"
    text = plan.read_text(encoding="utf-8")
    plan.write_text(text.replace("min_group_size: 5", f"min_group_size: {MIN_GROUP}"), "utf-8")
    few = root / "demo" / "plans" / f"{FEW_PROGRAM}.yaml"
    text = few.read_text(encoding="utf-8")
    few.write_text(text.replace("min_group_size: 5", f"min_group_size: {FEW_MIN_GROUP}"), "utf-8")
    # a pristine copy for the browser test's server process (this process holds the other)
    shutil.copytree(root / "demo", root / "browser")
    return root / "demo"


@pytest.fixture(scope="session")
def served(demo_source: Path) -> Iterator[Served]:
    app = create_app(demo_source)
    board = app.state.dashboard
    with board.ws.store():
        users = {role: board.accounts.add(f"{role}1", role) for role in ROLES}
    clients = {}
    for role in ROLES:
        clients[role] = TestClient(app)
        login(clients[role], users[role].name, users[role].password)
    yield Served(app, demo_source, users, clients)
    board.close()
