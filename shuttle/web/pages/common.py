"""Rendering, redirects and who is signed in: shared by every page module."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.templating import Jinja2Templates

from shuttle.accounts.service import Principal
from shuttle.errors import NotAuthenticated
from shuttle.web.http import (
    current_principal,
    services,
)

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).parent.parent / "templates"))


def render(request: Request, name: str, status: int = 200, **context: Any) -> Response:
    svc = services(request)
    context.setdefault("principal", None)
    context.setdefault("quick_exit_url", svc.settings.quick_exit_url)
    return TEMPLATES.TemplateResponse(request, name, context, status_code=status)


def error_page(request: Request, status: int, message: str) -> Response:
    return render(request, "error.html", status=status, status_code=status, message=message)


def go(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


async def signed_in(request: Request) -> Principal:
    """The signed-in person; otherwise NotAuthenticated, which pages answer with the sign-in page."""
    principal = await current_principal(request)
    if principal is None:
        raise NotAuthenticated("Please sign in.")
    return principal
