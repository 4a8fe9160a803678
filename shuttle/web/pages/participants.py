"""The participants' pages: home, writing, recording, their messages, what is waiting for them."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import Response

from shuttle import permissions
from shuttle.access import load_message
from shuttle.cases import service as cases
from shuttle.cases.views import case_view
from shuttle.errors import BadInput, NotFound
from shuttle.messages import authoring, delivery, queries
from shuttle.messages.diff import word_diff
from shuttle.messages.text import describe, scan
from shuttle.messages.views import for_member
from shuttle.services import Actor, Services
from shuttle.web.http import (
    read_form,
    run,
    to_int,
)
from shuttle.web.pages.common import go, render, signed_in


def _participant_home(s: Session, svc: Services, actor: Actor) -> list[dict[str, Any]]:
    result = []
    for case in queries.my_cases(s, actor):
        messages = queries.case_messages(s, svc, actor, case["id"])
        case["inbox"] = [m for m in messages if "from" in m]
        case["mine"] = [m for m in messages if "from" not in m]
        result.append(case)
    return result


async def me_page(request: Request) -> Response:
    principal = await signed_in(request)
    data = await run(request, _participant_home)
    return render(request, "me/home.html", principal=principal, cases=data, participant=True)


async def write_page(request: Request) -> Response:
    principal = await signed_in(request)
    case_id = request.path_params["case_id"]
    if request.method == "GET":
        case = await run(request, lambda s, svc, actor: case_view(s, actor, case_id))
        return render(request, "me/write.html", principal=principal, case=case, text="", participant=True)
    form = await read_form(request)
    message = await run(request, authoring.start_draft, case_id, form.get("text", ""), csrf=form.get("csrf_token"))
    return go(f"/me/messages/{message.id}")


KIND_WORDS = {"video": ("video", "video/*"), "audio": ("recording", "audio/*"),
              "image": ("photo", "image/jpeg,image/png,image/webp"), "letter": ("letter", "")}


async def record_page(request: Request) -> Response:
    principal = await signed_in(request)
    case_id = request.path_params["case_id"]
    if request.method == "GET":
        case = await run(request, lambda s, svc, actor: case_view(s, actor, case_id))
        return render(request, "me/record.html", principal=principal, case=case, participant=True)
    form = await read_form(request)
    message = await run(request, authoring.start_media, case_id, form.get("kind", ""), csrf=form.get("csrf_token"))
    return go(f"/me/messages/{message.id}")


def _my_message(s: Session, svc: Services, actor: Actor, message_id: str) -> dict[str, Any]:
    message, case, member = load_message(s, actor, message_id)
    if not permissions.is_author_side(member, message.author_side):
        raise NotFound()  # the author's page only: recipients read in /me/inbox, facilitators in /staff
    view = for_member(s, svc, member, message, case)
    view["kind_word"], view["accept"] = KIND_WORDS[view["kind"]]
    view["draft"] = authoring.read_draft(s, svc, actor, message_id) if view["has_draft"] else ""
    view["draft_flags"] = [{"kind": f.kind, "text": f.text, "why": describe(f.kind)}
                           for f in scan(view["draft"], ())]
    if view["pending_edit"]:
        view["diff"] = _pending_diff(s, svc, message)
    return view


def _pending_diff(s: Session, svc: Services, message: Any) -> list[tuple[str, str]]:
    before, after = authoring.pending_edit_texts(s, svc, message)
    return word_diff(before, after)


AUTHOR_FORM_ACTIONS = {
    "submit": authoring.submit,
    "withdraw": authoring.withdraw,
    "accept-edit": authoring.accept_edit,
    "decline-edit": authoring.decline_edit,
}


async def my_message_page(request: Request) -> Response:
    principal = await signed_in(request)
    message_id = request.path_params["message_id"]
    if request.method == "GET":
        view = await run(request, _my_message, message_id)
        return render(request, "me/message.html", principal=principal, m=view, participant=True)
    form = await read_form(request)
    action, csrf = form.get("action", ""), form.get("csrf_token")
    version = to_int(form.get("version", ""))
    if action in ("save", "submit") and "text" in form:
        await run(request, authoring.save_draft, message_id, form["text"], expected_version=version, csrf=csrf)
        version = None
    if action in AUTHOR_FORM_ACTIONS:
        await run(request, AUTHOR_FORM_ACTIONS[action], message_id, expected_version=version, csrf=csrf)
    elif action != "save":
        raise BadInput("Unknown action.")
    return go(f"/me/messages/{message_id}")


def _inbox_item(s: Session, svc: Services, actor: Actor, message_id: str) -> dict[str, Any]:
    message, case, member = load_message(s, actor, message_id)
    view = for_member(s, svc, member, message, case)
    if "from" not in view:
        raise NotFound()
    view["read_receipts_allowed"] = case.read_receipts_allowed
    if view["opened"]:
        view["text"] = delivery.open_message(s, svc, actor, message_id)
    return view


async def inbox_page(request: Request) -> Response:
    principal = await signed_in(request)
    message_id = request.path_params["message_id"]
    if request.method == "POST":
        form = await read_form(request)
        if form.get("choice") != "open":
            return go("/me")
        await run(request, delivery.open_message, message_id, share_receipt=form.get("share_receipt") == "yes",
                  csrf=form.get("csrf_token"))
        return go(f"/me/inbox/{message_id}")
    view = await run(request, _inbox_item, message_id)
    return render(request, "me/inbox.html", principal=principal, m=view, participant=True)


async def holding_page(request: Request) -> Response:
    form = await read_form(request)
    await run(request, cases.set_holding, request.path_params["case_id"], form.get("holding") == "yes",
              csrf=form.get("csrf_token"))
    return go("/me")


async def leave_page(request: Request) -> Response:
    principal = await signed_in(request)
    case_id = request.path_params["case_id"]
    if request.method == "GET":
        case = await run(request, lambda s, svc, actor: case_view(s, actor, case_id))
        return render(request, "me/leave.html", principal=principal, case=case, participant=True)
    form = await read_form(request)
    if form.get("confirm") != "yes":
        return go("/me")
    await run(request, cases.withdraw_own_consent, case_id, csrf=form.get("csrf_token"))
    return go("/me")


