"""The statements resource (Communication 2.1): PUT, POST and GET with every parameter."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC
from email.utils import format_datetime
from typing import Any

from starlette.responses import JSONResponse, Response

from impactlens.domain.xapi.agents import check_agent, ifi
from impactlens.domain.xapi.errors import XapiError
from impactlens.domain.xapi.formats import FORMATS
from impactlens.domain.xapi.values import check_iri, check_uuid, iso, parse_timestamp
from impactlens.services import lrs as service
from impactlens.services import lrs_batches as batches
from impactlens.services.lrs_batches import StatementWriter
from impactlens.services.lrs_checkers import Checkers
from impactlens.store.lrs import LrsStore, StatementQuery
from impactlens.web.xapi import multipart
from impactlens.web.xapi.app import XRequest

_GET_PARAMS = {
    "statementId", "voidedStatementId", "agent", "verb", "activity", "registration",
    "related_activities", "related_agents", "since", "until", "limit", "format",
    "attachments", "ascending", "more",
}  # fmt: skip
_SINGLE_OK = {"statementId", "voidedStatementId", "format", "attachments"}


def _bool(params: dict[str, str], name: str) -> bool:
    value = params.get(name, "false")
    if value not in ("true", "false"):
        raise XapiError(f"{name} must be true or false, not {value!r}")
    return value == "true"


def parse_agent(text: str, name: str = "agent") -> dict[str, Any]:
    """An agent given as a JSON query parameter, checked."""
    try:
        agent = json.loads(text)
    except json.JSONDecodeError as exc:
        raise XapiError(f"{name} is not JSON: {exc}") from exc
    return check_agent(agent, name)


def _languages(req: XRequest) -> list[str]:
    accepted = []
    for item in req.headers.get("accept-language", "").split(","):
        tag = item.split(";")[0].strip()
        if tag and tag != "*":
            accepted.append(tag)
    return accepted


def _consistent() -> dict[str, str]:
    return {"X-Experience-API-Consistent-Through": iso(service.now())}


def _body(req: XRequest) -> tuple[Any, dict[str, tuple[str, bytes]]]:
    kind = multipart.media_type(req.content_type)
    if kind == "multipart/mixed":
        return multipart.parse(req.body, req.content_type)
    if kind != "application/json":
        raise XapiError(
            f"statements must be sent as application/json or multipart/mixed, not {kind or '?'}"
        )
    return batches.parse_json(req.body), {}


def put(req: XRequest, lrs: LrsStore) -> Response:
    """PUT /statements?statementId=...: store one statement under that id (204)."""
    return _put(req, lambda batch: _commit(lrs, batch))


def post(req: XRequest, lrs: LrsStore) -> Response:
    """POST /statements: one statement or an array; returns the ids."""
    if _reads(req):
        return get(req, lrs)  # a GET sent as POST (e.g. a long query)
    return _post(req, lambda batch: _commit(lrs, batch))


def is_write(req: XRequest) -> bool:
    """Whether the request stores statements (PUT, or POST that is not a GET in disguise)."""
    return req.path == "statements" and (
        req.method == "PUT" or (req.method == "POST" and not _reads(req))
    )


def write(req: XRequest, writer: StatementWriter, checkers: Checkers | None = None) -> Response:
    """PUT or POST statements through the group-committing writer (no store held here).

    A large JSON body is parsed and checked by one of ``checkers``' processes (waiting for
    one when all are busy).
    """
    if (
        checkers is not None
        and req.method == "POST"
        and not req.params
        and multipart.media_type(req.content_type) == "application/json"
        and checkers.wanted(req.body)
    ):
        batch = checkers.prepare(req.body, _client(req), req.version)
        return JSONResponse(writer.write(batch), headers=_consistent())
    return (_put if req.method == "PUT" else _post)(req, writer.write)


def _reads(req: XRequest) -> bool:
    return bool(req.params) and set(req.params) <= _GET_PARAMS and not req.body


def _commit(lrs: LrsStore, batch: batches.Batch) -> list[str]:
    result = batches.commit_batches(lrs, [batch])[0]
    if isinstance(result, XapiError):
        raise result
    return result


def _put(req: XRequest, store: Callable[[batches.Batch], list[str]]) -> Response:
    extra = set(req.params) - {"statementId"}
    if extra:
        raise XapiError(f"PUT statements takes only statementId, not {', '.join(sorted(extra))}")
    if "statementId" not in req.params:
        raise XapiError("PUT statements needs the statementId parameter")
    sid = check_uuid(req.params["statementId"], "statementId").lower()
    statement, parts = _body(req)
    if not isinstance(statement, dict):
        raise XapiError("PUT statements takes one statement (a JSON object)")
    if "id" in statement and str(statement["id"]).lower() != sid:
        raise XapiError(f"the statement's id {statement['id']} is not the statementId {sid}")
    statement = {**statement, "id": statement.get("id", sid)}
    store(batches.prepare_batch([statement], client=_client(req), parts=parts, version=req.version))
    return Response(status_code=204, headers=_consistent())


def _post(req: XRequest, store: Callable[[batches.Batch], list[str]]) -> Response:
    if req.params:
        raise XapiError(f"POST statements takes no parameters, not {', '.join(sorted(req.params))}")
    body, parts = _body(req)
    statements = body if isinstance(body, list) else [body]
    ids = store(
        batches.prepare_batch(statements, client=_client(req), parts=parts, version=req.version)
    )
    return JSONResponse(ids, headers=_consistent())


def _client(req: XRequest) -> Any:
    assert req.client is not None
    return req.client


def _query(params: dict[str, str]) -> StatementQuery:
    agent = ifi(parse_agent(params["agent"])) if "agent" in params else None
    if "agent" in params and agent is None:
        raise XapiError("agent must be an Agent or an identified Group")
    limit_text = params.get("limit", "0")
    if not limit_text.isdigit():
        raise XapiError(f"limit must be a non-negative integer, not {limit_text!r}")
    return StatementQuery(
        agent=agent,
        verb=check_iri(params["verb"], "verb") if "verb" in params else None,
        activity=check_iri(params["activity"], "activity") if "activity" in params else None,
        registration=check_uuid(params["registration"], "registration").lower()
        if "registration" in params
        else None,
        related_activities=_bool(params, "related_activities"),
        related_agents=_bool(params, "related_agents"),
        since=parse_timestamp(params["since"], "since") if "since" in params else None,
        until=parse_timestamp(params["until"], "until") if "until" in params else None,
        ascending=_bool(params, "ascending"),
        limit=int(limit_text),
    )


def get(req: XRequest, lrs: LrsStore) -> Response:
    """GET /statements: one statement by id, or a page of a query (with ``more``)."""
    params = req.params
    unknown = set(params) - _GET_PARAMS
    if unknown:
        raise XapiError(f"GET statements has no parameter {', '.join(sorted(unknown))}")
    fmt = params.get("format", "exact")
    if fmt not in FORMATS:
        raise XapiError(f"format must be one of {', '.join(FORMATS)}, not {fmt!r}")
    with_attachments = _bool(params, "attachments")
    headers = _consistent()
    single = [p for p in ("statementId", "voidedStatementId") if p in params]
    if single:
        if len(single) == 2 or set(params) - _SINGLE_OK:
            raise XapiError(
                f"{single[0]} can only be combined with format and attachments, not "
                f"{', '.join(sorted(set(params) - _SINGLE_OK - set(single[:1])))}"
            )
        sid = check_uuid(params[single[0]], single[0])
        found = service.statement(lrs, sid, voided=single[0] == "voidedStatementId")
        document: Any = service.rendered(lrs, [found.text], fmt, _languages(req))[0]
        headers["Last-Modified"] = format_datetime(found.stored.replace(tzinfo=UTC), usegmt=True)
        return _respond(lrs, document, [document], with_attachments, headers)
    if "more" in params:
        if len(params) > 1 and set(params) - {"more", "format", "attachments"}:
            raise XapiError("more can only be combined with format and attachments")
        q = service.query_from_token(params["more"])
    else:
        q = _query(params)
    page = service.query(lrs, q)
    statements = service.rendered(lrs, [s.text for s in page.statements], fmt, _languages(req))
    more = ""
    if page.more:
        more = f"/xapi/statements?more={page.more}"
        if fmt != "exact":
            more += f"&format={fmt}"
        if with_attachments:
            more += "&attachments=true"
    document = {"statements": statements, "more": more}
    return _respond(lrs, document, statements, with_attachments, headers)


def _respond(
    lrs: LrsStore,
    document: Any,
    statements: list[dict[str, Any]],
    with_attachments: bool,
    headers: dict[str, str],
) -> Response:
    if not with_attachments:
        return JSONResponse(document, headers=headers)
    hashes = []
    for st in statements:
        for source in (st, st.get("object", {})):
            hashes += [a["sha2"] for a in source.get("attachments", []) if "sha2" in a]
    found = lrs.attachments(list(dict.fromkeys(hashes)))
    body, content_type = multipart.build(
        document, [(sha2, ctype, content) for sha2, (ctype, content) in found.items()]
    )
    return Response(body, headers={**headers, "Content-Type": content_type})
