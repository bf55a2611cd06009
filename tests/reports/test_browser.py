"""The report in a real (offline) Chromium: charts have size, nothing touches the network."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from impactlens.reports import write_report

from .conftest import NAMES, load_result

SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"


@pytest.mark.browser
def test_report_renders_offline_in_chromium(
    tmp_path: Path, chromium_launch: dict[str, Any]
) -> None:
    from playwright.sync_api import Route, sync_playwright

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(**chromium_launch)
        try:
            for name in NAMES:
                report = write_report(load_result(name), tmp_path / f"{name}.html")
                page = browser.new_page(viewport={"width": 1280, "height": 900})
                attempted: list[str] = []

                def guard(route: Route, attempted: list[str] = attempted) -> None:
                    url = route.request.url
                    if url.startswith("file://"):
                        route.continue_()
                    else:
                        attempted.append(url)
                        route.abort()

                page.route("**/*", guard)
                page.goto(report.as_uri())
                boxes = page.eval_on_selector_all(
                    "svg",
                    "els => els.map(e => { const r = e.getBoundingClientRect();"
                    " return [r.width, r.height]; })",
                )
                assert len(boxes) >= (6 if name != "thin" else 1)
                assert all(w > 0 and h > 0 for w, h in boxes), boxes
                assert page.title().endswith("impact report")
                page.screenshot(path=str(SCREENSHOTS / f"report-{name}.png"), full_page=True)
                assert attempted == []
                page.close()
        finally:
            browser.close()
