"""Fixtures shared by every test folder."""

from __future__ import annotations

import shutil
from typing import Any

import pytest

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


@pytest.fixture
def chromium_launch() -> dict[str, Any]:
    """Keyword arguments for Playwright's ``chromium.launch``; fails (never skips) without it."""
    path = shutil.which("chromium")
    if path is None:
        pytest.fail("Debian's chromium is not installed: run `make system-deps` first")
    return {"executable_path": path, "headless": True, "args": CHROMIUM_ARGS}
