"""E-mail digests, set by each person: /me/notifications (participants), /account/notifications
(facilitators). The page says exactly what the e-mail will and will not contain."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from shuttle.errors import BadInput, NotFound
from shuttle.i18n import N_
from shuttle.notifications import mail, staff_mail
from shuttle.notifications import service as notifications
from shuttle.web.http import read_form, run, services
from shuttle.web.pages.common import go, page_language, render, signed_in

#: Each role's page; anyone else's answer is "not found".
PAGE_OF = {"participant": "/me/notifications", "facilitator": "/account/notifications"}
DONE = {"saved": N_("Settings saved."), "removed": N_("Your address is removed. No more e-mails will be sent to it.")}


async def notifications_page(request: Request) -> Response:
    principal = await signed_in(request)
    if PAGE_OF.get(principal.role) != request.url.path:
        raise NotFound()
    if request.method == "GET":
        return await _render(request, principal, done=DONE.get(request.query_params.get("done", ""), ""))
    form = await read_form(request)
    csrf = form.get("csrf_token")
    if form.get("action") == "remove":
        await run(request, notifications.remove, csrf=csrf)
        return go(f"{request.url.path}?done=removed")
    address, wants = form.get("address", ""), form.get("wants") == "yes"
    try:
        await run(request, lambda s, svc, actor: notifications.save(s, svc, actor, address=address, wants=wants),
                  csrf=csrf)
    except BadInput as exc:  # the form again, the address kept, the field named
        return await _render(request, principal, status=400, error=exc.message, typed=address, wants=wants)
    return go(f"{request.url.path}?done=saved")


async def _render(request: Request, principal: Any, *, status: int = 200, done: str = "", error: str = "",
                  typed: str | None = None, wants: bool | None = None) -> Response:
    settings = services(request).settings
    view = await run(request, notifications.view, csrf=principal.csrf_token)
    subject, body = mail.participant_words(settings, page_language(request, principal))  # as the page reads
    return render(request, "notifications.html", status=status, principal=principal, n=view,
                  participant=principal.role == "participant", done=done, error=error,
                  address=view.address if typed is None else typed,
                  wants=view.wants if wants is None else wants,
                  subject=subject, body=body, staff_subject=staff_mail.STAFF_SUBJECT,
                  mail_from=settings.mail_from, action=request.url.path)


async def retry_digest_page(request: Request) -> Response:
    """The coordinator's "try again" on a digest e-mail that could not be sent."""
    principal = await signed_in(request)
    if principal.role != "coordinator":
        raise NotFound()
    form = await read_form(request)
    await run(request, notifications.retry_digest, request.path_params["job_id"], csrf=form.get("csrf_token"))
    return go("/coordinator#undelivered")


ROUTES = [
    Route("/coordinator/digests/{job_id}", retry_digest_page, methods=["POST"]),
    Route("/me/notifications", notifications_page, methods=["GET", "POST"]),
    Route("/account/notifications", notifications_page, methods=["GET", "POST"]),
]
