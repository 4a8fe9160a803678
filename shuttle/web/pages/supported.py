"""Pages for receiving with support (issue 12): the recipient asks to open a message with their
facilitator or withdraws that (the inbox page's form); the facilitator records the arranged time,
starts or ends the session (the dashboard's and case page's section)."""

from __future__ import annotations

from datetime import UTC, datetime

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from shuttle.errors import BadInput
from shuttle.i18n import N_
from shuttle.messages import supported_opening
from shuttle.web.http import read_form, run
from shuttle.web.pages.common import go, signed_in


async def recipient_choice(request: Request) -> Response:
    """"Open it with my facilitator" (with a note), or "Withdraw my request"."""
    await signed_in(request)
    message_id = request.path_params["message_id"]
    form = await read_form(request)
    choice = form.get("choice")
    if choice == "ask":
        await run(request, supported_opening.ask, message_id, form.get("note", ""), csrf=form.get("csrf_token"))
    elif choice == "withdraw":
        await run(request, supported_opening.withdraw, message_id, csrf=form.get("csrf_token"))
    else:
        raise BadInput(N_("Choose to open it with your facilitator, or to withdraw that request."))
    return go(f"/me/inbox/{message_id}#supported")


def _arranged_time(raw: str) -> datetime:
    """A datetime-local value ('2026-05-01T14:30'), read as UTC (the form says so)."""
    try:
        return datetime.strptime(raw.strip()[:16], "%Y-%m-%dT%H:%M").replace(tzinfo=UTC)
    except ValueError:
        raise BadInput(N_("Give the arranged date and time, e.g. 2026-05-01 14:30.")) from None


async def facilitator_step(request: Request) -> Response:
    """Record the arranged time, start the session now, or end it; back to the page the form was on."""
    await signed_in(request)
    request_id = request.path_params["request_id"]
    form = await read_form(request)
    action, csrf = form.get("action"), form.get("csrf_token")
    if action == "arrange":
        at = _arranged_time(form.get("at", ""))
        await run(request, supported_opening.arrange, request_id, at, csrf=csrf)
    elif action == "start":
        await run(request, supported_opening.start_session, request_id, csrf=csrf)
    elif action == "end":
        await run(request, supported_opening.end_session, request_id, csrf=csrf)
    else:
        raise BadInput(N_("Unknown action."))
    back = form.get("return_to", "")
    return go((back if back.startswith("/staff") and "//" not in back else "/staff") + f"#supported-{request_id}")


ROUTES = [
    Route("/me/inbox/{message_id}/supported", recipient_choice, methods=["POST"]),
    Route("/staff/supported/{request_id}", facilitator_step, methods=["POST"]),
]
