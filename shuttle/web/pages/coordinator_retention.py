"""The coordinator's retention page: what the periodic tick will destroy in the next 30 days (case
reference, closed date, destroy date; never content), legal holds placed (with a reason) and lifted."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from shuttle.errors import BadInput, Conflict, NotFound
from shuttle.i18n import N_, Sentence
from shuttle.retention_policy import lift_hold, place_hold, retention_view
from shuttle.services import Actor, Services
from shuttle.web.http import read_form, run
from shuttle.web.pages.common import go, render, signed_in

PAGE = "/coordinator/retention"


async def _coordinator(request: Request) -> Any:
    principal = await signed_in(request)
    if principal.role != "coordinator":
        raise NotFound()
    return principal


async def _render(request: Request, principal: Any, *, status: int = 200, form: dict[str, str] | None = None,
                  error: str = "", done: str = "") -> Response:
    view = await run(request, lambda s, svc, actor: retention_view(s, svc, actor), csrf=principal.csrf_token)
    return render(request, "coordinator/retention.html", status=status, principal=principal, view=view,
                  form=form or {}, error=error, done=done)


def _change(form: dict[str, str]) -> Any:
    action, reference = form.get("action", ""), form.get("reference", "")

    def act(s: Session, svc: Services, actor: Actor) -> Any:
        if action == "hold":
            return place_hold(s, svc, actor, reference, form.get("reason", ""))
        if action == "lift":
            return lift_hold(s, svc, actor, reference)
        raise BadInput(N_("Choose to place a legal hold or to lift one."))

    return act


async def retention_page(request: Request) -> Response:
    principal = await _coordinator(request)
    if request.method == "GET":
        return await _render(request, principal, done=request.query_params.get("done", ""))
    form = await read_form(request)
    fields = {"action": form.get("action", ""), "reference": form.get("reference", "").strip(),
              "reason": form.get("reason", "")}
    try:
        await run(request, _change(fields), csrf=form.get("csrf_token"))
    except (BadInput, Conflict) as exc:
        return await _render(request, principal, status=exc.status, form=fields, error=exc.message)
    except NotFound:  # a reference that names no case: said on the form, like a mistyped one
        return await _render(request, principal, status=404, form=fields,
                             error=Sentence(N_("There is no case %(reference)s."), reference=fields["reference"]))
    return go(f"{PAGE}?done={'hold-placed' if fields['action'] == 'hold' else 'hold-lifted'}")


ROUTES = [Route(PAGE, retention_page, methods=["GET", "POST"])]
