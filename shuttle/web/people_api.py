"""API routes for preparing a case (issue 10): adding people to a side, deactivating them,
consent forms (and a participant's own consents), assessments, court proceedings."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from shuttle.cases import participation
from shuttle.cases.views import case_view
from shuttle.errors import BadInput
from shuttle.i18n import N_
from shuttle.web import contract as c
from shuttle.web.contract import answer, read
from shuttle.web.http import read_body, run


async def _case(request: Request) -> dict[str, Any]:
    case_id = request.path_params["case_id"]
    return await run(request, lambda s, svc, actor: case_view(s, actor, case_id))


async def add_person(request: Request) -> Response:
    body = await read(request, c.AddPerson)
    participant = await run(request, participation.add_person, request.path_params["case_id"],
                            display_name=body.name, side=body.side, role=body.role, acting_for=body.acting_for,
                            username=body.username)
    view = await _case(request)
    return answer(c.PersonAdded, {"participant_id": participant.id, "case": view}, status=201)


async def deactivate(request: Request) -> Response:
    body = await read(request, c.Deactivate)
    p = request.path_params
    await run(request, participation.deactivate_participant, p["case_id"], p["participant_id"], reason=body.reason)
    return answer(c.CaseView, await _case(request))


async def participant_consents(request: Request) -> Response:
    """A participant's current consents (the case's facilitators)."""
    p = request.path_params
    found = await run(request, participation.participant_consents, p["case_id"], p["participant_id"])
    return answer(list[c.ConsentWords], [{**asdict(x), "words": x.words, "how": x.how} for x in found])


async def consent_scan(request: Request) -> Response:
    """A consent form with its scanned copy as the body (PDF, JPEG or PNG); the form's fields in the
    query (kind, granted, method, given_on, organisation_id), by default a signed form to take part, today."""
    p, q = request.path_params, request.query_params
    scan = await read_body(request, participation.MAX_SCAN_BYTES)
    if not scan:
        raise BadInput(N_("Send the scanned form as the request body."))
    given_on = c.day(q.get("given_on"), "given_on")
    await run(request, participation.record_consent_form, p["case_id"], p["participant_id"],
              kind=q.get("kind", "take_part"), granted=q.get("granted", "true").lower() in {"1", "true", "yes"},
              method=q.get("method", "signed_form"), given_on=given_on,
              organisation_id=q.get("organisation_id") or None, scan=scan)
    return answer(c.CaseView, await _case(request), status=201)


async def my_consents(request: Request) -> Response:
    found = await run(request, participation.my_consents)
    return answer(list[c.MyCaseConsents], [
        {"case_id": mine.case_id, "reference": mine.reference,
         "consents": [{**asdict(x), "words": x.words, "how": x.how} for x in mine.consents]} for mine in found])


async def withdraw_consent(request: Request) -> Response:
    body = await read(request, c.WithdrawConsent)
    await run(request, participation.withdraw_my_consent, request.path_params["case_id"],
              kind=body.kind, organisation_id=body.organisation_id)
    return answer(c.Withdrawn, {"withdrawn": True})


async def participant_assessments(request: Request) -> Response:
    """A participant's current judgements with their reasons (the case's facilitators)."""
    p = request.path_params
    found = await run(request, participation.participant_assessments, p["case_id"], p["participant_id"])
    return answer(list[c.AssessmentRow], [{**asdict(x.assessment), "reasons": x.reasons} for x in found])


async def proceedings(request: Request) -> Response:
    body = await read(request, c.Proceedings)
    await run(request, participation.set_proceedings, request.path_params["case_id"], body.ongoing,
              reason=body.reason)
    return answer(c.CaseView, await _case(request))


ROUTES = [
    Route("/cases/{case_id}/participants", add_person, methods=["POST"]),
    Route("/cases/{case_id}/participants/{participant_id}/deactivate", deactivate, methods=["POST"]),
    Route("/cases/{case_id}/participants/{participant_id}/consents", participant_consents),
    Route("/cases/{case_id}/participants/{participant_id}/consent-scans", consent_scan, methods=["POST"]),
    Route("/cases/{case_id}/participants/{participant_id}/assessments", participant_assessments),
    Route("/cases/{case_id}/proceedings", proceedings, methods=["POST"]),
    Route("/cases/{case_id}/consents/withdraw", withdraw_consent, methods=["POST"]),
    Route("/me/consents", my_consents),
]
