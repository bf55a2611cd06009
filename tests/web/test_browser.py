"""The dashboard in a real, offline Chromium: every role signs in and sees charts drawn."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.served import CLI, start_server

from .conftest import FEW_PROGRAM, PROGRAM, ROLES

SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
BAD_COSTS = b"program,item,amount\nx,venue,1200\nx,trainer,lots\n"

# WCAG 2.1 checks a script can make on the rendered page (no network, no axe): the page
# language (3.1.1), one h1 and no skipped heading level (1.3.1), a label for every form
# control and a name for every button, link and chart (1.1.1, 4.1.2), a scope on every
# table header (1.3.1), and text contrast of at least 4.5:1, 3:1 for large text (1.4.3).
A11Y = r"""() => {
  const problems = [];
  const say = (el, what) => problems.push(what + ": " + el.outerHTML.slice(0, 120));
  if (!document.documentElement.lang) problems.push("html has no lang");
  const heads = [...document.querySelectorAll("h1, h2, h3, h4, h5, h6")];
  if (document.querySelectorAll("h1").length !== 1) problems.push("not exactly one h1");
  let level = 0;
  for (const h of heads) {
    const n = Number(h.tagName[1]);
    if (n > level + 1) say(h, "heading skips from h" + level);
    level = n;
  }
  const named = (el) => (el.getAttribute("aria-label") || "").trim()
    || el.getAttribute("aria-labelledby") || (el.textContent || "").trim();
  for (const el of document.querySelectorAll("input, select, textarea")) {
    if (["hidden", "submit", "button"].includes(el.type)) continue;
    const labelled = (el.labels && el.labels.length) || el.getAttribute("aria-label")
      || el.getAttribute("aria-labelledby");
    if (!labelled) say(el, "form control without a label");
  }
  for (const el of document.querySelectorAll("button, a[href]")) {
    if (!named(el)) say(el, "button or link without a name");
  }
  for (const el of document.querySelectorAll("[data-spec]")) {
    if (el.getAttribute("role") !== "img" || !(el.getAttribute("aria-label") || "").trim())
      say(el, "chart without role=img and a name");
  }
  for (const el of document.querySelectorAll("img")) {
    if (!el.hasAttribute("alt")) say(el, "image without alt");
  }
  for (const th of document.querySelectorAll("th")) {
    if (!["col", "row", "colgroup", "rowgroup"].includes(th.getAttribute("scope")))
      say(th, "table header without scope");
  }
  const rgb = (c) => (c.match(/[\d.]+/g) || []).map(Number);
  const lum = ([r, g, b]) => {
    const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const background = (el) => {
    for (let e = el; e; e = e.parentElement) {
      const c = rgb(getComputedStyle(e).backgroundColor);
      if (c.length >= 3 && (c.length < 4 || c[3] > 0)) return c;
    }
    return [255, 255, 255];
  };
  for (const el of document.querySelectorAll("body *")) {
    if (el.closest("svg, script, style, .skip")) continue;
    const text = [...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim());
    if (!text || !el.getClientRects().length) continue;
    const style = getComputedStyle(el);
    if (style.visibility === "hidden") continue;
    const a = lum(rgb(style.color)), b = lum(background(el));
    const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    const size = parseFloat(style.fontSize), bold = Number(style.fontWeight) >= 700;
    const needed = size >= 24 || (bold && size >= 18.66) ? 3 : 4.5;
    if (ratio < needed) say(el, "contrast " + ratio.toFixed(2) + " < " + needed);
  }
  return problems;
}"""


def _accessible(page: Any, name: str) -> None:
    """The page passes the checks above, and Tab moves a visible focus (skip link first)."""
    problems = page.evaluate(A11Y)
    assert problems == [], (name, problems)
    seen = []
    for _ in range(2):
        page.keyboard.press("Tab")
        seen.append(
            page.evaluate(
                "() => { const e = document.activeElement, s = getComputedStyle(e);"
                " return [e.tagName, e.className, s.outlineStyle, s.outlineWidth]; }"
            )
        )
    visible = [t != "BODY" and s != "none" and w != "0px" for t, _, s, w in seen]
    assert all(visible), (name, seen)
    # the login form focuses its first field itself; elsewhere Tab starts at the skip link
    if not page.locator("[autofocus]").count():
        assert seen[0][1] == "skip", (name, seen)


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
    proc, base = start_server(ws, ready="/login")
    try:
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
                _accessible(page, "login")
                page.fill("#name", users[role]["name"])
                page.fill("#password", users[role]["password"])
                page.click("button[type=submit]")
                page.wait_for_selector(".cards")
                assert page.locator(".card").count() == 3
                _accessible(page, "portfolio")
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
                _accessible(page, "program")
                page.screenshot(path=str(SCREENSHOTS / f"web-{role}-program.png"), full_page=True)
                page.screenshot(path=str(SCREENSHOTS / f"web-{role}-program-top.png"))

                data = page.goto(f"{base}/data")
                assert data is not None
                if role == "viewer":
                    assert data.status == 403
                    assert "Not for your role" in page.content()
                    person = page.goto(f"{base}/programs/{PROGRAM}.json")
                    assert person is not None and "samples" not in person.text()
                    # fewer trained people than the threshold: the drawn trend has no trained
                    # line, and the verdict says the results are hidden
                    page.goto(f"{base}/programs/{FEW_PROGRAM}")
                    expected = page.locator("[data-spec]").count()
                    page.wait_for_function(
                        f"document.querySelectorAll('[data-rendered=true]').length >= {expected}"
                    )
                    trend = page.locator("#chart-trend-1 svg").inner_html()
                    # vega labels each drawn point with its fields: no point of the trained
                    assert "group: Comparison" in trend and "group: Trained" not in trend
                    assert "hidden from viewers" in page.locator("main").inner_text()
                    page.screenshot(
                        path=str(SCREENSHOTS / "web-viewer-few-trained.png"), full_page=True
                    )
                else:
                    assert data.status == 200
                    page.screenshot(path=str(SCREENSHOTS / f"web-{role}-data.png"), full_page=True)
                    _accessible(page, "data")
                    # a refused upload answers in place, on the data page, naming row and column
                    page.select_option("#kind", "costs")
                    page.set_input_files(
                        "#file", {"name": "costs.csv", "mimeType": "text/csv", "buffer": BAD_COSTS}
                    )
                    page.click("form.upload button[type=submit]")
                    alert = page.locator("#upload-error")
                    alert.wait_for()
                    assert "costs.csv, row 3, column 'amount': not a number: 'lots'" in (
                        alert.inner_text()
                    )
                    assert page.locator("#kind").input_value() == "costs"
                    assert page.locator("h1").inner_text() == "Data"
                    _accessible(page, "data with an upload error")
                    page.goto(f"{base}/programs/{PROGRAM}/plan")
                    _accessible(page, "plan")
                if role == "admin":
                    page.goto(f"{base}/admin/users")
                    _accessible(page, "users")
                assert attempted == []
                context.close()
        finally:
            browser.close()
