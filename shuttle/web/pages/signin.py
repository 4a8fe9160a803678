"""Signing in and out: password, second factor, invitation code, choosing a password."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import Response

from shuttle.accounts import service as accounts
from shuttle.accounts.service import IssuedSession
from shuttle.errors import BadInput, Forbidden, ShuttleError
from shuttle.i18n import N_
from shuttle.services import Services
from shuttle.web.cookies import clear_session_cookie, set_session_cookie
from shuttle.web.http import (
    PRE_COOKIE,
    SESSION_COOKIE,
    client_address,
    csrf_matches,
    current_principal,
    read_form,
    run,
    run_anonymous,
    services,
)
from shuttle.web.pages.common import go, render, signed_in


def _anon_form(request: Request, name: str, **context: Any) -> Response:
    token = request.cookies.get(PRE_COOKIE) or secrets.token_urlsafe(24)
    # Participants sign in here too (and only they use invitations): the quick exit is there from the start.
    response = render(request, name, csrf_token=token, participant=True, **context)
    response.set_cookie(PRE_COOKIE, token, httponly=True, samesite="strict", path="/")
    return response


async def _anon_post(request: Request) -> dict[str, str]:
    form = await read_form(request)
    if not csrf_matches(request.cookies.get(PRE_COOKIE, ""), form.get("csrf_token")):
        raise Forbidden(N_("The form has expired. Reload the page and try again."), code="csrf")
    return form


def _after_sign_in(request: Request, issued: IssuedSession) -> Response:
    target = {"totp": "/login/totp", "set_password": "/set-password"}.get(issued.stage, "/")
    response = go(target)
    set_session_cookie(response, services(request).settings, issued)
    return response


SignInStep = Callable[[Session, Services, dict[str, str]], IssuedSession]


async def _sign_in_step(request: Request, template: str, step: SignInStep, *, keep: tuple[str, ...] = (),
                        **context: Any) -> Response:
    """GET shows the form; POST runs one sign-in step, whose refusal shows the form again
    with its message (and the fields in `keep`, never a password)."""
    if request.method == "GET":
        return _anon_form(request, template, **context)
    form = await _anon_post(request)
    try:
        issued = await run_anonymous(request, lambda s, svc: step(s, svc, form))
    except ShuttleError as exc:
        return _anon_form(request, template, error=exc.message, **{name: form.get(name, "") for name in keep},
                          **context)
    return _after_sign_in(request, issued)


async def login_page(request: Request) -> Response:
    return await _sign_in_step(request, "login.html", lambda s, svc, form: accounts.login_password(
        s, svc.settings, username=form.get("username", ""), password=form.get("password", ""),
        client=client_address(request), user_agent=request.headers.get("user-agent", ""),
        passwords=svc.passwords, now=svc.now()), keep=("username",))


async def totp_page(request: Request) -> Response:
    token = request.cookies.get(SESSION_COOKIE, "")
    return await _sign_in_step(request, "totp.html", lambda s, svc, form: accounts.login_totp(
        s, svc.settings, token=token, code=form.get("code", "").strip(), client=client_address(request),
        now=svc.now()))


async def invite_page(request: Request) -> Response:
    return await _sign_in_step(request, "invite.html", lambda s, svc, form: accounts.redeem_invitation(
        s, svc.settings, code=form.get("code", ""), client=client_address(request), now=svc.now()))


def _choose_password(token: str) -> SignInStep:
    def step(s: Session, svc: Services, form: dict[str, str]) -> IssuedSession:
        if form.get("password") != form.get("confirm"):
            raise BadInput(N_("The two passwords are not the same."))
        return accounts.set_password(s, svc.settings, token=token, new_password=form.get("password", ""),
                                     passwords=svc.passwords, now=svc.now())

    return step


async def set_password_page(request: Request) -> Response:
    # How long the page stays open: the "set_password" session's lifetime, said in the page.
    return await _sign_in_step(request, "set_password.html", _choose_password(request.cookies.get(SESSION_COOKIE, "")),
                               minutes=accounts.PENDING_STAGE_SECONDS // 60)


async def logout_page(request: Request) -> Response:
    form = await read_form(request)
    token = request.cookies.get(SESSION_COOKIE, "")
    await run(request, lambda s, svc, actor: accounts.logout(s, svc.settings, token, now=svc.now()),
              csrf=form.get("csrf_token"))
    response = go("/login")
    clear_session_cookie(response)
    return response


async def home(request: Request) -> Response:
    principal = await current_principal(request)
    if principal is None:
        return go("/login")
    return go({"facilitator": "/staff", "participant": "/me", "coordinator": "/coordinator"}.get(principal.role,
                                                                                                "/account"))


async def account_page(request: Request) -> Response:
    principal = await signed_in(request)
    return render(request, "account.html", principal=principal)


