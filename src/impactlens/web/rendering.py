"""HTML pages and their JSON twins from one route function.

A route builds its data once and calls :func:`page`: a path ending in ``.json``
gets the data as JSON, any other path the Jinja template of the same name.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

from impactlens.web.access import csrf_for

GLOSSARY = {
    "interval": (
        "Interval (95%)",
        "The range the true effect very probably lies in, given the data. If it includes "
        "zero, the program may have had no effect.",
    ),
    "evidence": (
        "Evidence strong / moderate / weak / none",
        "How much the design rules out other explanations: strong = randomised, or a "
        "comparison group that passes the pre-trend, balance and overlap checks; moderate = "
        "a comparison group, but one of those checks fails; weak = before/after only; "
        "none = too little data.",
    ),
    "comparison": (
        "Comparison group",
        "Similar people who did not take the program, used to estimate what would have "
        "happened without it.",
    ),
    "roi": (
        "ROI range",
        "Return on investment (benefits minus costs, over costs) computed at both ends of "
        "the effect's 95% interval.",
    ),
}


def script_json(data: Any) -> Markup:
    """JSON safe to place inside a ``<script type="application/json">`` element.

    Examples:
        >>> str(script_json({"a": "</script>"}))
        '{"a": "\\\\u003c/script>"}'
    """
    return Markup(json.dumps(data).replace("<", "\\u003c"))


@cache
def environment() -> Environment:
    """The Jinja environment of the web pages (autoescaped: titles come from user files)."""
    env = Environment(
        loader=PackageLoader("impactlens.web", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["script_json"] = script_json
    env.globals["glossary"] = GLOSSARY
    return env


def html(request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
    """Render ``template``.html.j2 with the signed-in user and their CSRF token."""
    user = getattr(request.state, "user", None)
    sid = getattr(request.state, "sid", None)
    text = (
        environment()
        .get_template(f"{template}.html.j2")
        .render(
            user=user,
            csrf=csrf_for(sid) if sid else "",
            path=request.url.path,
            **context,
        )
    )
    return HTMLResponse(text, status_code=status)


def page(request: Request, template: str, data: Any, **context: Any) -> Response:
    """The JSON twin for ``*.json`` paths, else the HTML page of ``template``."""
    if request.url.path.endswith(".json"):
        return JSONResponse(data)
    return html(request, template, data=data, **context)
