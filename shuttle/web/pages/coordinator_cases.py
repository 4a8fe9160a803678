"""The coordinator's cases: the list with its filters, and one case's staffing (replace, add or remove a
facilitator, record a conflict of interest). No message content is shown anywhere here."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from shuttle.cases import assignment
from shuttle.cases.overview import CaseFilters, case_list, case_staffing
from shuttle.errors import BadInput, Conflict, NotFound
from shuttle.i18n import N_
from shuttle.services import Actor, Services
from shuttle.web.http import id_or_missing, read_form, run
from shuttle.web.pages.common import go, render, signed_in


async def _coordinator(request: Request) -> Any:
    principal = await signed_in(request)
    if principal.role != "coordinator":
        raise NotFound()
    return principal


def filters_from(query: Any) -> CaseFilters:
    """The list's filters from the address (?status=open&facilitator=<id>&overdue=yes)."""
    facilitator = query.get("facilitator", "")
    return CaseFilters(status=query.get("status", ""),
                       facilitator=id_or_missing(facilitator) if facilitator else "",
                       overdue=query.get("overdue", "") in {"yes", "1", "true", "on"})


async def cases_page(request: Request) -> Response:
    principal = await _coordinator(request)
    filters = filters_from(request.query_params)
    try:
        listing = await run(request, case_list, filters)
        error = ""
    except BadInput as exc:  # a filter that names nothing: the whole list, and why
        listing, error = await run(request, case_list, CaseFilters()), exc.message
    return render(request, "coordinator/cases.html", status=400 if error else 200, principal=principal,
                  listing=listing, error=error)


def _form_action(form: dict[str, str]) -> Any:
    """The use case a case page's form asks for, with its fields."""
    action = form.get("action", "")
    account = id_or_missing(form.get("account_id") or None)

    def replace(s: Session, svc: Services, actor: Actor, case_id: str) -> Any:
        return assignment.replace_facilitator(s, svc, actor, case_id, leaving=account,
                                              joining=id_or_missing(form.get("joining") or None),
                                              reason=form.get("reason", ""))

    actions = {
        "replace": replace,
        "add": lambda s, svc, actor, case_id: assignment.add_facilitator(s, svc, actor, case_id, account),
        "remove": lambda s, svc, actor, case_id: assignment.remove_facilitator(s, svc, actor, case_id, account),
        "conflict": lambda s, svc, actor, case_id: assignment.record_conflict(s, svc, actor, case_id, account),
    }
    if action not in actions:
        raise BadInput(N_("Unknown action."))
    if action == "replace" and not form.get("joining"):
        raise BadInput(N_("Choose who takes over."), code="joining")
    if not form.get("account_id"):
        raise BadInput(N_("Choose a facilitator."), code="account_id")
    return actions[action]


async def case_page(request: Request) -> Response:
    principal = await _coordinator(request)
    case_id = request.path_params["case_id"]
    error = ""
    status = 200
    if request.method == "POST":
        form = await read_form(request)
        try:
            await run(request, _form_action(form), case_id, csrf=form.get("csrf_token"))
            return go(f"/coordinator/cases/{case_id}")
        except (BadInput, Conflict) as exc:  # the page again, saying why nothing changed
            error, status = exc.message, exc.status
    staffing = await run(request, case_staffing, case_id, csrf=principal.csrf_token)
    return render(request, "coordinator/case.html", status=status, principal=principal, staffing=staffing,
                  error=error)


async def own_conflict_page(request: Request) -> Response:
    """POST from a facilitator's case page: they know someone in the case."""
    principal = await signed_in(request)
    form = await read_form(request)
    case_id = request.path_params["case_id"]
    if form.get("confirm") != "yes":
        raise BadInput(N_("Tick the box to say you know someone in this case, then record it."))
    new, reference = await run(request, assignment.own_conflict_recorded, case_id, csrf=form.get("csrf_token"))
    # Answered here (recording twice changes nothing), so the page can say what happened.
    return render(request, "staff/conflict_recorded.html", principal=principal, case_id=case_id,
                  reference=reference, new=new)


ROUTES = [
    Route("/coordinator/cases", cases_page),
    Route("/coordinator/cases/{case_id}", case_page, methods=["GET", "POST"]),
    Route("/staff/cases/{case_id}/conflict", own_conflict_page, methods=["POST"]),
]
