"""API routes for a facilitator's casework (issue 10): preparation meetings and wishes, private
notes, letters entered on a participant's behalf, and a recipient sharing a message with a supporter."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from shuttle.access import load_message
from shuttle.cases import notes, preparation
from shuttle.cases.preparation import PreparationView
from shuttle.messages import on_behalf, sharing
from shuttle.messages.sharing import SharedItem, SupporterChoice
from shuttle.messages.views import for_member
from shuttle.web import contract as c
from shuttle.web.contract import answer, read
from shuttle.web.http import read_body, run

# --- preparation ---------------------------------------------------------------------------------


async def get_preparation(request: Request) -> Response:
    p = request.path_params
    return answer(PreparationView, await run(request, preparation.preparation, p["case_id"], p["participant_id"]))


async def add_meeting(request: Request) -> Response:
    body = await read(request, c.Meeting)
    p = request.path_params
    await run(request, preparation.record_meeting, p["case_id"], p["participant_id"],
              held_on=c.required_day(body.held_on, "held_on"), how=body.how, attended=body.attended, notes=body.notes)
    return answer(PreparationView, await run(request, preparation.preparation, p["case_id"], p["participant_id"]),
                  status=201)


async def put_wishes(request: Request) -> Response:
    body = await read(request, c.Wishes)
    p = request.path_params
    await run(request, preparation.record_wishes, p["case_id"], p["participant_id"], questions=list(body.questions),
              wants_reply=body.wants_reply, wants_outcome_news=body.wants_outcome_news)
    return answer(PreparationView, await run(request, preparation.preparation, p["case_id"], p["participant_id"]))


# --- private notes -------------------------------------------------------------------------------


async def case_notes(request: Request) -> Response:
    """Reading notes is audited (a content view), like reading a message's version."""
    case_id = request.path_params["case_id"]
    message_id = request.query_params.get("message_id") or None
    return answer(list[c.NoteRow], await run(request, notes.read_notes, case_id, message_id=message_id))


async def add_case_note(request: Request) -> Response:
    body = await read(request, c.CaseNote)
    case_id = request.path_params["case_id"]
    note = await run(request, notes.add_note, case_id, body.text, message_id=body.message_id)
    return answer(c.NoteAdded, {"id": note.id, "message_id": note.message_id, "at": note.at}, status=201)


# --- on a participant's behalf -------------------------------------------------------------------


def _message_view(message_id: str) -> Any:
    def view(s: Any, svc: Any, actor: Any) -> dict[str, Any]:
        message, case, member = load_message(s, actor, message_id)
        return for_member(s, svc, member, message, case)

    return view


async def letter_on_behalf(request: Request) -> Response:
    body = await read(request, c.Letter)
    p = request.path_params
    message = await run(request, on_behalf.enter_letter, p["case_id"], p["participant_id"], body.text)
    return answer(c.MessageView, await run(request, _message_view(message.id)), status=201)


async def photo_on_behalf(request: Request) -> Response:
    """The photo's bytes are the body (image/jpeg, image/png or image/webp); ?transcript= its words."""
    p = request.path_params
    body = await read_body(request, on_behalf.MAX_PHOTO_BYTES + 1)
    transcript = request.query_params.get("transcript", "")
    message = await run(request, on_behalf.enter_photo, p["case_id"], p["participant_id"], body, transcript)
    return answer(c.MessageView, await run(request, _message_view(message.id)), status=201)


# --- supporters ----------------------------------------------------------------------------------


async def message_supporters(request: Request) -> Response:
    return answer(list[SupporterChoice], await run(request, sharing.supporters_for, request.path_params["message_id"]))


async def share_message(request: Request) -> Response:
    """{"shared": true} shares the message with this supporter; false stops sharing it."""
    body = await read(request, c.Share)
    message_id, supporter_id = request.path_params["message_id"], request.path_params["supporter_id"]
    if body.shared:
        await run(request, sharing.share, message_id, supporter_id)
    else:
        await run(request, sharing.unshare, message_id, supporter_id)
    return answer(list[SupporterChoice], await run(request, sharing.supporters_for, message_id))


async def shared_with_me(request: Request) -> Response:
    return answer(list[SharedItem], await run(request, sharing.shared_with_me))


async def shared_message(request: Request) -> Response:
    return answer(SharedItem, await run(request, sharing.shared_item, request.path_params["message_id"]))


async def open_shared(request: Request) -> Response:
    return answer(SharedItem, await run(request, sharing.open_shared, request.path_params["message_id"]))


ROUTES = [
    Route("/cases/{case_id}/participants/{participant_id}/preparation", get_preparation),
    Route("/cases/{case_id}/participants/{participant_id}/meetings", add_meeting, methods=["POST"]),
    Route("/cases/{case_id}/participants/{participant_id}/wishes", put_wishes, methods=["PUT"]),
    Route("/cases/{case_id}/participants/{participant_id}/letters", letter_on_behalf, methods=["POST"]),
    Route("/cases/{case_id}/participants/{participant_id}/photos", photo_on_behalf, methods=["POST"]),
    Route("/cases/{case_id}/notes", case_notes),
    Route("/cases/{case_id}/notes", add_case_note, methods=["POST"]),
    Route("/messages/{message_id}/supporters", message_supporters),
    Route("/messages/{message_id}/supporters/{supporter_id}", share_message, methods=["PUT"]),
    Route("/shared", shared_with_me),
    Route("/shared/{message_id}", shared_message),
    Route("/shared/{message_id}/open", open_shared, methods=["POST"]),
]
