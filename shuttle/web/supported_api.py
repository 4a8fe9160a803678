"""API routes for receiving with support (issue 12): the recipient asks to open a message with
their facilitator (or withdraws that); the case's facilitators see the requests, arrange a time,
and start or end the session in which, only, the message opens (`messages/supported_opening.py`)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from shuttle.messages import supported_opening
from shuttle.messages.supported_models import SupportedOpening
from shuttle.web import contract as c
from shuttle.web.contract import answer, read
from shuttle.web.http import run, services


def _row(request: Request, row: SupportedOpening, status: int = 200) -> Response:
    return answer(c.SupportedOpeningRow, supported_opening.row_json(row, services(request).now()), status=status)


async def my_supported_opening(request: Request) -> Response:
    """The recipient side's waiting request about a message: a list of one, or empty."""
    found = await run(request, supported_opening.mine, request.path_params["message_id"])
    return answer(list[c.SupportedOpeningRow], [found] if found is not None else [])


async def ask_supported_opening(request: Request) -> Response:
    body = await read(request, c.AskSupportedOpening)
    row = await run(request, supported_opening.ask, request.path_params["message_id"], body.note)
    return _row(request, row, status=201)


async def withdraw_supported_opening(request: Request) -> Response:
    return _row(request, await run(request, supported_opening.withdraw, request.path_params["message_id"]))


async def case_supported_openings(request: Request) -> Response:
    return answer(list[c.SupportedOpeningRow],
                  await run(request, supported_opening.waiting_json, request.path_params["case_id"]))


async def arrange_supported_opening(request: Request) -> Response:
    body = await read(request, c.ArrangeSupportedOpening)
    at = c.instant(body.at)
    return _row(request, await run(request, supported_opening.arrange, request.path_params["request_id"], at))


async def start_supported_session(request: Request) -> Response:
    return _row(request, await run(request, supported_opening.start_session, request.path_params["request_id"]))


async def end_supported_session(request: Request) -> Response:
    return _row(request, await run(request, supported_opening.end_session, request.path_params["request_id"]))


ROUTES = [
    Route("/messages/{message_id}/supported-opening", my_supported_opening),
    Route("/messages/{message_id}/supported-opening", ask_supported_opening, methods=["POST"]),
    Route("/messages/{message_id}/supported-opening/withdraw", withdraw_supported_opening, methods=["POST"]),
    Route("/cases/{case_id}/supported-openings", case_supported_openings),
    Route("/supported-openings/{request_id}/arrange", arrange_supported_opening, methods=["POST"]),
    Route("/supported-openings/{request_id}/session", start_supported_session, methods=["POST"]),
    Route("/supported-openings/{request_id}/session/end", end_supported_session, methods=["POST"]),
]
