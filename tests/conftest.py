"""Fixtures shared by every test folder."""

from __future__ import annotations

import importlib.util
import shutil
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from tests.postgres_server import postgres_server, postgres_url  # noqa: F401 (fixtures)

from impactlens.domain.settings import WorkspaceSettings
from impactlens.store.base import Store

# the engines the LRS and the imports write to (Spark stores are read-only)
WRITABLE_ENGINES = [
    "duckdb",
    pytest.param("postgresql", marks=[pytest.mark.engine, pytest.mark.xdist_group("postgres")]),
]

# Debian's chromium, headless, with the background services that would try the network off
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-quic",
    "--disable-dev-shm-usage",
]


@pytest.fixture(params=WRITABLE_ENGINES)
def engine_settings(request: pytest.FixtureRequest) -> WorkspaceSettings:
    """Workspace settings whose store is DuckDB (the default), then a fresh PostgreSQL database."""
    if request.param == "postgresql":
        from tests.postgres_server import database

        return WorkspaceSettings(store=database(request.getfixturevalue("postgres_server")))
    return WorkspaceSettings()


@pytest.fixture
def writable_store(engine_settings: WorkspaceSettings, tmp_path: Path) -> Iterator[Store]:
    """A fresh store on each engine that takes writes: DuckDB, then PostgreSQL."""
    from impactlens.store.registry import open_store

    with open_store(engine_settings.store_url(tmp_path, env={})) as store:
        yield store


@pytest.fixture
def chromium_launch() -> dict[str, Any]:
    """Keyword arguments for Playwright's ``chromium.launch``; fails (never skips) without it."""
    path = shutil.which("chromium")
    if path is None:
        pytest.fail("Debian's chromium is not installed: run `make system-deps` first")
    return {"executable_path": path, "headless": True, "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def pilot_org() -> ModuleType:
    """tests/services/pilot_org.py: a small organisation for pilot tests (not a test module)."""
    spec = importlib.util.spec_from_file_location(
        "pilot_org", Path(__file__).parent / "services" / "pilot_org.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
