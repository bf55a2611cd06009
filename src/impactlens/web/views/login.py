"""Signing in and out: a session cookie for people, API tokens for scripts."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from impactlens.services.users import SESSION_HOURS
from impactlens.web.access import LOGIN_CSRF_COOKIE, SESSION_COOKIE, dashboard, new_login_token
from impactlens.web.rendering import html
from impactlens.web.routing import route

router = APIRouter()
_BAD_FORM = "this form has expired or did not come from ImpactLens; reload the page and retry"


def _safe_next(target: str | None) -> str:
    """Only local paths: a login link must not send people to another site."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def _form(request: Request, error: str | None, status: int, next_: str | None) -> HTMLResponse:
    token = new_login_token()
    response = html(request, "login", status, token=token, error=error, next=_safe_next(next_))
    response.set_cookie(
        LOGIN_CSRF_COOKIE, token, httponly=True, samesite="lax", secure=_secure(request)
    )
    return response


def _secure(request: Request) -> bool:
    return request.url.scheme == "https"


@route(router, "/login", "GET", "public", "The sign-in page")
def login_page(request: Request, next: str | None = None) -> HTMLResponse:
    """The sign-in form (with a double-submit CSRF token)."""
    return _form(request, None, 200, next)


@route(router, "/login", "POST", "public", "Sign in with name and password")
def login(
    request: Request,
    name: Annotated[str, Form(max_length=200)],
    password: Annotated[str, Form(max_length=1000)],
    csrf_token: Annotated[str, Form(max_length=200)],
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    """Check the password; on success set the session cookie and go on."""
    expected = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not expected or not hmac.compare_digest(expected, csrf_token):
        return _form(request, _BAD_FORM, 403, next)
    outcome = dashboard(request).login(name, password)
    if outcome is None:
        return _form(request, "That name and password do not match.", 401, next)
    _, sid = outcome
    response = RedirectResponse(_safe_next(next), 303)
    response.set_cookie(
        SESSION_COOKIE,
        sid,
        max_age=SESSION_HOURS * 3600,
        httponly=True,
        samesite="lax",
        secure=_secure(request),
    )
    response.delete_cookie(LOGIN_CSRF_COOKIE)
    return response


@route(router, "/logout", "POST", "viewer", "Sign out (ends the session)")
def logout(request: Request) -> RedirectResponse:
    """End the session and go back to the sign-in page."""
    if request.state.sid:
        dashboard(request).logout(request.state.sid, request.state.user)
    response = RedirectResponse("/login", 303)
    response.delete_cookie(SESSION_COOKIE)
    return response
