"""Who may do what: CSRF protection for the form, API keys for Offstreet's own tools.

CSRF: opening a form link sets a random session cookie (HttpOnly, SameSite=Strict); the form
carries a token signed over that session and the link, so a post made by another site (no
cookie, or no way to read the token) is refused with 403.
"""

from __future__ import annotations

import hmac
import re
import secrets
from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request, Response, status
from fastapi.routing import APIRoute
from fastapi.security import APIKeyHeader

from settings import settings
from trust.links import sign

SESSION_COOKIE = "offstreet_form_session"
CSRF_FIELD = "csrf_token"
SESSION_FORMAT = re.compile(r"[A-Za-z0-9_-]{32}")
API_KEY_HEADER = "X-API-Key"


class CSRFError(Exception):
    """A form post that did not come from the form we served; the message says what to do."""


def form_session(request: Request) -> str:
    """The browser's form session id: its cookie's, or a new one for `keep_session` to set."""
    session_id = request.cookies.get(SESSION_COOKIE, "")
    return session_id if SESSION_FORMAT.fullmatch(session_id) else secrets.token_urlsafe(24)


def keep_session(request: Request, response: Response, session_id: str) -> None:
    """Set the session cookie unless the browser already sent this one."""
    if request.cookies.get(SESSION_COOKIE) == session_id:
        return
    response.set_cookie(
        SESSION_COOKIE,
        session_id,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path="/f/",
    )


def csrf_token(session_id: str, link_token: str) -> str:
    """The token the form carries, bound to the browser's session and to the link."""
    return sign(f"csrf:{session_id}:{link_token}")


def check_csrf(request: Request, link_token: str, submitted: str | None) -> None:
    """Refuse a form post whose token is missing or not the one served to this browser."""
    session_id = request.cookies.get(SESSION_COOKIE)
    if not session_id:
        raise CSRFError(
            "Your browser did not send the form's session cookie. Allow cookies for this "
            "site, open your link again and resubmit."
        )
    expected = csrf_token(session_id, link_token)
    if not submitted or not hmac.compare_digest(submitted.encode(), expected.encode()):
        raise CSRFError(
            "This form was not sent from the page we served, or that page is stale. Open "
            "your link again and resubmit."
        )


api_key_header = APIKeyHeader(
    name=API_KEY_HEADER,
    auto_error=False,
    description="One of the keys in OFFSTREET_API_KEYS (Offstreet staff and tools only).",
)


def require_staff(key: Annotated[str | None, Depends(api_key_header)]) -> None:
    """Let a call through only with a configured staff key, compared in constant time."""
    given = (key or "").encode()
    # Every configured key is compared, so the time taken says nothing about which matched.
    matched = [hmac.compare_digest(given, known.encode()) for known in settings.staff_keys]
    if not key or not any(matched):
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            detail="send a valid staff key in the X-API-Key header",
            headers={"WWW-Authenticate": "APIKey"},
        )


StaffOnly = Depends(require_staff)


class StaffRoute(APIRoute):
    """A route whose caller must hold a staff key before anything else happens.

    FastAPI reads a route's body before it solves its dependencies, so `StaffOnly` alone
    would let anyone make the server read a body. This checks the key first; `StaffOnly`
    stays on the router to put the key in the OpenAPI schema.
    """

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def key_first(request: Request) -> Response:
            require_staff(request.headers.get(API_KEY_HEADER))
            return await handler(request)

        return key_first
