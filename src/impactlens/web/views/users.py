"""Admins manage users (and read the audit log)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from impactlens.web.access import dashboard
from impactlens.web.rendering import page
from impactlens.web.routing import route, twin

router = APIRouter()


def _data(request: Request) -> dict:
    board = dashboard(request)
    return {
        "users": [{"name": u.name, "role": u.role} for u in board.accounts.users()],
        "audit": board.audit_entries(),
    }


@twin(router, "/admin/users", "admin", "Users, roles and the audit log")
def users(request: Request) -> Response:
    """Every user with their role, and the latest audit entries."""
    return page(request, "users", _data(request), created=None)


@route(router, "/admin/users", "POST", "admin", "Create a user (one-time password and token)")
def create_user(
    request: Request,
    name: Annotated[str, Form(max_length=64)],
    role: Annotated[str, Form(max_length=16)],
) -> Response:
    """Create a user; the page shows the one-time password and token once."""
    created = dashboard(request).add_user(name, role, request.state.user)
    return page(request, "users", _data(request), created=created)
