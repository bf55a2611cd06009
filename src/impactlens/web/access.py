"""Who is asking and what they may do: one dependency checks every route.

Each route declares the least role it needs in its OpenAPI extras (``x-role``:
``public``, ``viewer``, ``analyst`` or ``admin``), so the published spec says who
may call what and the role x endpoint test reads its expectations from the same
place. A route without ``x-role`` is refused to everyone (fail closed).
"""

from __future__ import annotations

import hmac
import secrets

from fastapi import HTTPException, Request
from starlette.routing import Match

from impactlens.services.portfolio import Dashboard
from impactlens.services.users import User, secret_hash

SESSION_COOKIE = "il_session"
LOGIN_CSRF_COOKIE = "il_login_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
PUBLIC = "public"


class LoginRequired(Exception):
    """An anonymous request for a page: HTML gets a redirect to /login, JSON a 401."""


def role_of(request: Request) -> str | None:
    """The least role the matched route needs (None when undeclared)."""
    route = request.scope.get("route")
    extra = getattr(route, "openapi_extra", None) or {}
    return extra.get("x-role")


def wants_json(request: Request) -> bool:
    """Whether the caller is a script or a JSON twin (then errors are JSON, never redirects)."""
    path = request.url.path
    if path.endswith(".json") or path.startswith("/api/"):
        return True
    if request.headers.get("authorization"):
        return True
    accept = request.headers.get("accept", "")
    return "application/json" in accept and "text/html" not in accept


def csrf_for(sid: str) -> str:
    """The CSRF token of a session: derived from the (HttpOnly) session id.

    Examples:
        >>> csrf_for("abc") == csrf_for("abc") != csrf_for("abd")
        True
    """
    return secret_hash("csrf:" + sid)[:32]


def new_login_token() -> str:
    """A random token for the login form's double-submit cookie."""
    return secrets.token_urlsafe(24)


def dashboard(request: Request) -> Dashboard:
    """The app's dashboard service."""
    return request.app.state.dashboard


def _identify(request: Request) -> tuple[User | None, str | None]:
    """The user and, for browser sessions, the session id."""
    board = dashboard(request)
    auth = request.headers.get("authorization", "")
    if auth:
        scheme, _, token = auth.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise HTTPException(401, "use Authorization: Bearer TOKEN with an API token")
        user = board.accounts.by_token(token.strip())
        if user is None:
            raise HTTPException(401, "this API token is not valid (revoked or mistyped)")
        return user, None
    sid = request.cookies.get(SESSION_COOKIE)
    if sid:
        return board.accounts.by_session(sid), sid
    return None, None


async def _check_csrf(request: Request, sid: str) -> None:
    sent = request.headers.get(CSRF_HEADER)
    if sent is None:
        form = await request.form()
        value = form.get(CSRF_FIELD)
        sent = value if isinstance(value, str) else None
    if not sent or not hmac.compare_digest(sent, csrf_for(sid)):
        raise HTTPException(
            403, "this form has expired or did not come from ImpactLens; reload the page and retry"
        )


async def access(request: Request) -> None:
    """The one permission check, run before every route (FastAPI app dependency)."""
    # FastAPI runs app dependencies after routing, so the matched route is in the scope;
    # a mounted or unmatched path has none and falls through to the 404 handler.
    route = request.scope.get("route")
    if route is None or route.matches(request.scope)[0] is Match.NONE:
        return
    needed = role_of(request)
    user, sid = _identify(request)
    request.state.user = user
    request.state.sid = sid
    if needed == PUBLIC:
        return
    if user is None:
        raise LoginRequired()
    if needed not in ("viewer", "analyst", "admin"):
        raise HTTPException(403, "this route declares no role, so nobody may use it")
    if not user.can(needed):  # type: ignore[arg-type]
        raise HTTPException(403, f"the {user.role} role may not open this page; it needs {needed}")
    if request.method == "POST" and sid is not None:
        await _check_csrf(request, sid)
