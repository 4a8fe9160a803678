"""Pages for preparing a case (issue 10): the forms of the case page's people, consent forms,
assessments and court proceedings (forms post to /staff/cases/{id}/people; what the case page
shows of them is `cases.workspace.CasePreparation`), and a participant's own consents
(/me/consents), which they can withdraw at any time."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Callable
from datetime import date
from typing import Any

from starlette.formparsers import MultiPartException, MultiPartParser
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from shuttle.cases import participation
from shuttle.cases import service as cases
from shuttle.errors import BadInput
from shuttle.i18n import N_
from shuttle.web.http import read_body, read_form, run
from shuttle.web.pages.common import go, render, signed_in

OUTCOME_WORDS = {"eligible": "eligible", "not_eligible": "not eligible", "suitable": "suitable",
                 "not_suitable": "not suitable", "low": "low", "medium": "medium", "high": "high"}
#: A form with a scanned consent form: the scan and a few short fields.
MAX_FORM_BYTES = participation.MAX_SCAN_BYTES + 64 * 1024


# --- the facilitator's forms ---------------------------------------------------------------------


def _day(form: dict[str, Any], name: str, refusal: str) -> date | None:
    raw = str(form.get(name) or "").strip()
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise BadInput(refusal) from None


async def _multipart(request: Request) -> tuple[dict[str, str], bytes | None]:
    """The form's fields and the scanned file (if one was chosen), refused over the size limit."""
    body = await read_body(request, MAX_FORM_BYTES)

    async def stream() -> AsyncGenerator[bytes, None]:
        yield body

    try:
        parsed = await MultiPartParser(request.headers, stream(), max_files=1, max_fields=20,
                                       max_part_size=64 * 1024).parse()
    except MultiPartException as exc:
        raise BadInput(f"The form could not be read: {exc.message}") from None
    fields: dict[str, str] = {}
    scan = None
    try:
        for name, value in parsed.multi_items():
            if isinstance(value, str):
                if "\x00" in value:
                    raise BadInput(N_("The form contains a NUL character, which no field accepts."))
                fields[name] = value
            elif name == "scan":
                scan = await value.read() or None
    finally:
        await parsed.close()
    return fields, scan


async def _read(request: Request) -> tuple[dict[str, str], bytes | None]:
    if request.headers.get("content-type", "").startswith("multipart/form-data"):
        return await _multipart(request)
    return await read_form(request), None


def _action(form: dict[str, str], scan: bytes | None) -> Callable[..., Any]:
    what = form.get("action", "")
    pid = form.get("participant_id", "")
    if what == "add-person":
        return lambda s, svc, actor, case_id: participation.add_person(
            s, svc, actor, case_id, display_name=form.get("name", ""), side=form.get("side", ""),
            role=form.get("role", "principal"), acting_for=form.get("acting_for", ""))
    if what == "label":
        return lambda s, svc, actor, case_id: participation.set_label(
            s, svc, actor, case_id, form.get("side", ""), form.get("label", ""))
    if what == "deactivate":
        if form.get("confirm") != "yes":
            raise BadInput(N_("Tick the box to confirm that this person no longer takes part, then deactivate them."))
        return lambda s, svc, actor, case_id: participation.deactivate_participant(
            s, svc, actor, case_id, pid, reason=form.get("reason", ""))
    if what == "consent":
        given_on = _day(form, "given_on", N_("The date it was given is a date like 2026-03-14."))
        return lambda s, svc, actor, case_id: participation.record_consent_form(
            s, svc, actor, case_id, pid, kind=form.get("kind", ""), granted=form.get("granted") != "no",
            method=form.get("method", ""), given_on=given_on, organisation_id=form.get("organisation_id") or None,
            scan=scan, note=form.get("note", ""))
    if what == "assessment":
        review_by = _day(form, "review_by", N_("The review-by date is a date like 2026-03-14."))
        return lambda s, svc, actor, case_id: cases.record_assessment(
            s, svc, actor, case_id, pid, kind=form.get("kind", ""), outcome=form.get("outcome", ""),
            reasons=form.get("reasons", ""), review_by=review_by)
    if what == "proceedings":
        return lambda s, svc, actor, case_id: participation.set_proceedings(
            s, svc, actor, case_id, form.get("ongoing") == "yes", reason=form.get("reason", ""))
    raise BadInput(N_("Unknown action."))


async def people_post(request: Request) -> Response:
    """One preparation form of the case page; back to the case page's people."""
    await signed_in(request)
    case_id = request.path_params["case_id"]
    form, scan = await _read(request)
    await run(request, _action(form, scan), case_id, csrf=form.get("csrf_token"))
    return go(f"/staff/cases/{case_id}#people-heading")


# --- the participant's consents --------------------------------------------------------------


async def my_consents_page(request: Request) -> Response:
    principal = await signed_in(request)
    if request.method == "POST":
        form = await read_form(request)
        await run(request, participation.withdraw_my_consent, form.get("case_id", ""), kind=form.get("kind", ""),
                  organisation_id=form.get("organisation_id") or None, csrf=form.get("csrf_token"))
        return go("/me/consents?done=withdrawn")
    found = await run(request, participation.my_consents)
    return render(request, "me/consents.html", principal=principal, cases=found, participant=True,
                  withdrawn=request.query_params.get("done") == "withdrawn")


ROUTES = [
    Route("/staff/cases/{case_id}/people", people_post, methods=["POST"]),
    Route("/me/consents", my_consents_page, methods=["GET", "POST"]),
]
