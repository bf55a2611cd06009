"""The floor for ``bench/lrs_post.py``: the least an xAPI POST server in Python can do.

A bare ASGI app (no framework, no authentication, no validation) that reads the body,
parses it with orjson, gives each statement an id, and appends (id, JSON text) rows to
a DuckDB file in one committed transaction per request, on the event loop's thread. What
the real LRS does on top of this (HTTP Basic, the 98 checks, index columns and
references, id conflicts, voiding, group commit) can only cost more, so its
statements/s over the floor's, measured with the same clients in the same sitting, is
the share of the machine's reachable throughput the LRS gets.

Run by ``bench/lrs_post.py --baseline`` as
``python -m uvicorn lrs_floor_app:app --app-dir bench`` with ``FLOOR_DB`` set.
"""

from __future__ import annotations

import os
import uuid
from typing import Any

import duckdb
import orjson
import pyarrow as pa

_con = duckdb.connect(os.environ.get("FLOOR_DB", ":memory:"))
_con.execute("CREATE TABLE IF NOT EXISTS statements (statement_id VARCHAR, statement VARCHAR)")


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """POST a statement or an array of them: 200 with the ids once committed."""
    if scope["type"] == "lifespan":
        while (await receive())["type"] != "lifespan.shutdown":
            await send({"type": "lifespan.startup.complete"})
        await send({"type": "lifespan.shutdown.complete"})
        return
    body, more = b"", True
    while more:
        message = await receive()
        body += message.get("body", b"")
        more = message.get("more_body", False)
    status, answer = 200, b"{}"
    if scope["method"] == "POST":
        parsed = orjson.loads(body)
        statements = parsed if isinstance(parsed, list) else [parsed]
        ids = [str(s.get("id") or uuid.uuid4()).lower() for s in statements]
        texts = [orjson.dumps(s).decode() for s in statements]
        rows = pa.table({"statement_id": ids, "statement": texts})  # noqa: F841 (read by SQL)
        _con.execute("BEGIN TRANSACTION")
        _con.execute("INSERT INTO statements SELECT * FROM rows")
        _con.execute("COMMIT")
        answer = orjson.dumps(ids)
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json")],
        }
    )
    await send({"type": "http.response.body", "body": answer})
