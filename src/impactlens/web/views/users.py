"""Admins manage users and API tokens (and read the audit log)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import JSONResponse, Response

from impactlens.web.access import dashboard, wants_json
from impactlens.web.rendering import page
from impactlens.web.routing import route, twin

router = APIRouter()


def _data(request: Request) -> dict[str, Any]:
    board = dashboard(request)
    return {
        "users": [{"name": u.name, "role": u.role} for u in board.accounts.users()],
        "tokens": board.accounts.tokens(),
        "audit": board.audit_entries(),
    }


def _done(request: Request, outcome: dict[str, Any], note: str) -> Response:
    """A script gets what changed as JSON; a browser the users page with a note."""
    if wants_json(request):
        return JSONResponse(outcome)
    return page(request, "users", _data(request), created=None, note=note)


@twin(router, "/admin/users", "admin", "Users, roles, API tokens and the audit log")
def users(request: Request) -> Response:
    """Every user with their role, live API tokens and the latest audit entries."""
    return page(request, "users", _data(request), created=None, note=None)


@route(router, "/admin/users", "POST", "admin", "Create a user (one-time password and token)")
def create_user(
    request: Request,
    name: Annotated[str, Form(max_length=64)],
    role: Annotated[str, Form(max_length=16)],
) -> Response:
    """Create a user; the page shows the one-time password and token once."""
    created = dashboard(request).add_user(name, role, request.state.user)
    return page(request, "users", _data(request), created=created, note=None)


@route(router, "/admin/users/deactivate", "POST", "admin", "Deactivate a user (form field name)")
def deactivate_user(request: Request, name: Annotated[str, Form(max_length=64)]) -> Response:
    """The user can no longer sign in: sessions end and API tokens are revoked at once."""
    board, by = dashboard(request), request.state.user
    with board.ws.store():
        revoked = board.accounts.deactivate(name, by=by.name)
    board.audit.record(by.name, by.role, "POST", "/admin/users/deactivate", None, "manage", 200)
    note = f"Deactivated {name}; {revoked} API token(s) revoked."
    return _done(request, {"name": name, "active": False, "tokens_revoked": revoked}, note)


@route(router, "/admin/tokens/revoke", "POST", "admin", "Revoke an API token (form field token_id)")
def revoke_token(request: Request, token_id: Annotated[str, Form(max_length=64)]) -> Response:
    """The token stops working at once."""
    board, by = dashboard(request), request.state.user
    with board.ws.store():
        owner = board.accounts.revoke_token(token_id)
    board.audit.record(by.name, by.role, "POST", "/admin/tokens/revoke", None, "manage", 200)
    note = f"Revoked API token {token_id.strip().lower()} of {owner}."
    return _done(request, {"token_id": token_id.strip().lower(), "name": owner}, note)
