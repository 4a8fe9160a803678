"""Referrals in the JSON API: anyone may send one (rate-limited per address, like the public
form); the coordinator lists them, reads one, records contact attempts, declines or accepts."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from shuttle.referrals import service, views
from shuttle.web import contract as c
from shuttle.web.contract import answer, read
from shuttle.web.http import client_address, run, run_anonymous


async def send_referral(request: Request) -> Response:
    answers = (await read(request, c.Referral)).model_dump(exclude_unset=True)
    referral = await run_anonymous(request, lambda s, svc: service.submit(
        s, svc, answers, client=client_address(request), channel="api"))
    return answer(c.ReferralSent, {"reference": referral.reference, "received_at": referral.received_at},
                  status=201)


async def list_referrals(request: Request) -> Response:
    status = request.query_params.get("status") or None
    return answer(list[c.ReferralRow], await run(request, views.inbox, status))


async def get_referral(request: Request) -> Response:
    return answer(c.ReferralRow, await run(request, views.referral, request.path_params["referral_id"]))


async def contact_attempt(request: Request) -> Response:
    body = await read(request, c.ContactAttempt)
    referral_id = request.path_params["referral_id"]
    await run(request, service.record_contact, referral_id, method=body.method, outcome=body.outcome,
              at=c.moment(body.at), note=body.note)
    return answer(c.ReferralRow, await run(request, views.referral, referral_id), status=201)


async def decline_referral(request: Request) -> Response:
    body = await read(request, c.DeclineReferral)
    referral_id = request.path_params["referral_id"]
    await run(request, service.decline, referral_id, reason=body.reason, note=body.note,
              expected_version=body.version)
    return answer(c.ReferralRow, await run(request, views.referral, referral_id))


async def accept_referral(request: Request) -> Response:
    body = await read(request, c.AcceptReferral)
    referral_id = request.path_params["referral_id"]
    await run(request, service.accept, referral_id, facilitators=list(body.facilitators),
              expected_version=body.version)
    return answer(c.ReferralRow, await run(request, views.referral, referral_id), status=201)


ROUTES = [
    Route("/referrals", send_referral, methods=["POST"]),
    Route("/referrals", list_referrals),
    Route("/referrals/{referral_id}", get_referral),
    Route("/referrals/{referral_id}/contact-attempts", contact_attempt, methods=["POST"]),
    Route("/referrals/{referral_id}/decline", decline_referral, methods=["POST"]),
    Route("/referrals/{referral_id}/accept", accept_referral, methods=["POST"]),
]
