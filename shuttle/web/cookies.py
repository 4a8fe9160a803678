"""The session cookie: HttpOnly, SameSite=Lax, Secure whenever the public URL is https."""

from __future__ import annotations

from starlette.responses import Response

from shuttle.accounts.service import IssuedSession
from shuttle.config import Settings
from shuttle.web.http import SESSION_COOKIE


def set_session_cookie(response: Response, settings: Settings, issued: IssuedSession) -> None:
    response.set_cookie(SESSION_COOKIE, issued.token, httponly=True, samesite="lax",
                        secure=settings.cookie_secure, path="/",
                        max_age=settings.limits.session_absolute_seconds)


def clear_session_cookie(response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="lax")
