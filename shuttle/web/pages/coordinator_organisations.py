"""The coordinator's list of partner organisations (police forces, probation, prisons, victim services):
the names consent-to-share forms offer. Add, rename, deactivate, reactivate."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from shuttle.errors import BadInput, Conflict, NotFound
from shuttle.i18n import N_
from shuttle.organisations import service as organisations
from shuttle.organisations.models import ORGANISATION_KINDS
from shuttle.services import Actor, Services
from shuttle.web.http import read_form, run
from shuttle.web.pages.common import go, render, signed_in


async def _coordinator(request: Request) -> Any:
    principal = await signed_in(request)
    if principal.role != "coordinator":
        raise NotFound()
    return principal


async def _render(request: Request, principal: Any, *, status: int = 200, form: dict[str, str] | None = None,
                  error: str = "", failed: str = "") -> Response:
    rows = await run(request, organisations.list_all, csrf=principal.csrf_token)
    return render(request, "coordinator/organisations.html", status=status, principal=principal,
                  organisations=rows, kinds=[(k, organisations.KIND_WORDS[k]) for k in ORGANISATION_KINDS],
                  form=form or {}, error=error, failed=failed)


async def organisations_page(request: Request) -> Response:
    principal = await _coordinator(request)
    if request.method == "GET":
        return await _render(request, principal)
    form = await read_form(request)
    fields = {"name": form.get("name", ""), "kind": form.get("kind", "")}
    try:
        await run(request, lambda s, svc, actor: organisations.add(s, svc, actor, **fields),
                  csrf=form.get("csrf_token"))
    except (BadInput, Conflict) as exc:  # the form again, with the name typed
        return await _render(request, principal, status=exc.status, form=fields, error=exc.message)
    return go("/coordinator/organisations")


def _change(form: dict[str, str]) -> Any:
    action = form.get("action", "")

    def act(s: Session, svc: Services, actor: Actor, organisation_id: str) -> Any:
        if action == "rename":
            return organisations.rename(s, svc, actor, organisation_id, name=form.get("name", ""))
        if action in ("deactivate", "reactivate"):
            return organisations.set_active(s, svc, actor, organisation_id, action == "reactivate")
        raise BadInput(N_("Unknown action."))

    return act


async def organisation_action(request: Request) -> Response:
    principal = await _coordinator(request)
    form = await read_form(request)
    organisation_id = request.path_params["organisation_id"]
    try:
        await run(request, _change(form), organisation_id, csrf=form.get("csrf_token"))
    except (BadInput, Conflict) as exc:
        return await _render(request, principal, status=exc.status, error=exc.message, failed=organisation_id)
    return go("/coordinator/organisations")


ROUTES = [
    Route("/coordinator/organisations", organisations_page, methods=["GET", "POST"]),
    Route("/coordinator/organisations/{organisation_id}", organisation_action, methods=["POST"]),
]
