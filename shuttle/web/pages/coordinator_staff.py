"""The coordinator's staff pages, and the enrolment link's page where a new staff member joins.

A new enrolment link is shown once, in the answer to the POST that made it (never stored, never in
a redirect's URL); every other form redirects back to the list.
"""

from __future__ import annotations

import secrets
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from shuttle.accounts import enrolment
from shuttle.accounts.enrolment import IssuedEnrolment
from shuttle.errors import BadInput, Conflict, Forbidden, NotFound
from shuttle.i18n import N_
from shuttle.services import Services
from shuttle.web.cookies import set_session_cookie
from shuttle.web.http import PRE_COOKIE, csrf_matches, read_form, run, run_anonymous, services
from shuttle.web.pages.common import go, render, signed_in

STAFF_ACTIONS = {
    "deactivate": enrolment.deactivate_staff,
    "reactivate": enrolment.reactivate_staff,
    "reset": enrolment.reset_second_factor,
    "link": enrolment.new_link,
}


async def _coordinator_page(request: Request) -> Any:
    principal = await signed_in(request)
    if principal.role != "coordinator":
        raise NotFound()
    return principal


async def _render_list(request: Request, principal: Any, *, status: int = 200, **context: Any) -> Response:
    rows = await run(request, enrolment.staff_list, csrf=principal.csrf_token)
    return render(request, "coordinator/staff.html", status=status, principal=principal, section="staff",
                  staff=rows, roles=enrolment.CREATABLE_ROLES, **context)


async def staff_page(request: Request) -> Response:
    """GET: the list and the form to add someone. POST: add them, and show their link once."""
    principal = await _coordinator_page(request)
    if request.method == "GET":
        return await _render_list(request, principal, form={})
    form = await read_form(request)
    fields = {name: form.get(name, "") for name in ("username", "display_name", "role")}
    try:
        issued = await run(request, lambda s, svc, actor: enrolment.create_staff(s, svc, actor, **fields),
                           csrf=form.get("csrf_token"))
    except (BadInput, Conflict) as exc:  # the form again, with what was typed and why
        return await _render_list(request, principal, status=exc.status, form=fields, error=exc.message)
    return await _render_list(request, principal, form={}, issued=issued)


async def staff_member_action(request: Request) -> Response:
    """POST: deactivate, reactivate, reset the second factor, or a new link for someone not yet enrolled."""
    principal = await _coordinator_page(request)
    form = await read_form(request)
    action = STAFF_ACTIONS.get(form.get("action", ""))
    if action is None:
        raise BadInput(N_("Unknown action."))
    done = await run(request, action, request.path_params["account_id"], csrf=form.get("csrf_token"))
    if isinstance(done, IssuedEnrolment):
        return await _render_list(request, principal, form={}, issued=done)
    return go("/coordinator/staff")


# --- the enrolment link (no session: the link is the credential) -------------------------------------


def _page(s: Any, svc: Services, token: str) -> enrolment.EnrolmentPage:
    return enrolment.enrolment_page(s, svc.settings, token, now=svc.now())


async def _enrol_form(request: Request, token: str, *, status: int = 200, error: str = "") -> Response:
    page = await run_anonymous(request, _page, token)
    csrf = request.cookies.get(PRE_COOKIE) or secrets.token_urlsafe(24)
    response = render(request, "enrol.html", status=status, page=page, csrf_token=csrf, error=error,
                      token=token, min_length=services(request).passwords.min_length)
    response.set_cookie(PRE_COOKIE, csrf, httponly=True, samesite="strict", path="/")
    return response


async def enrol_page(request: Request) -> Response:
    """GET shows the QR code and the secret; POST takes the password and a code, then signs them in."""
    token = request.path_params["token"]
    if request.method == "GET":
        return await _enrol_form(request, token)
    form = await read_form(request)
    if not csrf_matches(request.cookies.get(PRE_COOKIE, ""), form.get("csrf_token")):
        raise Forbidden(N_("The form has expired. Reload the page and try again."), code="csrf")

    def complete(s: Any, svc: Services) -> Any:
        if form.get("password", "") != form.get("confirm", ""):
            raise BadInput(N_("The two passwords are not the same."))
        return enrolment.complete_enrolment(s, svc.settings, token=token, password=form.get("password", ""),
                                            code=form.get("code", ""),
                                            user_agent=request.headers.get("user-agent", ""),
                                            passwords=svc.passwords, now=svc.now())

    try:
        issued = await run_anonymous(request, complete)
    except BadInput as exc:
        return await _enrol_form(request, token, status=400, error=exc.message)
    response = go("/")
    set_session_cookie(response, services(request).settings, issued)
    return response


ROUTES = [
    Route("/coordinator/staff", staff_page, methods=["GET", "POST"]),
    Route("/coordinator/staff/{account_id}", staff_member_action, methods=["POST"]),
    Route("/enrol/{token}", enrol_page, methods=["GET", "POST"]),
]
