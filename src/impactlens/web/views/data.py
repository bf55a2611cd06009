"""The data page (imports, KPI coverage, identity matching, freshness) and uploads."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, File, Form, HTTPException, Request, UploadFile
from fastapi.responses import JSONResponse, RedirectResponse, Response

from impactlens.domain.errors import ImpactLensError
from impactlens.ingest import KINDS
from impactlens.services.retention import expire_person_data
from impactlens.web.access import dashboard
from impactlens.web.rendering import html, page
from impactlens.web.routing import route, twin

router = APIRouter()


def chunks(upload: UploadFile, limit: int) -> Iterator[bytes]:
    """The uploaded bytes, refusing more than ``limit`` (413)."""
    total = 0
    while chunk := upload.file.read(1 << 20):
        total += len(chunk)
        if total > limit:
            raise HTTPException(413, too_large(limit))
        yield chunk


def too_large(limit: int) -> str:
    """The message of a refused upload.

    Examples:
        >>> too_large(200 * 1024 * 1024)
        'the file is larger than the upload limit of 200 MB; import it with the CLI instead'
    """
    return (
        f"the file is larger than the upload limit of {limit / 1024 / 1024:g} MB; "
        "import it with the CLI instead"
    )


def expire_after_upload(request: Request) -> int:
    """Apply the retention setting to what an upload brought in; rows expired."""
    board = dashboard(request)
    with board.ws.lock:
        user = request.state.user
        expired = expire_person_data(board.ws, by=user.name, role=user.role)
        if expired is None or not expired.total:
            return 0
        # the data changed under the cached fingerprint: recompute it on the next read
        board._fingerprint = None
        return expired.total


@twin(router, "/data", "analyst", "Imports, KPI coverage, identity matching and freshness")
def data(request: Request, imported: str | None = None) -> Response:
    """What is in the store and how healthy it is."""
    return page(
        request, "data", dashboard(request).data(), kinds=list(KINDS), imported=imported, error=None
    )


@route(router, "/api/imports/{kind}", "POST", "analyst", "Import one file (multipart field 'file')")
def api_import(request: Request, kind: str, file: Annotated[UploadFile, File()]) -> JSONResponse:
    """Load an uploaded CSV, Parquet or JSON Lines file (all rows land, or none do)."""
    limit = request.app.state.max_upload_bytes
    summary = dashboard(request).upload(
        kind, file.filename or "upload.csv", chunks(file, limit), request.state.user
    )
    return JSONResponse({**asdict(summary), "expired": expire_after_upload(request)})


@route(router, "/data/imports", "POST", "analyst", "Import one file from the data page's form")
def form_import(
    request: Request,
    kind: Annotated[str, Form()],
    file: Annotated[UploadFile, File()],
) -> Response:
    """The data page's upload form; back to the data page with what was imported.

    A refused file shows its message (file, row, column) in place above the form, with
    the kind still chosen, rather than on an error page: the person fixes it and retries.
    """
    limit = request.app.state.max_upload_bytes
    board = dashboard(request)
    try:
        summary = board.upload(
            kind, file.filename or "upload.csv", chunks(file, limit), request.state.user
        )
    except (ImpactLensError, HTTPException) as exc:
        message = exc.detail if isinstance(exc, HTTPException) else str(exc)
        status = exc.status_code if isinstance(exc, HTTPException) else 400
        where = str(board.ws.path)  # the server's folders are nobody's business on the web
        return html(
            request,
            "data",
            status,
            data=board.data(),
            kinds=list(KINDS),
            imported=None,
            error=str(message).replace(where, "the workspace"),
            chosen=kind,
        )
    note = (
        f"{summary.kind}: {summary.rows} rows, {summary.inserted} new, {summary.replaced} replaced"
    )
    expired = expire_after_upload(request)
    if expired:
        note += f"; {expired} person-level rows past the retention period expired"
    return RedirectResponse(request.url_for("data_html").include_query_params(imported=note), 303)
