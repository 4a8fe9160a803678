"""The language choice on every page (issue 12): English or Cymraeg, remembered for the person.

Anyone's choice is kept in a cookie; a signed-in person's is also stored on their account, so it
follows them to any device. Choosing is a POST (a GET never writes); it goes back to the page the
choice was made on. `ChosenLanguage` sets the request's language from the cookie before any page
code runs, so sentences and dates built in Python are in it too; `render` then prefers the
account's choice and puts it back in the cookie when the two differ.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from shuttle import i18n
from shuttle.accounts.language import remember_language
from shuttle.errors import BadInput
from shuttle.web.http import current_principal, read_form, run, services

#: A year: a language choice is not a secret and outlives any session.
COOKIE_SECONDS = 365 * 24 * 3600


def set_language_cookie(response: Response, secure: bool, language: str) -> None:
    response.set_cookie(i18n.COOKIE, language, max_age=COOKIE_SECONDS, path="/", samesite="lax",
                        httponly=True, secure=secure)


def back_to(value: str | None) -> str:
    """The page to go back to: a path on this site only (never another site's address)."""
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return "/"


def cookie_language(cookie_header: str) -> str | None:
    for part in cookie_header.split(";"):
        name, _, value = part.strip().partition("=")
        if name == i18n.COOKIE:
            return i18n.known(value)
    return None


class ChosenLanguage:
    """Pure ASGI: every request is handled in the language its cookie names (else English)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        header = next((v.decode("latin-1") for k, v in scope.get("headers", ()) if k == b"cookie"), "")
        with i18n.using(cookie_language(header) or i18n.DEFAULT):
            await self.app(scope, receive, send)


async def choose_language(request: Request) -> Response:
    form = await read_form(request)
    language = i18n.known(form.get("language"))
    if language is None:
        raise BadInput(i18n.N_("Choose English or Cymraeg."))
    if await current_principal(request) is not None:
        await run(request, remember_language, language, csrf=form.get("csrf_token"))
    response = RedirectResponse(back_to(form.get("next")), status_code=303)
    set_language_cookie(response, services(request).settings.cookie_secure, language)
    return response


ROUTES = [Route("/language", choose_language, methods=["POST"])]
