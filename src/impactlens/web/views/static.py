"""The dashboard's own static files, and the chart library from an installed package."""

from __future__ import annotations

from functools import cache
from importlib.resources import files

from fastapi import APIRouter, HTTPException
from fastapi.responses import Response

from impactlens.web.routing import route

router = APIRouter()
_TYPES = {".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8"}
_OWN = ("app.css", "charts.js")


@cache
def _body(name: str) -> bytes:
    if name == "vega.js":
        import vl_convert

        # vega, vega-lite and vega-embed in one offline bundle: no CDN, no network
        # the stub marks the snippet as required; the default snippet sets window.vegaEmbed
        return vl_convert.javascript_bundle().encode("utf-8")  # type: ignore[call-arg]
    return files("impactlens.web").joinpath(f"static/{name}").read_bytes()


@route(router, "/static/{name}", "GET", "public", "Stylesheet and scripts of the pages")
def static(name: str) -> Response:
    """One of the dashboard's static files (cached by the browser for an hour)."""
    if name not in (*_OWN, "vega.js"):
        raise HTTPException(404, f"no static file {name!r}")
    kind = _TYPES[name[name.rindex(".") :]]
    return Response(_body(name), media_type=kind, headers={"Cache-Control": "max-age=3600"})
