"""Pages for a facilitator's casework and for supporters (issue 10).

Staff: a person's preparation (meetings, what they want, a letter entered on their behalf) and the
case's private notes. Participants: a recipient shares an opened message with their supporter;
a supporter sees what is shared with them and opens it when they choose. Pages parse, call one use
case or view builder, and render; a form that cannot be used comes back with its words and a reason.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from shuttle import permissions
from shuttle.access import load_case
from shuttle.cases import notes, preparation
from shuttle.cases.views import case_view
from shuttle.errors import BadInput, NotFound, ShuttleError
from shuttle.messages import on_behalf, queries, sharing
from shuttle.services import Actor, Services
from shuttle.web.http import read_form, run
from shuttle.web.pages.common import go, render, signed_in

YES_NO_UNKNOWN = {"yes": True, "no": False, "unknown": None}


# --- a person's preparation ----------------------------------------------------------------------


def _person(s: Session, svc: Services, actor: Actor, case_id: str, participant_id: str) -> dict[str, Any]:
    """The person, their preparation and whether a letter may be entered for them: facilitators only."""
    prep = preparation.preparation(s, svc, actor, case_id, participant_id)
    view = case_view(s, actor, case_id)
    person = next(p for p in view["participants"] if p["id"] == participant_id)
    return {"case": view, "person": person, "prep": prep, "today": svc.now().date().isoformat(),
            "side_label": view["settings"][f"label_{person['side']}"],
            "may_write_for": person["role"] in permissions.AUTHORING_ROLES and person.get("active", True),
            "ways": preparation.MEETING_WAYS}


def _day(raw: str) -> date:
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise BadInput("Give the meeting's date, for example 2026-03-14.") from None


def _questions(raw: str) -> list[str]:
    return [line.strip() for line in raw.splitlines() if line.strip()]


def _choice(form: dict[str, str], name: str) -> bool | None:
    if form.get(name, "unknown") not in YES_NO_UNKNOWN:
        raise BadInput("Choose yes, no or not asked yet.")
    return YES_NO_UNKNOWN[form.get(name, "unknown")]


PERSON_ACTIONS = {
    "meeting": lambda f: lambda s, svc, actor, case_id, pid: preparation.record_meeting(
        s, svc, actor, case_id, pid, held_on=_day(f.get("held_on", "")), how=f.get("how", ""),
        attended=f.get("attended", ""), notes=f.get("notes", "")),
    "wishes": lambda f: lambda s, svc, actor, case_id, pid: preparation.record_wishes(
        s, svc, actor, case_id, pid, questions=_questions(f.get("questions", "")),
        wants_reply=_choice(f, "wants_reply"), wants_outcome_news=_choice(f, "wants_outcome_news")),
    "letter": lambda f: lambda s, svc, actor, case_id, pid: on_behalf.enter_letter(
        s, svc, actor, case_id, pid, f.get("text", "")),
}
#: The field an action's error points at, so the form comes back with the field named.
ERROR_FIELD = {"meeting": "attended", "wishes": "questions", "letter": "letter-text"}


async def person_page(request: Request) -> Response:
    principal = await signed_in(request)
    case_id, participant_id = request.path_params["case_id"], request.path_params["participant_id"]
    if request.method == "GET":
        page = await run(request, _person, case_id, participant_id)
        return render(request, "staff/person.html", principal=principal, form={}, **page)
    form = await read_form(request)
    action = form.get("action", "")
    if action not in PERSON_ACTIONS:
        raise BadInput("Unknown action.")
    try:
        done = await run(request, PERSON_ACTIONS[action](form), case_id, participant_id, csrf=form.get("csrf_token"))
    except NotFound:
        raise
    except ShuttleError as exc:
        page = await run(request, _person, case_id, participant_id, csrf=form.get("csrf_token"))
        return render(request, "staff/person.html", status=exc.status, principal=principal, form=form,
                      error=exc.message, error_field=ERROR_FIELD[action], error_action=action, **page)
    if action == "letter":
        return go(f"/staff/messages/{done.id}")
    return go(f"/staff/cases/{case_id}/people/{participant_id}#{'meetings' if action == 'meeting' else 'wishes'}")


# --- private notes -------------------------------------------------------------------------------


def _notes(s: Session, svc: Services, actor: Actor, case_id: str, message_id: str | None) -> dict[str, Any]:
    """The case's (or one message's) private notes; reading them is audited by the use case."""
    case, _ = load_case(s, actor, case_id)
    shown = notes.read_notes(s, svc, actor, case_id, message_id=message_id)
    names = queries.case_message_names(s, case.id)
    return {"case_id": case.id, "reference": case.reference, "notes": shown, "names": names,
            "message_id": message_id, "message_name": names.get(message_id or "")}


async def notes_page(request: Request) -> Response:
    principal = await signed_in(request)
    case_id = request.path_params["case_id"]
    if request.method == "GET":
        message_id = request.query_params.get("message") or None
        page = await run(request, _notes, case_id, message_id)
        return render(request, "staff/notes.html", principal=principal, text="", **page)
    form = await read_form(request)
    message_id = form.get("message_id") or None
    try:
        await run(request, notes.add_note, case_id, form.get("text", ""), message_id=message_id,
                  csrf=form.get("csrf_token"))
    except BadInput as exc:
        page = await run(request, _notes, case_id, message_id, csrf=form.get("csrf_token"))
        return render(request, "staff/notes.html", status=400, principal=principal, text=form.get("text", ""),
                      error=exc.message, **page)
    return go(f"/staff/cases/{case_id}/notes" + (f"?message={message_id}" if message_id else ""))


# --- sharing with a supporter, and what a supporter sees -----------------------------------------


async def share_page(request: Request) -> Response:
    """The recipient shares an opened message with a supporter of their side, or stops sharing it."""
    await signed_in(request)
    message_id = request.path_params["message_id"]
    form = await read_form(request)
    use_case = sharing.share if form.get("shared") == "yes" else sharing.unshare
    await run(request, use_case, message_id, form.get("supporter_id", ""), csrf=form.get("csrf_token"))
    return go(f"/me/inbox/{message_id}#supporters")


async def shared_list_page(request: Request) -> Response:
    principal = await signed_in(request)
    items = await run(request, sharing.shared_with_me)
    return render(request, "me/shared_list.html", principal=principal, items=items, participant=True)


async def shared_page(request: Request) -> Response:
    principal = await signed_in(request)
    message_id = request.path_params["message_id"]
    if request.method == "POST":
        form = await read_form(request)
        if form.get("choice") != "open":
            return go("/me/shared")
        await run(request, sharing.open_shared, message_id, csrf=form.get("csrf_token"))
        return go(f"/me/shared/{message_id}")
    item = await run(request, sharing.shared_item, message_id)
    return render(request, "me/shared.html", principal=principal, m=item, participant=True)


ROUTES = [
    Route("/staff/cases/{case_id}/people/{participant_id}", person_page, methods=["GET", "POST"]),
    Route("/staff/cases/{case_id}/notes", notes_page, methods=["GET", "POST"]),
    Route("/me/inbox/{message_id}/share", share_page, methods=["POST"]),
    Route("/me/shared", shared_list_page),
    Route("/me/shared/{message_id}", shared_page, methods=["GET", "POST"]),
]
