"""The console's session: the department token in an HttpOnly, SameSite=Strict cookie, and a
CSRF token derived from it (an HMAC keyed by the token, so only its holder can compute it) that
every form posts back. The login form, which has no token yet, is protected by a random value
in a cookie of its own that the form must repeat (double submit)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta

from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import Response

from issuer.store import utcnow
from issuer.tokens import Caller

__all__ = [
    "COOKIE",
    "LOGIN_COOKIE",
    "LOGIN_PATH",
    "SESSION_HOURS",
    "clear_session",
    "console_token",
    "csrf_for",
    "csrf_matches",
    "new_login_nonce",
    "set_login_nonce",
    "set_session",
]

COOKIE = "ecert_console"
LOGIN_COOKIE = "ecert_console_login"
LOGIN_PATH = "/console/login"
SESSION_HOURS = 8
_CSRF_CONTEXT = b"ecert-console-csrf-v1"


def console_token(headers: Headers) -> str | None:
    """The bearer token, else the console cookie's (what the request guard authorises)."""
    scheme, _, token = headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    for part in headers.get("cookie", "").split(";"):
        name, _, value = part.strip().partition("=")
        if name == COOKIE and value:
            return value
    return None


def csrf_for(token: str) -> str:
    return hmac.new(token.encode(), _CSRF_CONTEXT, hashlib.sha256).hexdigest()[:40]


def csrf_matches(token: str, sent: str) -> bool:
    return hmac.compare_digest(csrf_for(token), sent)


def _secure(request: Request) -> bool:
    return request.url.scheme == "https"


def set_session(response: Response, request: Request, token: str, who: Caller) -> None:
    """Put the token in the session cookie, for a working day or until the token expires."""
    until = utcnow() + timedelta(hours=SESSION_HOURS)
    if who.expires_at is not None:
        until = min(until, who.expires_at)
    response.set_cookie(
        COOKIE,
        token,
        max_age=max(int((until - utcnow()).total_seconds()), 1),
        path="/console",
        httponly=True,
        samesite="strict",
        secure=_secure(request),
    )
    response.delete_cookie(LOGIN_COOKIE, path=LOGIN_PATH)


def clear_session(response: Response) -> None:
    response.delete_cookie(COOKIE, path="/console", httponly=True, samesite="strict")


def new_login_nonce() -> str:
    return secrets.token_urlsafe(24)


def set_login_nonce(response: Response, request: Request, nonce: str) -> None:
    """The login form's double-submit cookie (the form repeats ``nonce``)."""
    response.set_cookie(
        LOGIN_COOKIE,
        nonce,
        max_age=3600,
        path=LOGIN_PATH,
        httponly=True,
        samesite="strict",
        secure=_secure(request),
    )
