"""Referrals in the JSON API: anyone may send one (rate-limited per address, like the public
form); the coordinator lists them, reads one, records contact attempts, declines or accepts."""

from __future__ import annotations

from datetime import UTC, datetime

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from shuttle.errors import BadInput
from shuttle.referrals import service, views
from shuttle.web.http import client_address, field, read_json, run, run_anonymous


def _time(raw: str | None) -> datetime | None:
    """An ISO 8601 time with a zone, in UTC; None when not given (then: now)."""
    if not raw:
        return None
    try:
        value = datetime.fromisoformat(raw)
        if value.tzinfo is None:
            raise ValueError
        return value.astimezone(UTC)
    except (ValueError, OverflowError):
        raise BadInput("'at' must be an ISO 8601 date and time with a time zone, e.g. "
                       "2026-11-17T14:30:00+00:00.") from None


async def send_referral(request: Request) -> Response:
    data = await read_json(request)
    referral = await run_anonymous(request, lambda s, svc: service.submit(s, svc, data, client=client_address(request),
                                                                          channel="api"))
    return JSONResponse({"reference": referral.reference, "received_at": referral.received_at.isoformat()},
                        status_code=201)


async def list_referrals(request: Request) -> Response:
    status = request.query_params.get("status") or None
    return JSONResponse(await run(request, views.inbox, status))


async def get_referral(request: Request) -> Response:
    return JSONResponse(await run(request, views.referral, request.path_params["referral_id"]))


async def contact_attempt(request: Request) -> Response:
    data = await read_json(request)
    referral_id = request.path_params["referral_id"]
    await run(request, service.record_contact, referral_id, method=field(data, "method", str),
              outcome=field(data, "outcome", str), at=_time(field(data, "at", str, required=False)),
              note=field(data, "note", str, default=""))
    return JSONResponse(await run(request, views.referral, referral_id), status_code=201)


async def decline_referral(request: Request) -> Response:
    data = await read_json(request)
    referral_id = request.path_params["referral_id"]
    await run(request, service.decline, referral_id, reason=field(data, "reason", str),
              note=field(data, "note", str, default=""),
              expected_version=field(data, "version", int, required=False))
    return JSONResponse(await run(request, views.referral, referral_id))


async def accept_referral(request: Request) -> Response:
    data = await read_json(request)
    referral_id = request.path_params["referral_id"]
    chosen = field(data, "facilitators", list)
    if not all(isinstance(f, str) for f in chosen):
        raise BadInput("'facilitators' is a list of account ids.")
    await run(request, service.accept, referral_id, facilitators=chosen,
              expected_version=field(data, "version", int, required=False))
    return JSONResponse(await run(request, views.referral, referral_id), status_code=201)


ROUTES = [
    Route("/referrals", send_referral, methods=["POST"]),
    Route("/referrals", list_referrals),
    Route("/referrals/{referral_id}", get_referral),
    Route("/referrals/{referral_id}/contact-attempts", contact_attempt, methods=["POST"]),
    Route("/referrals/{referral_id}/decline", decline_referral, methods=["POST"]),
    Route("/referrals/{referral_id}/accept", accept_referral, methods=["POST"]),
]
