"""The dashboard application: routes, the permission check, errors people can read.

``create_app(workspace)`` builds the FastAPI app over a workspace; ``impactlens
serve`` runs it with uvicorn. The app holds the workspace's store for its lifetime.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import Receive, Scope, Send

import impactlens
from impactlens.domain.errors import (
    ImpactLensError,
    StoreLockedError,
    UnknownProgramError,
)
from impactlens.services.portfolio import Dashboard
from impactlens.web.access import LoginRequired, access, wants_json
from impactlens.web.rendering import html
from impactlens.web.views import data, login, pilots, plan, portfolio, program, static, users
from impactlens.web.views.data import too_large
from impactlens.web.xapi.app import create_xapi_app

DEFAULT_MAX_UPLOAD = 200 * 1024 * 1024
UPLOAD_PATHS = ("/api/imports/", "/data/imports")


def _error(request: Request, status: int, message: str) -> Response:
    if wants_json(request):
        return JSONResponse({"detail": message}, status_code=status)
    return html(request, "error", status, code=status, message=message)


def _readable(exc: RequestValidationError) -> str:
    """The first validation problem in words: which field, what is wrong."""
    first = exc.errors()[0] if exc.errors() else {}
    where = " ".join(str(p) for p in first.get("loc", ()) if p not in ("body", "query", "path"))
    return f"{where or 'request'}: {str(first.get('msg', 'is not valid')).lower()}"


def _handlers(app: FastAPI) -> None:
    @app.exception_handler(LoginRequired)
    async def _login(request: Request, exc: LoginRequired) -> Response:
        if wants_json(request):
            return JSONResponse(
                {"detail": "sign in first: send Authorization: Bearer TOKEN"},
                status_code=401,
                headers={"WWW-Authenticate": "Bearer"},
            )
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(
            request.url_for("login_page").include_query_params(next=target), 303
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        detail = exc.detail if isinstance(exc.detail, str) else "not found"
        if exc.status_code == 404 and detail == "Not Found":
            detail = f"there is no page at {request.url.path}"
        response = _error(request, exc.status_code, detail)
        if exc.headers:
            response.headers.update(exc.headers)
        return response

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        return _error(request, 422, _readable(exc))

    @app.exception_handler(ImpactLensError)
    async def _user_error(request: Request, exc: ImpactLensError) -> Response:
        status = 400
        if isinstance(exc, UnknownProgramError):
            status = 404
        elif isinstance(exc, StoreLockedError):
            status = 503
        # the server's folders are nobody's business on the web
        where = str(request.app.state.dashboard.ws.path)
        return _error(request, status, str(exc).replace(where, "the workspace"))


def create_app(workspace: Path | str, *, max_upload_bytes: int = DEFAULT_MAX_UPLOAD) -> FastAPI:
    """The dashboard over ``workspace`` (the store is opened now and held until shutdown)."""
    board = Dashboard(Path(workspace))

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        app.state.xapi.state.checkers.close()
        app.state.xapi.state.writer.close()
        board.close()

    app = _App(
        title="ImpactLens",
        version=impactlens.__version__,
        description="Impact dashboard and REST API. Every page has a JSON twin (`.json`); "
        "`x-role` on each operation names the least role that may call it.",
        docs_url=None,  # the Swagger UI loads from a CDN; the spec is at /openapi.json
        redoc_url=None,
        dependencies=[Depends(access)],
        lifespan=lifespan,
    )
    app.state.dashboard = board
    app.state.max_upload_bytes = max_upload_bytes
    _handlers(app)

    @app.middleware("http")
    async def _guard(request: Request, call_next: Callable[[Request], Awaitable[Response]]):
        # refuse a big upload before its body is read (chunked bodies are counted later)
        length = request.headers.get("content-length", "")
        limit = request.app.state.max_upload_bytes
        if request.url.path.startswith(UPLOAD_PATHS) and length.isdigit() and int(length) > limit:
            return _error(request, 413, too_large(limit))
        response = await call_next(request)
        user = getattr(request.state, "user", None)
        route = request.scope.get("route")
        if user is not None and route is not None and request.method == "GET":
            program = request.path_params.get("program")
            action = "export" if request.url.path.endswith(".json") else "view"
            board.audit.record(
                user.name,
                user.role,
                "GET",
                request.url.path,
                program,
                action,
                response.status_code,
            )
            if board.audit.due():
                await run_in_threadpool(board.flush_audit)
        return response

    for module in (portfolio, pilots, program, plan, data, users, login, static):
        app.include_router(module.router)
    # own Basic auth; not in /openapi.json. Mounted for url_for; requests reach it first
    # through _App, past the dashboard's middleware (sessions, audit, upload guard)
    app.state.xapi = create_xapi_app(board)
    app.mount("/xapi", app.state.xapi)
    return app


class _App(FastAPI):
    """The dashboard, with ``/xapi`` requests sent straight to the xAPI endpoint.

    LRS clients POST statements at high rates; the dashboard's middleware (the upload
    guard, the audit of page views, FastAPI's exception and body-limit layers) has nothing
    to do with them and cost a fifth of the server's CPU per batch.
    """

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] == "http" and path.startswith("/xapi/"):
            root = scope.get("root_path", "") + "/xapi"
            await self.state.xapi({**scope, "root_path": root}, receive, send)
            return
        await super().__call__(scope, receive, send)


def app_from_env() -> FastAPI:
    """The app ``impactlens serve`` runs: workspace and upload limit from the environment."""
    mb = os.environ.get("IMPACTLENS_MAX_UPLOAD_MB", "")
    limit = int(mb) * 1024 * 1024 if mb.isdigit() else DEFAULT_MAX_UPLOAD
    return create_app(os.environ.get("IMPACTLENS_WORKSPACE", "."), max_upload_bytes=limit)


__all__ = ["DEFAULT_MAX_UPLOAD", "app_from_env", "create_app"]
