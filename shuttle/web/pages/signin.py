"""Signing in and out: password, second factor, invitation code, choosing a password."""

from __future__ import annotations

import secrets
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from shuttle.accounts import service as accounts
from shuttle.accounts.service import IssuedSession
from shuttle.errors import Forbidden, ShuttleError
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
        raise Forbidden("The form has expired. Reload the page and try again.", code="csrf")
    return form


def _after_sign_in(request: Request, issued: IssuedSession) -> Response:
    target = {"totp": "/login/totp", "set_password": "/set-password"}.get(issued.stage, "/")
    response = go(target)
    set_session_cookie(response, services(request).settings, issued)
    return response


async def login_page(request: Request) -> Response:
    if request.method == "GET":
        return _anon_form(request, "login.html")
    form = await _anon_post(request)
    try:
        issued = await run_anonymous(request, lambda s, svc: accounts.login_password(
            s, svc.settings, username=form.get("username", ""), password=form.get("password", ""),
            client=client_address(request), user_agent=request.headers.get("user-agent", ""),
            passwords=svc.passwords, now=svc.now()))
    except ShuttleError as exc:
        return _anon_form(request, "login.html", error=exc.message, username=form.get("username", ""))
    return _after_sign_in(request, issued)


async def totp_page(request: Request) -> Response:
    if request.method == "GET":
        return _anon_form(request, "totp.html")
    form = await _anon_post(request)
    token = request.cookies.get(SESSION_COOKIE, "")
    try:
        issued = await run_anonymous(request, lambda s, svc: accounts.login_totp(
            s, svc.settings, token=token, code=form.get("code", "").strip(), client=client_address(request),
            now=svc.now()))
    except ShuttleError as exc:
        return _anon_form(request, "totp.html", error=exc.message)
    return _after_sign_in(request, issued)


async def invite_page(request: Request) -> Response:
    if request.method == "GET":
        return _anon_form(request, "invite.html")
    form = await _anon_post(request)
    try:
        issued = await run_anonymous(request, lambda s, svc: accounts.redeem_invitation(
            s, svc.settings, code=form.get("code", ""), client=client_address(request), now=svc.now()))
    except ShuttleError as exc:
        return _anon_form(request, "invite.html", error=exc.message)
    return _after_sign_in(request, issued)


async def set_password_page(request: Request) -> Response:
    if request.method == "GET":
        return _anon_form(request, "set_password.html")
    form = await _anon_post(request)
    if form.get("password") != form.get("confirm"):
        return _anon_form(request, "set_password.html", error="The two passwords are not the same.")
    token = request.cookies.get(SESSION_COOKIE, "")
    try:
        issued = await run_anonymous(request, lambda s, svc: accounts.set_password(
            s, svc.settings, token=token, new_password=form.get("password", ""), passwords=svc.passwords,
            now=svc.now()))
    except ShuttleError as exc:
        return _anon_form(request, "set_password.html", error=exc.message)
    return _after_sign_in(request, issued)


async def logout_page(request: Request) -> Response:
    form = await read_form(request)
    token = request.cookies.get(SESSION_COOKIE, "")
    await run(request, lambda s, svc, actor: accounts.logout(s, svc.settings, token), csrf=form.get("csrf_token"))
    response = go("/login")
    clear_session_cookie(response)
    return response


async def home(request: Request) -> Response:
    principal = await current_principal(request)
    if principal is None:
        return go("/login")
    return go({"facilitator": "/staff", "participant": "/me"}.get(principal.role, "/account"))


async def account_page(request: Request) -> Response:
    principal = await signed_in(request)
    return render(request, "account.html", principal=principal)


