"""API routes for the participants' pages: draft flags, transcripts, and a recipient's
requests to the facilitators (hold, return, destroy) with the facilitators' answers."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from shuttle.messages import delivery, drafting, requests
from shuttle.web import contract as c
from shuttle.web.contract import answer, read
from shuttle.web.http import run


async def draft_flags(request: Request) -> Response:
    """The contact details in my saved draft; 429 with Retry-After when I have checked too often."""
    try:
        return answer(c.DraftFlags, await run(request, drafting.draft_flags, request.path_params["message_id"]))
    except drafting.TooManyChecks as exc:
        return JSONResponse({"error": exc.code, "message": exc.message}, status_code=exc.status,
                            headers={"Retry-After": str(exc.retry_after)})


async def message_transcript(request: Request) -> Response:
    text = await run(request, delivery.transcript, request.path_params["message_id"])
    return answer(c.Text, {"text": text})


async def ask_facilitator(request: Request) -> Response:
    body = await read(request, c.AskFacilitator)
    message_id = request.path_params["message_id"]
    await run(request, requests.request, message_id, body.kind, body.note)
    return answer(c.RequestRow, (await run(request, requests.for_message, message_id))[0], status=201)


async def message_requests(request: Request) -> Response:
    return answer(list[c.RequestRow], await run(request, requests.for_message, request.path_params["message_id"]))


async def case_requests(request: Request) -> Response:
    return answer(list[c.RequestRow], await run(request, requests.open_requests, request.path_params["case_id"]))


async def handle_request(request: Request) -> Response:
    body = await read(request, c.HandleRequest)
    row = await run(request, requests.handle, request.path_params["request_id"], body.outcome, body.note)
    return answer(c.HandledRequest, {"id": row.id, "outcome": row.outcome, "handled_at": row.handled_at})


ROUTES = [
    Route("/messages/{message_id}/draft/flags", draft_flags),
    Route("/messages/{message_id}/transcript", message_transcript),
    Route("/messages/{message_id}/requests", message_requests),
    Route("/messages/{message_id}/requests", ask_facilitator, methods=["POST"]),
    Route("/cases/{case_id}/requests", case_requests),
    Route("/requests/{request_id}/handle", handle_request, methods=["POST"]),
]
