"""Pages for a facilitator's casework and for supporters (issue 10).

Staff: a person's preparation (meetings, what they want, a letter entered on their behalf) and the
case's private notes. Participants: a recipient shares an opened message with their supporter;
a supporter sees what is shared with them and opens it when they choose. Pages parse, call one use
case or view builder, and render; a form that cannot be used comes back with its words and a reason.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from shuttle.cases import notes, preparation
from shuttle.cases.casework_view import notes_page as notes_page_view
from shuttle.cases.casework_view import person_page as person_page_view
from shuttle.errors import BadInput, NotFound, ShuttleError
from shuttle.i18n import N_
from shuttle.messages import on_behalf, sharing
from shuttle.web.http import read_body, read_form, run
from shuttle.web.pages import flash
from shuttle.web.pages.common import go, render, signed_in, view_fields

YES_NO_UNKNOWN = {"yes": True, "no": False, "unknown": None}


# --- a person's preparation ----------------------------------------------------------------------


def _day(raw: str) -> date:
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise BadInput(N_("Give the meeting's date, for example 2026-03-14.")) from None


def _questions(raw: str) -> list[str]:
    return [line.strip() for line in raw.splitlines() if line.strip()]


def _choice(form: dict[str, str], name: str) -> bool | None:
    if form.get(name, "unknown") not in YES_NO_UNKNOWN:
        raise BadInput(N_("Choose yes, no or not asked yet."))
    return YES_NO_UNKNOWN[form.get(name, "unknown")]


PersonAction = Callable[[dict[str, str]], Callable[..., Any]]
PERSON_ACTIONS: dict[str, PersonAction] = {
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
        page = await run(request, person_page_view, case_id, participant_id)
        return render(request, "staff/person.html", principal=principal, form={}, **view_fields(page))
    form = await read_form(request)
    action = form.get("action", "")
    if action not in PERSON_ACTIONS:
        raise BadInput(N_("Unknown action."))
    try:
        done: Any = await run(request, PERSON_ACTIONS[action](form), case_id, participant_id,
                              csrf=form.get("csrf_token"))
    except NotFound:
        raise
    except ShuttleError as exc:
        page = await run(request, person_page_view, case_id, participant_id, csrf=form.get("csrf_token"))
        return render(request, "staff/person.html", status=exc.status, principal=principal, form=form,
                      error=exc.message, error_field=ERROR_FIELD[action], error_action=action, **view_fields(page))
    if action == "letter":
        return go(f"/staff/messages/{done.id}")
    return go(f"/staff/cases/{case_id}/people/{participant_id}#{'meetings' if action == 'meeting' else 'wishes'}")


def _in_memory_form(body: bytes, content_type: str) -> tuple[dict[str, str], bytes]:
    """A multipart form parsed in memory: its text fields and the `photo` file's bytes. Never spooled
    to a temporary file, so a prisoner's letter is not written to disk in clear (invariant 5)."""
    kind, params = parse_options_header(content_type.encode("latin-1"))
    if kind != b"multipart/form-data" or not params.get(b"boundary"):
        raise BadInput(N_("Send the form with the photo (multipart/form-data)."))
    parts: list[tuple[dict[bytes, bytes], bytearray]] = []
    header = [b"", b""]

    def begin() -> None:
        parts.append(({}, bytearray()))

    def add_header() -> None:
        parts[-1][0][header[0].lower()] = header[1]
        header[0], header[1] = b"", b""

    callbacks = {
        "on_part_begin": begin,
        "on_part_data": lambda data, start, end: parts[-1][1].extend(data[start:end]),
        "on_header_field": lambda data, start, end: header.__setitem__(0, header[0] + data[start:end]),
        "on_header_value": lambda data, start, end: header.__setitem__(1, header[1] + data[start:end]),
        "on_header_end": add_header,
    }
    parser = MultipartParser(params[b"boundary"], callbacks)  # type: ignore[arg-type]
    try:
        parser.write(body)
        parser.finalize()
    except Exception:  # python-multipart's parse errors: a broken form, not a server fault
        raise BadInput(N_("The form could not be read. Choose the photo and send it again.")) from None
    fields: dict[str, str] = {}
    photo = b""
    for headers, data in parts:
        _, disposition = parse_options_header(headers.get(b"content-disposition", b""))
        name = disposition.get(b"name", b"").decode("utf-8", "replace")
        if name == "photo":
            photo = bytes(data)
        elif name:
            fields[name] = data.decode("utf-8", "replace")
    return fields, photo


async def photo_page(request: Request) -> Response:
    """A photographed handwritten letter entered for the person, from the preparation page."""
    principal = await signed_in(request)
    case_id, participant_id = request.path_params["case_id"], request.path_params["participant_id"]
    body = await read_body(request, on_behalf.MAX_PHOTO_BYTES + 64 * 1024)
    form, photo = _in_memory_form(body, request.headers.get("content-type", ""))
    try:
        done = await run(request, on_behalf.enter_photo, case_id, participant_id, photo, form.get("transcript", ""),
                         csrf=form.get("csrf_token"))
    except NotFound:
        raise
    except ShuttleError as exc:
        page = await run(request, person_page_view, case_id, participant_id, csrf=form.get("csrf_token"))
        return render(request, "staff/person.html", status=exc.status, principal=principal, form=form,
                      error=exc.message, error_field="photo", error_action="photo", **view_fields(page))
    return go(f"/staff/messages/{done.id}")


# --- private notes -------------------------------------------------------------------------------


async def notes_page(request: Request) -> Response:
    principal = await signed_in(request)
    case_id = request.path_params["case_id"]
    if request.method == "GET":
        message_id = request.query_params.get("message") or None
        page = await run(request, notes_page_view, case_id, message_id)
        return flash.page(request, "staff/notes.html", principal=principal, text="", **view_fields(page))
    form = await read_form(request)
    message_id = form.get("message_id") or None
    try:
        await run(request, notes.add_note, case_id, form.get("text", ""), message_id=message_id,
                  csrf=form.get("csrf_token"))
    except BadInput as exc:
        page = await run(request, notes_page_view, case_id, message_id, csrf=form.get("csrf_token"))
        return render(request, "staff/notes.html", status=400, principal=principal, text=form.get("text", ""),
                      error=exc.message, **view_fields(page))
    return flash.done(request, f"/staff/cases/{case_id}/notes" + (f"?message={message_id}" if message_id else ""),
                      N_("Note saved."))


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
    Route("/staff/cases/{case_id}/people/{participant_id}/photo", photo_page, methods=["POST"]),
    Route("/staff/cases/{case_id}/notes", notes_page, methods=["GET", "POST"]),
    Route("/me/inbox/{message_id}/share", share_page, methods=["POST"]),
    Route("/me/shared", shared_list_page),
    Route("/me/shared/{message_id}", shared_page, methods=["GET", "POST"]),
]
