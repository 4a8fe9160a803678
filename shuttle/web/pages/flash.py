"""Staff confirmations ("Approved.", "Note saved."): a cookie set by the POST that did something,
read and cleared by the next staff page, so the sentence is shown once, after the redirect.

The cookie holds the sentence and its HMAC keyed by the session token (HttpOnly): nobody else can
make a staff page say something. Nothing is written to the database by reading it (a GET never
writes). Templates show it with `staff/_flash.html`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from shuttle import i18n
from shuttle.web.http import SESSION_COOKIE, services
from shuttle.web.pages.common import go, render

FLASH_COOKIE = "shuttle_flash"
MAX_FLASH_CHARS = 600


def _mac(request: Request, text: str) -> str:
    key = request.cookies.get(SESSION_COOKIE, "").encode()
    return hmac.new(key, text.encode(), hashlib.sha256).hexdigest()


def _with_flash(request: Request, response: Response, text: str) -> Response:
    text = text[:MAX_FLASH_CHARS]
    value = base64.urlsafe_b64encode(text.encode()).decode() + "." + _mac(request, text)
    response.set_cookie(FLASH_COOKIE, value, httponly=True, samesite="lax", path="/staff",
                        secure=services(request).settings.cookie_secure)
    return response


def _waiting(request: Request) -> str | None:
    """The confirmation waiting for this page, if its signature holds."""
    raw = request.cookies.get(FLASH_COOKIE, "")
    encoded, _, mac = raw.partition(".")
    try:
        text = base64.urlsafe_b64decode(encoded.encode()).decode()
    except ValueError:
        return None
    return text if text and hmac.compare_digest(mac, _mac(request, text)) else None


def page(request: Request, name: str, status: int = 200, **context: Any) -> Response:
    """`render` with the waiting confirmation shown once: the cookie is cleared by this answer."""
    flash = _waiting(request) if request.method == "GET" else None
    response = render(request, name, status=status, flash=flash, **context)
    if FLASH_COOKIE in request.cookies:
        response.delete_cookie(FLASH_COOKIE, path="/staff", httponly=True, samesite="lax")
    return response


def done(request: Request, url: str, text: str) -> Response:
    """Go to `url`, which then says `text` once, in the reader's language: a marked sentence (N_, or an
    i18n.Sentence with its names) is translated now, in the language the cookie holds (every page sets
    it to the signed-in person's choice), so the next page shows it as it is."""
    with i18n.using(i18n.known(request.cookies.get(i18n.COOKIE)) or i18n.DEFAULT):
        said = i18n.translate(text)
    return _with_flash(request, go(url), said)
