"""API routes for preparing a case (issue 10): adding people to a side, deactivating them,
consent forms (and a participant's own consents), assessments, court proceedings."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from shuttle.cases import participation
from shuttle.cases.views import case_view
from shuttle.errors import BadInput
from shuttle.web.http import field, read_body, read_json, run


def _json(value: Any) -> Any:
    """Dataclass views as JSON: dates and times in ISO 8601."""
    if isinstance(value, list | tuple):
        return [_json(v) for v in value]
    if isinstance(value, dict):
        return {k: _json(v) for k, v in value.items()}
    if hasattr(value, "__dataclass_fields__"):
        return _json(asdict(value))
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def ok(data: Any, status: int = 200) -> JSONResponse:
    return JSONResponse(_json(data), status_code=status)


def day(data: dict[str, Any], name: str) -> date | None:
    """An optional date field like 2026-03-14."""
    raw = field(data, name, str, required=False)
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise BadInput(f"'{name}' is a date like 2026-03-14.") from None


async def _case(request: Request) -> dict[str, Any]:
    case_id = request.path_params["case_id"]
    return await run(request, lambda s, svc, actor: case_view(s, actor, case_id))


async def add_person(request: Request) -> Response:
    data = await read_json(request)
    participant = await run(request, participation.add_person, request.path_params["case_id"],
                            display_name=field(data, "name", str), side=field(data, "side", str),
                            role=field(data, "role", str, default="principal"),
                            acting_for=field(data, "acting_for", str, default=""),
                            username=field(data, "username", str, default=""))
    view = await _case(request)
    return ok({"participant_id": participant.id, "case": view}, status=201)


async def deactivate(request: Request) -> Response:
    data = await read_json(request)
    p = request.path_params
    await run(request, participation.deactivate_participant, p["case_id"], p["participant_id"],
              reason=field(data, "reason", str, default=""))
    return ok(await _case(request))


async def participant_consents(request: Request) -> Response:
    """A participant's current consents (the case's facilitators)."""
    p = request.path_params
    found = await run(request, participation.participant_consents, p["case_id"], p["participant_id"])
    return ok([{**asdict(c), "words": c.words, "how": c.how} for c in found])


async def consent_scan(request: Request) -> Response:
    """A consent form with its scanned copy as the body (PDF, JPEG or PNG); the form's fields in the
    query (kind, granted, method, given_on, organisation_id), by default a signed form to take part, today."""
    p, q = request.path_params, request.query_params
    scan = await read_body(request, participation.MAX_SCAN_BYTES)
    if not scan:
        raise BadInput("Send the scanned form as the request body.")
    given_on = day(dict(q), "given_on")
    await run(request, participation.record_consent_form, p["case_id"], p["participant_id"],
              kind=q.get("kind", "take_part"), granted=q.get("granted", "true").lower() in {"1", "true", "yes"},
              method=q.get("method", "signed_form"), given_on=given_on,
              organisation_id=q.get("organisation_id") or None, scan=scan)
    return ok(await _case(request), status=201)


async def my_consents(request: Request) -> Response:
    found = await run(request, participation.my_consents)
    return ok([{"case_id": c.case_id, "reference": c.reference,
                "consents": [{**asdict(x), "words": x.words, "how": x.how} for x in c.consents]} for c in found])


async def withdraw_consent(request: Request) -> Response:
    data = await read_json(request)
    await run(request, participation.withdraw_my_consent, request.path_params["case_id"],
              kind=field(data, "kind", str), organisation_id=field(data, "organisation_id", str, required=False))
    return ok({"withdrawn": True})


async def participant_assessments(request: Request) -> Response:
    """A participant's current judgements with their reasons (the case's facilitators)."""
    p = request.path_params
    found = await run(request, participation.participant_assessments, p["case_id"], p["participant_id"])
    return ok([{**asdict(x.assessment), "reasons": x.reasons} for x in found])


async def proceedings(request: Request) -> Response:
    data = await read_json(request)
    await run(request, participation.set_proceedings, request.path_params["case_id"],
              field(data, "ongoing", bool), reason=field(data, "reason", str, default=""))
    return ok(await _case(request))


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
