"""The document resources, activities, agents and about (Communication 2.2-2.8)."""

from __future__ import annotations

from datetime import UTC
from email.utils import format_datetime
from typing import Any

from starlette.responses import JSONResponse, Response

from impactlens.domain.xapi.agents import ifi, person
from impactlens.domain.xapi.errors import XapiError
from impactlens.domain.xapi.values import check_iri, check_uuid, parse_timestamp
from impactlens.services import lrs as service
from impactlens.services import lrs_documents as documents
from impactlens.store.lrs import DocumentKey, LrsStore
from impactlens.web.xapi import statements
from impactlens.web.xapi.app import VERSIONS, Handler, XRequest

# each document resource: its kind, the parameter naming one document, the owner parameters
_DOCS: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "activities/state": ("state", "stateId", ("activityId", "agent")),
    "activities/profile": ("activity_profile", "profileId", ("activityId",)),
    "agents/profile": ("agent_profile", "profileId", ("agent",)),
}


def _owner(req: XRequest, path: str) -> tuple[DocumentKey, str | None]:
    kind, id_param, needed = _DOCS[path]
    params = req.params
    allowed = {id_param, *needed, "since"} | ({"registration"} if kind == "state" else set())
    unknown = set(params) - allowed
    if unknown:
        raise XapiError(f"{path} has no parameter {', '.join(sorted(unknown))}")
    for name in needed:
        if name not in params:
            raise XapiError(f"{path} needs the {name} parameter")
    activity = check_iri(params["activityId"], "activityId") if "activityId" in params else ""
    agent = ""
    if "agent" in params:
        found = ifi(statements.parse_agent(params["agent"]))
        if found is None:
            raise XapiError("agent must be an Agent or an identified Group")
        agent = found
    registration = ""
    if "registration" in params:
        registration = check_uuid(params["registration"], "registration").lower()
    return DocumentKey(kind, activity, agent, registration), params.get(id_param)


def _document(path: str) -> Handler:
    kind, id_param, _ = _DOCS[path]

    def handle(req: XRequest, lrs: LrsStore) -> Response:
        key, document_id = _owner(req, path)
        pre = documents.Preconditions(
            req.headers.get("if-match"),
            req.headers.get("if-none-match"),
            required=kind != "state",
            existing_only=req.version.startswith("2."),
        )
        if req.method in ("GET", "HEAD"):
            if document_id is None:
                since = req.params.get("since")
                moment = parse_timestamp(since, "since") if since else None
                return JSONResponse(documents.ids(lrs, key, moment))
            if "since" in req.params:
                raise XapiError(f"since lists documents: it cannot go with {id_param}")
            doc = documents.get(lrs, key, document_id)
            return Response(
                doc.content,
                media_type=doc.content_type,
                headers={
                    "ETag": doc.etag,
                    "Last-Modified": format_datetime(doc.updated.replace(tzinfo=UTC), usegmt=True),
                },
            )
        if "since" in req.params:
            raise XapiError("since is only for GET")
        if req.method == "DELETE":
            if document_id is None and kind != "state":
                raise XapiError(f"DELETE {path} needs {id_param}")
            documents.delete(lrs, key, document_id, pre)
            return Response(status_code=204)
        if document_id is None:
            raise XapiError(f"{req.method} {path} needs {id_param}")
        if req.method == "PUT":
            documents.put(lrs, key, document_id, req.body, req.content_type, pre)
        else:
            documents.post(lrs, key, document_id, req.body, req.content_type, pre)
        return Response(status_code=204)

    return handle


def _only(req: XRequest, *methods: str) -> None:
    if req.method not in methods:
        raise XapiError(f"{req.method} is not allowed here ({', '.join(methods)} only)", 405)


def activities(req: XRequest, lrs: LrsStore) -> Response:
    """GET /activities?activityId=...: the canonical Activity object."""
    _only(req, "GET", "HEAD")
    if set(req.params) != {"activityId"}:
        raise XapiError("activities takes exactly the activityId parameter")
    activity_id = check_iri(req.params["activityId"], "activityId")
    return JSONResponse(service.activity(lrs, activity_id))


def agents(req: XRequest, lrs: LrsStore) -> Response:
    """GET /agents?agent=...: the Person object the LRS knows for an agent."""
    _only(req, "GET", "HEAD")
    if set(req.params) != {"agent"}:
        raise XapiError("agents takes exactly the agent parameter")
    return JSONResponse(person(statements.parse_agent(req.params["agent"])))


def about(req: XRequest, lrs: LrsStore) -> Response:
    """GET /about: the xAPI versions this LRS speaks."""
    _only(req, "GET", "HEAD")
    body: dict[str, Any] = {"version": VERSIONS, "extensions": {}}
    return JSONResponse(body)


def _statements(req: XRequest, lrs: LrsStore) -> Response:
    handlers = {
        "GET": statements.get,
        "HEAD": statements.get,
        "PUT": statements.put,
        "POST": statements.post,
    }
    handler = handlers.get(req.method)
    if handler is None:
        raise XapiError(f"{req.method} is not allowed on statements", 405)
    return handler(req, lrs)


ROUTES: dict[str, Handler] = {
    "statements": _statements,
    "activities": activities,
    "agents": agents,
    "about": about,
    **{path: _document(path) for path in _DOCS},
}
