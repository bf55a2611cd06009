"""The dashboard in a real, offline Chromium: every role signs in and sees charts drawn."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .conftest import PROGRAM, ROLES

SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
CLI = [sys.executable, "-m", "impactlens.cli"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def server(demo_source: Path) -> Iterator[tuple[str, dict[str, dict[str, str]]]]:
    """``impactlens serve`` on a copy of the demo workspace, with one user per role."""
    ws = demo_source.parent / "browser"
    users = {}
    for role in ROLES:
        made = subprocess.run(
            [*CLI, "user", "add", f"{role}-b", "--role", role, "--json", "-w", str(ws)],
            capture_output=True,
            text=True,
            check=True,
        )
        users[role] = json.loads(made.stdout)
    port = _free_port()
    proc = subprocess.Popen(
        [*CLI, "serve", "--port", str(port), "-w", str(ws)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env={**os.environ},
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"{base}/login", timeout=2).close()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"the server did not start: {proc.stderr!r}") from None
                time.sleep(0.2)
        yield base, users
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        if proc.stderr is not None:
            proc.stderr.close()


@pytest.mark.browser
@pytest.mark.slow
def test_every_role_sees_rendered_charts_and_viewer_is_kept_out(
    server: Any, chromium_launch: dict[str, Any]
) -> None:
    from playwright.sync_api import Route, sync_playwright

    base, users = server
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(**chromium_launch)
        try:
            for role in ROLES:
                context = browser.new_context(viewport={"width": 1280, "height": 900})
                attempted: list[str] = []

                def guard(route: Route, attempted: list[str] = attempted) -> None:
                    if route.request.url.startswith(base):
                        route.continue_()
                    else:
                        attempted.append(route.request.url)
                        route.abort()

                context.route("**/*", guard)
                page = context.new_page()
                page.set_default_timeout(120_000)  # the first portfolio analyses every program
                page.goto(f"{base}/")
                assert page.url.startswith(f"{base}/login")
                page.fill("#name", users[role]["name"])
                page.fill("#password", users[role]["password"])
                page.click("button[type=submit]")
                page.wait_for_selector(".cards")
                assert page.locator(".card").count() == 3
                page.screenshot(path=str(SCREENSHOTS / f"web-{role}-portfolio.png"), full_page=True)

                page.goto(f"{base}/programs/{PROGRAM}")
                expected = page.locator("[data-spec]").count()
                assert expected >= 6
                page.wait_for_function(
                    f"document.querySelectorAll('[data-rendered=true]').length >= {expected}"
                )
                boxes = page.eval_on_selector_all(
                    "[data-rendered=true] svg",
                    "els => els.map(e => { const r = e.getBoundingClientRect();"
                    " return [r.width, r.height]; })",
                )
                assert len(boxes) >= expected
                assert all(w > 0 and h > 0 for w, h in boxes), boxes
                page.screenshot(path=str(SCREENSHOTS / f"web-{role}-program.png"), full_page=True)
                page.screenshot(path=str(SCREENSHOTS / f"web-{role}-program-top.png"))

                data = page.goto(f"{base}/data")
                assert data is not None
                if role == "viewer":
                    assert data.status == 403
                    assert "Not for your role" in page.content()
                    person = page.goto(f"{base}/programs/{PROGRAM}.json")
                    assert person is not None and "samples" not in person.text()
                else:
                    assert data.status == 200
                    page.screenshot(path=str(SCREENSHOTS / f"web-{role}-data.png"), full_page=True)
                assert attempted == []
                context.close()
        finally:
            browser.close()
