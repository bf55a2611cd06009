"""The xAPI endpoint: a Starlette application the dashboard mounts at ``/xapi``.

It has its own HTTP Basic authentication (LRS client credentials, not dashboard users)
and is not part of the dashboard's OpenAPI document. Each request runs in a worker
thread holding the dashboard's store, so a 200/204 means the writes are committed;
statement writes hold it only to insert and commit (see :mod:`.lrs_batches`).
"""

from __future__ import annotations

import base64
import binascii
import logging
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from impactlens.domain.errors import WorkspaceError
from impactlens.domain.xapi import compiled_modules
from impactlens.domain.xapi.errors import XapiError
from impactlens.domain.xapi.values import iso
from impactlens.services.lrs import Credentials, now
from impactlens.services.lrs_batches import StatementWriter
from impactlens.services.lrs_checkers import Checkers
from impactlens.store.lrs import Client, LrsStore, lrs_for

if TYPE_CHECKING:
    from impactlens.services.portfolio import Dashboard

VERSION = "1.0.3"
VERSIONS = ["1.0.3", "1.0.2", "1.0.1", "1.0.0", "2.0.0"]
_VERSION = re.compile(r"^(?:1\.0(?:\.[0-9]+)?|2\.0\.0)$")
DEFAULT_MAX_MB = 50
_log = logging.getLogger(__name__)
_HEADERS = {
    "X-Experience-API-Version": VERSION,
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Expose-Headers": "ETag, Last-Modified, X-Experience-API-Version, "
    "X-Experience-API-Consistent-Through, Content-Type",
}
# headers the alternate request syntax may carry in its form body (Communication 1.3)
_FORM_HEADERS = {
    "authorization", "x-experience-api-version", "content-type", "content-length",
    "if-match", "if-none-match",
}  # fmt: skip


@dataclass
class XRequest:
    """An xAPI request after the alternate syntax is unfolded."""

    method: str
    path: str  # relative to /xapi, without slashes at the ends: "statements", "activities/state"
    params: dict[str, str]
    headers: dict[str, str]  # lower-case names
    body: bytes
    version: str = VERSION
    client: Client | None = None
    alternate: bool = False  # sent with the alternate request syntax (method=...)

    @property
    def content_type(self) -> str:
        """The Content-Type header ('' when absent)."""
        return self.headers.get("content-type", "")


Handler = Callable[[XRequest, LrsStore], Response]


def error(message: str, status: int) -> Response:
    """A plain JSON error the spec's way: status code and what is wrong."""
    headers = dict(_HEADERS)
    if status == 401:
        headers["WWW-Authenticate"] = 'Basic realm="xAPI"'
    return JSONResponse({"error": True, "message": message}, status_code=status, headers=headers)


def _unfold(request: Request, body: bytes) -> XRequest:
    params = dict(request.query_params)
    headers = {k.lower(): v for k, v in request.headers.items()}
    path = request.scope.get("path", "").removeprefix(request.scope.get("root_path", "")).strip("/")
    method = request.method
    if method == "POST" and "method" in params:
        if set(params) != {"method"}:
            raise XapiError("the alternate request syntax takes only 'method' in the query string")
        if not headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
            raise XapiError("the alternate request syntax needs application/x-www-form-urlencoded")
        method = params.pop("method").upper()
        if method not in ("GET", "PUT", "POST", "DELETE", "HEAD"):
            raise XapiError(f"method={method} is not an HTTP method the LRS has")
        form = dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
        body = form.pop("content", "").encode()
        headers.pop("content-type", None)  # the form's own; the content's may be in the form
        for name in list(form):
            if name.lower() in _FORM_HEADERS:
                headers[name.lower()] = form.pop(name)
        params = form
        if method in ("PUT", "POST") and "content-type" not in headers:
            headers["content-type"] = "application/json"
    return XRequest(method, path, params, headers, body, alternate="method" in request.query_params)


def _basic(req: XRequest) -> tuple[str, str]:
    """The key and secret of the request's HTTP Basic credentials (401 when there are none)."""
    header = req.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic" or not value:
        raise XapiError("send HTTP Basic credentials (an LRS client key and secret)", 401)
    try:
        key, sep, secret = base64.b64decode(value.strip(), validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise XapiError("the Authorization header is not valid HTTP Basic", 401) from exc
    if not sep:
        raise XapiError("the Authorization header is not valid HTTP Basic", 401)
    return key, secret


def _allowed(client: Client, method: str) -> None:
    """``read`` clients may only read, ``write`` clients may only write; ``all`` both."""
    reading = method in ("GET", "HEAD")
    if (client.scope == "read" and not reading) or (client.scope == "write" and reading):
        raise XapiError(f"the client's scope ({client.scope}) does not allow {method}", 403)


def create_xapi_app(
    board: Dashboard, *, max_bytes: int | None = None, default_version: str | None = None
) -> Starlette:
    """The xAPI endpoint over the dashboard's held store.

    ``max_bytes`` caps a request body (default ``IMPACTLENS_XAPI_MAX_MB`` or 50 MB);
    ``default_version`` is the X-Experience-API-Version answered to a request that sent
    none (default ``IMPACTLENS_XAPI_VERSION`` or 1.0.3).
    """
    default_version = default_version or os.environ.get("IMPACTLENS_XAPI_VERSION", VERSION)
    from impactlens.web.xapi import statements
    from impactlens.web.xapi.resources import ROUTES

    if max_bytes is None:
        mb = os.environ.get("IMPACTLENS_XAPI_MAX_MB", "")
        max_bytes = (int(mb) if mb.isdigit() else DEFAULT_MAX_MB) * 1024 * 1024
    credentials = Credentials()
    writer = StatementWriter(board.ws.store, board.ws.unsettled_store)
    move_ms = os.environ.get("IMPACTLENS_XAPI_MOVE_MS", "")
    if move_ms.isdigit():
        writer.MOVE_AFTER_S = int(move_ms) / 1000
    board.ws.settled = writer.settled
    checkers = Checkers()
    if not all(compiled_modules().values()):
        _log.warning(
            "the xAPI statement checks run from source: `make compile` makes them faster "
            "(docs/how-to/deploy.md)"
        )

    def run(req: XRequest, handler: Handler) -> Response:
        if statements.is_write(req):
            # checked and built with no store held; the store only for insert and commit
            key, secret = _basic(req)
            req.client = credentials.known(key, secret)
            if req.client is None:
                with board.ws.store() as store:
                    req.client = credentials.check(lrs_for(store), key, secret)
            _allowed(req.client, req.method)
            return statements.write(req, writer, checkers)
        with board.ws.store() as store:
            lrs = lrs_for(store)
            if handler is not ROUTES["about"]:
                req.client = credentials.check(lrs, *_basic(req))
                _allowed(req.client, req.method)
            return handler(req, lrs)

    async def endpoint(request: Request) -> Response:
        try:
            if request.method == "OPTIONS":
                return _preflight(request)
            length = request.headers.get("content-length", "")
            if length.isdigit() and int(length) > max_bytes:
                raise XapiError(f"the request is larger than {max_bytes // 2**20} MB", 413)
            body = await request.body()
            if len(body) > max_bytes:
                raise XapiError(f"the request is larger than {max_bytes // 2**20} MB", 413)
            req = _unfold(request, body)
            handler = ROUTES.get(req.path)
            if handler is None:
                raise XapiError(f"there is no xAPI resource at /xapi/{req.path}", 404)
            if handler is not ROUTES["about"]:
                version = req.headers.get("x-experience-api-version")
                if version is None:
                    raise XapiError("send the X-Experience-API-Version header (e.g. 1.0.3)")
                if not _VERSION.fullmatch(version.strip()):
                    raise XapiError(f"X-Experience-API-Version {version!r} is not supported")
                req.version = version.strip()
                if req.alternate and req.version.startswith("2."):
                    raise XapiError("xAPI 2.0 has no alternate request syntax (method=...)")
            response = await run_in_threadpool(run, req, handler)
            if req.method == "HEAD":
                response.body = b""
        except XapiError as exc:
            response = error(str(exc), exc.status)
        except WorkspaceError as exc:  # e.g. a store engine the LRS does not run on yet
            response = error(str(exc), 501)
        except Exception as exc:
            _log.exception("xAPI request failed")
            response = error(f"the LRS could not process the request: {exc}", 400)
        for name, value in _HEADERS.items():
            response.headers.setdefault(name, value)
        # answer in the family the client speaks; without a header, the configured default
        sent = request.headers.get("x-experience-api-version", default_version)
        response.headers["X-Experience-API-Version"] = "2.0.0" if sent.startswith("2.") else VERSION
        if request.url.path.rstrip("/").endswith("/statements"):
            # on every statements response, errors too: clients wait on it (Communication 2.1.3)
            response.headers.setdefault("X-Experience-API-Consistent-Through", iso(now()))
        return response

    methods = ["GET", "HEAD", "PUT", "POST", "DELETE", "OPTIONS"]
    app = Starlette(routes=[Route("/{path:path}", endpoint, methods=methods)])
    app.state.checkers = checkers  # closed by the dashboard's shutdown
    app.state.writer = writer  # closed (journaled statements stored) at shutdown
    return app


def _preflight(request: Request) -> Response:
    asked = request.headers.get("access-control-request-headers", "")
    return Response(
        status_code=200,
        headers={
            "Access-Control-Allow-Methods": "GET, HEAD, PUT, POST, DELETE, OPTIONS",
            "Access-Control-Allow-Headers": asked
            or "Authorization, Content-Type, X-Experience-API-Version, If-Match, If-None-Match",
            "Access-Control-Max-Age": "86400",
        },
    )
