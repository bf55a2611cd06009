"""Route registration: every page with its JSON twin, every route with its role."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter


def twin(router: APIRouter, path: str, role: str, summary: str) -> Callable[[Any], Any]:
    """Register a GET page at ``path`` and its JSON twin (``path.json``; ``/index.json`` for ``/``).

    The twin is registered first so that ``/programs/x.json`` never reaches the HTML
    route as a program named ``x.json``.
    """

    def register(endpoint: Callable[..., Any]) -> Callable[..., Any]:
        json_path = "/index.json" if path == "/" else f"{path}.json"
        for p, kind in ((json_path, "JSON"), (path, "HTML")):
            router.add_api_route(
                p,
                endpoint,
                methods=["GET"],
                summary=f"{summary} ({kind})",
                name=f"{endpoint.__name__}_{kind.lower()}",
                openapi_extra={"x-role": role},
            )
        return endpoint

    return register


def route(
    router: APIRouter, path: str, method: str, role: str, summary: str
) -> Callable[[Any], Any]:
    """Register one route (a form post, an API call, a static file) with its role."""

    def register(endpoint: Callable[..., Any]) -> Callable[..., Any]:
        router.add_api_route(
            path,
            endpoint,
            methods=[method],
            summary=summary,
            openapi_extra={"x-role": role},
        )
        return endpoint

    return register
