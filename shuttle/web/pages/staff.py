"""The facilitators' pages: dashboard and review queue, case page, review page."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import Response

from shuttle.access import load_message
from shuttle.cases import service as cases
from shuttle.cases.views import case_view
from shuttle.errors import BadInput, NotFound
from shuttle.messages import queries, review
from shuttle.messages.diff import highlight, word_diff
from shuttle.messages.review import REJECTION_CODES
from shuttle.messages.views import for_member
from shuttle.services import Actor, Services
from shuttle.web.http import (
    read_form,
    run,
    to_int,
)
from shuttle.web.pages.common import go, render, signed_in


async def staff_page(request: Request) -> Response:
    principal = await signed_in(request)
    my = await run(request, lambda s, svc, actor: queries.my_cases(s, actor))
    queue = await run(request, queries.review_queue)
    return render(request, "staff/home.html", principal=principal, cases=my, queue=queue)


CASE_FORM_ACTIONS = {
    "status": lambda f: (cases.set_status, (f.get("status", ""),), {}),
    "consent": lambda f: (cases.record_consent, (f.get("participant_id", ""),),
                          {"kind": f.get("kind", ""), "granted": f.get("granted") == "yes"}),
    "assessment": lambda f: (cases.record_assessment, (f.get("participant_id", ""),),
                             {"outcome": f.get("outcome", "")}),
}


async def staff_case_page(request: Request) -> Response:
    principal = await signed_in(request)
    case_id = request.path_params["case_id"]
    if request.method == "POST":
        form = await read_form(request)
        if form.get("action") not in CASE_FORM_ACTIONS:
            raise BadInput("Unknown action.")
        use_case, args, kwargs = CASE_FORM_ACTIONS[form["action"]](form)
        await run(request, use_case, case_id, *args, csrf=form.get("csrf_token"), **kwargs)
        return go(f"/staff/cases/{case_id}")
    case = await run(request, lambda s, svc, actor: case_view(s, actor, case_id))
    if "participants" not in case:
        raise NotFound()
    messages = await run(request, queries.case_messages, case_id)
    return render(request, "staff/case.html", principal=principal, case=case, messages=messages)


def _review_view(s: Session, svc: Services, actor: Actor, message_id: str) -> dict[str, Any]:
    message, case, member = load_message(s, actor, message_id)
    if not member.is_facilitator:
        raise NotFound()
    view = for_member(s, svc, member, message, case)
    view["watchlist"] = list(case.watchlist or [])
    current = None
    if message.current_version_id:
        current = review.read_version(s, svc, actor, message_id, message.current_version_id)
        current["segments"] = highlight(current["text"] or "", current["flags"])
        versions = view["versions"]
        if len(versions) > 1 and message.kind == "letter":
            first = review.read_version(s, svc, actor, message_id, versions[0]["id"])
            view["diff"] = word_diff(first["text"], current["text"])
    view["current"] = current
    return view


def _form_edits(form: dict[str, str]) -> dict[str, list[dict[str, str]]]:
    """The review page's edit form: one cut, one mute and one blur at a time (seconds, fractions)."""
    def filled(*names: str) -> bool:
        return all(form.get(n, "").strip() for n in names)

    edits: dict[str, list[dict[str, str]]] = {"cuts": [], "mutes": [], "blurs": []}
    if filled("cut_start", "cut_end"):
        edits["cuts"].append({"start": form["cut_start"], "end": form["cut_end"]})
    if filled("mute_start", "mute_end"):
        edits["mutes"].append({"start": form["mute_start"], "end": form["mute_end"]})
    if filled("blur_x", "blur_y", "blur_w", "blur_h", "blur_start", "blur_end"):
        edits["blurs"].append({"x": form["blur_x"], "y": form["blur_y"], "w": form["blur_w"], "h": form["blur_h"],
                               "start": form["blur_start"], "end": form["blur_end"]})
    return edits


REVIEW_FORM_ACTIONS = {
    "edit-media": lambda f: (review.propose_media_edit, (), {"edits": _form_edits(f), "note": f.get("note", "")}),
    "claim": lambda f: (review.claim, (), {"take_over": f.get("take_over") == "yes"}),
    "unclaim": lambda f: (review.unclaim, (), {}),
    "approve": lambda f: (review.approve, (), {}),
    "request-changes": lambda f: (review.request_changes, (), {"note": f.get("note", "")}),
    "edit": lambda f: (review.propose_edit, (), {"text": f.get("text", ""), "note": f.get("note", "")}),
    "reject": lambda f: (review.reject, (), {"code": f.get("code", ""), "note": f.get("note", "")}),
    "retry": lambda f: (review.retry_processing, (), {}),
}


async def review_page(request: Request) -> Response:
    principal = await signed_in(request)
    message_id = request.path_params["message_id"]
    if request.method == "POST":
        form = await read_form(request)
        if form.get("action") not in REVIEW_FORM_ACTIONS:
            raise BadInput("Unknown action.")
        use_case, args, kwargs = REVIEW_FORM_ACTIONS[form["action"]](form)
        version = to_int(form.get("version", ""))
        await run(request, use_case, message_id, *args, expected_version=version, csrf=form.get("csrf_token"),
                  **kwargs)
        return go(f"/staff/messages/{message_id}")
    view = await run(request, _review_view, message_id)
    return render(request, "staff/review.html", principal=principal, m=view, rejection_codes=REJECTION_CODES)


