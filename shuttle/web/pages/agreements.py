"""Pages for the end of a case (issue 11): the facilitators' agreement and closure page
(/staff/cases/{id}/agreement) and a participant's page about the agreement, the end of the
exchange and the questionnaire (/me/cases/{id}/agreement). Bad input shows the form again with
what was typed and the field named."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from shuttle.agreements import aftercare, rules, service, views
from shuttle.errors import BadInput, NotFound
from shuttle.i18n import N_, Sentence
from shuttle.services import Actor, Services
from shuttle.web.http import read_form, run, to_int
from shuttle.web.pages.common import go, render, signed_in

#: Blank rows offered below the items of the latest version when drafting a new one.
SPARE_ROWS = 2


def _day(raw: str, field: str, n: int) -> date | None:
    raw = raw.strip()
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise BadInput(Sentence(N_("Item %(n)s: the date it is due by is a date like 2027-03-14."), n=n),
                       details={"field": field}) from None


def typed_items(form: dict[str, str]) -> list[dict[str, str]]:
    """The item rows of the draft form as typed, blank rows left out (so row n is item n)."""
    rows = []
    for n in range(1, rules.MAX_ITEMS + SPARE_ROWS + 1):
        row = {name: form.get(f"item-{n}-{name}", "") for name in ("what", "owner", "due", "check")}
        if any(row[name].strip() for name in ("what", "due", "check")):
            rows.append(row)
    return rows


def items_from(rows: list[dict[str, str]]) -> list[rules.Item]:
    return [rules.Item(row["what"], row["owner"], _day(row["due"], f"item-{n}-due", n),
                       row["check"]) for n, row in enumerate(rows, start=1)]


def _draft_rows(page: views.StaffAgreementPage, typed: list[dict[str, str]] | None) -> list[dict[str, str]]:
    """The draft form's rows: what was typed, else the latest version's items; then blank rows."""
    if typed is None:
        latest = page.versions[0].items if page.versions else ()
        typed = [{"what": i.what, "owner": i.owner, "due": i.due_on.isoformat() if i.due_on else "",
                  "check": i.check} for i in latest]
    blank = {"what": "", "owner": "", "due": "", "check": ""}
    return [*typed, *[dict(blank) for _ in range(max(0, min(SPARE_ROWS, rules.MAX_ITEMS - len(typed))))]]


# --- the facilitators' page ----------------------------------------------------------------------


def _staff_action(form: dict[str, str]) -> Callable[..., Any]:
    what = form.get("action", "")
    if what == "draft":
        items = items_from(typed_items(form))
        return lambda s, svc, actor, case_id: service.draft_version(s, svc, actor, case_id, items)
    if what == "mark":
        return lambda s, svc, actor, case_id: service.mark_item(
            s, svc, actor, case_id, form.get("item_id", ""), status=form.get("status", ""), note=form.get("note", ""))
    if what == "close":
        if form.get("confirm") != "yes":
            raise BadInput(N_("Closing a case cannot be undone: tick the box to confirm, then close it."),
                           details={"field": "confirm-close"})
        return lambda s, svc, actor, case_id: service.close_case(
            s, svc, actor, case_id, reason=form.get("reason", ""), expected_version=to_int(form.get("version", "")))
    if what == "finish":
        if form.get("confirm") != "yes":
            raise BadInput(N_("Tick the box to confirm that the case is finished, then finish it."),
                           details={"field": "confirm-finish"})
        return lambda s, svc, actor, case_id: service.finish_case(s, svc, actor, case_id,
                                                                  reason=form.get("reason", ""))
    if what == "checkin":
        return lambda s, svc, actor, case_id: aftercare.record_checkin(
            s, svc, actor, case_id, form.get("checkin_id", ""), wellbeing=form.get("wellbeing", ""),
            got_what_wanted=form.get("got_what_wanted", ""))
    if what == "share":
        return lambda s, svc, actor, case_id: aftercare.share_support(
            s, svc, actor, case_id, form.get("participant_id", ""), form.get("service_id", ""))
    raise BadInput(N_("Unknown action."))


def _field_of(error: BadInput, form: dict[str, str]) -> str:
    field = str(error.details.get("field", ""))
    if form.get("action") == "mark" and field in {"note", "status"}:
        return f"{field}-{form.get('item_id', '')}"
    if form.get("action") in {"close", "finish"} and field == "reason":
        return f"reason-{form['action']}"
    if form.get("action") == "checkin" and field:
        return f"{field}-{form.get('checkin_id', '')}"
    if form.get("action") == "share" and field:
        return f"{field}-{form.get('participant_id', '')}"
    return field


async def staff_agreement_page(request: Request) -> Response:
    principal = await signed_in(request)
    case_id = request.path_params["case_id"]
    if request.method == "GET":
        page = await run(request, views.staff_page, case_id)
        return render(request, "agreements/staff.html", principal=principal, page=page,
                      rows=_draft_rows(page, None), form={}, done=request.query_params.get("done", ""))
    form = await read_form(request)
    try:
        act = _staff_action(form)
        await run(request, act, case_id, csrf=form.get("csrf_token"))
    except BadInput as exc:
        page = await run(request, views.staff_page, case_id, csrf=form.get("csrf_token"))
        typed = typed_items(form) if form.get("action") == "draft" else None
        return render(request, "agreements/staff.html", status=400, principal=principal, page=page,
                      rows=_draft_rows(page, typed), form=form, error=exc.message,
                      error_field=_field_of(exc, form), done="")
    done = {"draft": "drafted", "mark": "marked", "close": "closing", "finish": "closed", "checkin": "checked-in",
            "share": "shared"}[form["action"]]
    return go(f"/staff/cases/{case_id}/agreement?done={done}")


# --- a participant's page ------------------------------------------------------------------------


def _satisfied(raw: str) -> int | None:
    if not raw:
        return None
    value = to_int(raw)
    if not isinstance(value, int):
        raise BadInput(N_("How satisfied you are is a number from 1 to 5."), details={"field": "satisfied"})
    return int(value)


def _participant_action(form: dict[str, str]) -> Callable[..., Any]:
    what = form.get("action", "")
    if what == "answer":
        version = to_int(form.get("version", ""))
        if not isinstance(version, int):
            raise BadInput(N_("Reload the page and answer again."))
        return lambda s, svc, actor, case_id: service.answer(
            s, svc, actor, case_id, version=version, decision=form.get("decision", ""), note=form.get("note", ""))
    if what == "feedback":
        if form.get("choice") == "decline":
            return lambda s, svc, actor, case_id: service.give_feedback(s, svc, actor, case_id, None)
        answers = rules.Answers(_satisfied(form.get("satisfied", "")),
                                {"yes": True, "no": False}.get(form.get("recommend", "")), form.get("comment", ""))
        return lambda s, svc, actor, case_id: service.give_feedback(s, svc, actor, case_id, answers)
    raise BadInput(N_("Unknown action."))


def _my_page(s: Session, svc: Services, actor: Actor, case_id: str) -> views.ParticipantAgreementPage:
    return views.participant_page(s, svc, actor, case_id)


async def my_agreement_page(request: Request) -> Response:
    principal = await signed_in(request)
    case_id = request.path_params["case_id"]
    if request.method == "GET":
        page = await run(request, _my_page, case_id)
        return render(request, "agreements/me.html", principal=principal, page=page, participant=True, form={},
                      done=request.query_params.get("done", ""))
    form = await read_form(request)
    try:
        act = _participant_action(form)
        await run(request, act, case_id, csrf=form.get("csrf_token"))
    except BadInput as exc:
        page = await run(request, _my_page, case_id, csrf=form.get("csrf_token"))
        return render(request, "agreements/me.html", status=400, principal=principal, page=page, participant=True,
                      form=form, error=exc.message, error_field=str(exc.details.get("field", "")), done="")
    done = "answered" if form.get("action") == "answer" else "feedback"
    return go(f"/me/cases/{case_id}/agreement?done={done}")


# --- the coordinator's signposting directory ------------------------------------------------------


async def _coordinator(request: Request) -> Any:
    principal = await signed_in(request)
    if principal.role != "coordinator":
        raise NotFound()
    return principal


async def _directory_page(request: Request, principal: Any, *, status: int = 200, form: dict[str, str] | None = None,
                          error: str = "", error_field: str = "") -> Response:
    entries = await run(request, aftercare.directory, csrf=principal.csrf_token)
    return render(request, "agreements/directory.html", status=status, principal=principal, entries=entries,
                  form=form or {}, error=error, error_field=error_field)


async def directory_page(request: Request) -> Response:
    principal = await _coordinator(request)
    if request.method == "GET":
        return await _directory_page(request, principal)
    form = await read_form(request)
    fields = {name: form.get(name, "") for name in ("name", "helps_with", "how_to_reach")}
    try:
        await run(request, lambda s, svc, actor: aftercare.add_support_service(s, svc, actor, **fields),
                  csrf=form.get("csrf_token"))
    except BadInput as exc:  # the form again, with what was typed
        return await _directory_page(request, principal, status=400, form=fields, error=exc.message,
                                     error_field=str(exc.details.get("field", "")))
    return go("/coordinator/support-services")


async def directory_entry(request: Request) -> Response:
    await _coordinator(request)
    form = await read_form(request)
    action = form.get("action", "")
    if action not in ("deactivate", "reactivate"):
        raise BadInput(N_("Unknown action."))
    await run(request, aftercare.set_support_active, request.path_params["service_id"], action == "reactivate",
              csrf=form.get("csrf_token"))
    return go("/coordinator/support-services")


ROUTES = [
    Route("/staff/cases/{case_id}/agreement", staff_agreement_page, methods=["GET", "POST"]),
    Route("/me/cases/{case_id}/agreement", my_agreement_page, methods=["GET", "POST"]),
    Route("/coordinator/support-services", directory_page, methods=["GET", "POST"]),
    Route("/coordinator/support-services/{service_id}", directory_entry, methods=["POST"]),
]
