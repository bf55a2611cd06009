"""Copy statements from another Learning Record Store through the standard xAPI API.

``GET {endpoint}/statements?since=...&ascending=true`` page by page, following
``more``. Each page is imported like a statements file (the same checks, atomic and
idempotent) and, in the same transaction, the last ``stored`` seen is remembered
per endpoint, so an interrupted pull, or the next one, continues where it stopped.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin

import httpx

from impactlens.domain.errors import ImpactLensError, InputError
from impactlens.ingest.xapi import StatementsSummary, import_statements
from impactlens.store import xapi_bulk
from impactlens.store.base import Store

if TYPE_CHECKING:
    from impactlens.services.workspace import Workspace

VERSION = "1.0.3"


@dataclass(frozen=True)
class PullSummary:
    """What one pull did: pages read, statements received and new, where it stopped."""

    endpoint: str
    pages: int
    statements: int
    inserted: int
    since: str | None
    last_stored: str | None

    def to_dict(self) -> dict[str, Any]:
        """The ``--json`` document."""
        return dict(self.__dict__)


def pull_statements(
    ws: Workspace,
    endpoint: str,
    *,
    since: str | None = None,
    key: str | None = None,
    secret: str | None = None,
    batch: int = 500,
    progress: Callable[[int], None] | None = None,
    transport: httpx.BaseTransport | None = None,
) -> PullSummary:
    """Copy the statements stored at ``endpoint`` after ``since`` (or after the last pull).

    ``endpoint`` is the LRS base (``https://lrs.example.com/xapi``); ``key``/``secret``
    its HTTP Basic credentials. When both ``since`` and an earlier pull's cursor exist,
    the later of the two is used.
    """
    base = endpoint.rstrip("/") + "/"
    auth = httpx.BasicAuth(key, secret or "") if key else None
    headers = {"X-Experience-API-Version": VERSION, "Accept": "application/json"}
    with ws.store() as store:
        start = _start(store, base, since)
        params: dict[str, str | int] | None = {"ascending": "true", "limit": batch}
        if start is not None and params is not None:
            params["since"] = start
        url = urljoin(base, "statements")
        pages = received = inserted = 0
        last = start
        with httpx.Client(auth=auth, headers=headers, timeout=60, transport=transport) as client:
            while url:
                page = _get(client, url, params)
                params = None  # `more` carries the query
                statements = page.get("statements") or []
                if statements:
                    done = _import_page(store, base, statements, ws.path, url)
                    received += done.statements
                    inserted += done.inserted
                    last = _last_stored(statements) or last
                pages += 1
                if progress is not None:
                    progress(received)
                more = page.get("more") or ""
                url = urljoin(base, more) if more else ""
    return PullSummary(base.rstrip("/"), pages, received, inserted, start, last)


def _start(store: Store, endpoint: str, since: str | None) -> str | None:
    """The later of ``since`` and the endpoint's cursor (as instants, not as text)."""
    cursor = xapi_bulk.pull_cursor(store, endpoint.rstrip("/"))
    candidates = [c for c in (since, cursor) if c]
    if not candidates:
        return None
    for value in candidates:
        if _instant(value) is None:
            raise ImpactLensError(f"--since {value!r} is not an ISO 8601 date and time")
    return max(candidates, key=lambda c: _instant(c) or datetime.min.replace(tzinfo=UTC))


def _instant(text: str) -> datetime | None:
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _get(client: httpx.Client, url: str, params: dict[str, str | int] | None) -> dict[str, Any]:
    try:
        response = client.get(url, params=params)
    except httpx.HTTPError as exc:
        raise ImpactLensError(f"cannot reach the LRS at {url}: {exc}") from exc
    if response.status_code != 200:
        text = response.text.strip().replace("\n", " ")[:200]
        raise ImpactLensError(f"the LRS answered {response.status_code} to GET {url}: {text}")
    try:
        page = response.json()
    except ValueError as exc:
        raise ImpactLensError(f"the LRS sent something that is not JSON from {url}") from exc
    if not isinstance(page, dict) or not isinstance(page.get("statements", []), list):
        raise ImpactLensError(f"the LRS sent no StatementResult from {url}")
    return page


def _last_stored(statements: list[Any]) -> str | None:
    stamps = [str(s["stored"]) for s in statements if isinstance(s, dict) and s.get("stored")]
    if not stamps:
        return None
    return max(stamps, key=lambda s: _instant(s) or datetime.min.replace(tzinfo=UTC))


def _import_page(
    store: Store, endpoint: str, statements: list[Any], workspace: Path, url: str
) -> StatementsSummary:
    """One page through the file import, with the cursor saved in its transaction."""
    last = _last_stored(statements)

    def remember(inner: Store, done: StatementsSummary) -> None:
        if last is not None:
            now = datetime.now(UTC).replace(tzinfo=None)
            xapi_bulk.save_pull_cursor(inner, endpoint.rstrip("/"), last, done.statements, now)

    spill = workspace / ".impactlens" / "tmp"
    spill.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(
        "w", suffix=".jsonl", dir=spill, encoding="utf-8", delete=False
    ) as fh:
        for statement in statements:
            fh.write(json.dumps(statement, separators=(",", ":")) + "\n")
        path = Path(fh.name)
    try:
        return import_statements(store, [path], in_transaction=remember)
    except InputError as exc:  # name the page, not the temporary file
        where = f"statement {exc.row} of the page {url}" if exc.row else f"the page {url}"
        field = f", field {exc.column!r}" if exc.column else ""
        raise ImpactLensError(
            f"{where}{field}: {exc.problem} (nothing of that page was copied)"
        ) from None
    finally:
        path.unlink(missing_ok=True)
