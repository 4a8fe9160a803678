"""The participants' pages: home, writing, recording, their messages, what is waiting for them.

One thing per page, in plain words (the GOV.UK Design System is the model): a clear
heading, one main action, a Back link, an error summary when something needs fixing. Each
page shows only the buttons the message's state allows (the views' `actions`); the use
cases refuse anything else anyway. Every page works without JavaScript; with it, drafts
save themselves, flags appear as the author types, and recordings are made in the browser.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from shuttle import permissions
from shuttle.access import cases_of, load_case, load_message
from shuttle.accounts import service as accounts
from shuttle.cases import service as cases
from shuttle.cases.facts import current_consent
from shuttle.cases.models import Participant
from shuttle.cases.views import case_view, for_participant
from shuttle.errors import BadInput, Conflict, NotFound, ShuttleError, TooLarge
from shuttle.messages import authoring, delivery, drafting, queries, requests, sharing
from shuttle.messages.diff import word_diff
from shuttle.messages.drafting import author_flags, flags_key
from shuttle.messages.request_models import REQUEST_KINDS, RecipientRequest
from shuttle.messages.states import AUTHOR_STEP, AUTHOR_WORDS, AUTHOR_WORDS_RECALLED, DELIVERED, State
from shuttle.messages.views import for_member
from shuttle.services import Actor, Services
from shuttle.uploads.limits import MAX_RECORDING_SECONDS
from shuttle.web.cookies import clear_session_cookie
from shuttle.web.http import SESSION_COOKIE, read_form, run, services, to_int
from shuttle.web.pages.common import go, render, signed_in, too_long

log = logging.getLogger(__name__)
KIND_NAMES = {"letter": "letter", "audio": "recording", "video": "video", "image": "photographed letter"}
ACCEPT = {"video": "video/*", "audio": "audio/*", "image": "image/jpeg,image/png,image/webp", "letter": ""}

#: One-off confirmations after a form, chosen by a fixed key (nothing from the address is echoed).
DONE = {
    "saved": "Your draft is saved.",
    "sent": "Sent to your facilitator. They will read it and let you know what happens next.",
    "withdrawn": "You withdrew it. It will not be passed on.",
    "accepted": "You accepted the changes. Your facilitator has been told.",
    "declined": "You turned down the changes. Your text is back as a draft for you to change.",
    "uploaded": "It is uploaded. Add the words if you wish, then send it to your facilitator.",
    "paused": "Deliveries to you are paused. Nothing new will be delivered until you resume.",
    "resumed": "Deliveries to you are on again.",
    "left": "You have stopped taking part. Your facilitator has been told.",
    "asked": "Your facilitator has been told. They will be in touch.",
}


def _refusal(view: dict[str, Any]) -> str | None:
    """Why the worker could not use the author's own letter or file, as a sentence; None otherwise.

    A refusal is stored as `changes_requested` with the version's processing error (see
    processing.fail): it must not read as a facilitator's request for changes."""
    reason = (view.get("processing_error") or "").strip().rstrip(".")
    if view["state"] != State.CHANGES_REQUESTED or not reason:
        return None
    if not reason[1:2].isupper():  # "The file is empty" reads "the file is empty"; "MP4 ..." stays
        reason = reason[:1].lower() + reason[1:]
    if view["kind"] == "letter":
        return f"We could not use this letter: {reason}. You can change it and send it again."
    return f"We could not use this file: {reason}. You can send another."


def _author_words(view: dict[str, Any]) -> tuple[str, str]:
    """The author's message in their words (short status, what it means for them)."""
    refusal = _refusal(view)
    if refusal is not None:
        return "Could not be used", refusal
    return AUTHOR_WORDS_RECALLED if view.get("recalled") else AUTHOR_WORDS[State(view["state"])]


def _date(value: datetime | str | None) -> str | None:
    if value is None:
        return None
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return f"{moment.day} {moment:%B %Y}"


#: A one-off confirmation is shown once: the form's answer sets this cookie with the key that
#: is also in the address, the page shows it and clears the cookie. Reloaded (or the address
#: opened again later), the page no longer says "Sent to your facilitator" as if it were news.
DONE_COOKIE = "shuttle_done"


def _done(request: Request) -> str | None:
    key = request.query_params.get("done", "")
    return DONE.get(key) if key and request.cookies.get(DONE_COOKIE) == key else None


def _go_done(request: Request, url: str, key: str) -> Response:
    """Back to a page after a form, with the confirmation `key` (one of DONE) to show once."""
    response = go(f"{url}?done={key}")
    # Not HttpOnly: upload.js sets it too (a fixed word, no secret). Path /me: participants' pages only.
    response.set_cookie(DONE_COOKIE, key, max_age=300, path="/me", samesite="strict",
                        secure=services(request).settings.cookie_secure)
    return response


def _shown_once(request: Request, response: Response) -> Response:
    """The page has shown its confirmation (if any): clear it, so a reload does not show it again."""
    if DONE_COOKIE in request.cookies:
        response.delete_cookie(DONE_COOKIE, path="/me", samesite="strict")
    return response


# --- home ----------------------------------------------------------------------------------------


def _latest_requests(s: Session, message_ids: list[str]) -> dict[str, RecipientRequest]:
    rows = s.scalars(select(RecipientRequest).where(RecipientRequest.message_id.in_(message_ids))
                     .order_by(RecipientRequest.requested_at)).all() if message_ids else []
    return {row.message_id: row for row in rows}  # the latest one per message wins


def _participant_home(s: Session, svc: Services, actor: Actor) -> list[dict[str, Any]]:
    result = []
    for case, member in cases_of(s, actor):
        if not member.is_participant or member.participant_id is None:
            continue
        me = s.get(Participant, member.participant_id)
        assert me is not None
        entry = for_participant(case, member.side, member.participant_role)
        taking_part = current_consent(s, me.id, "take_part")
        entry.update({
            "acting_for": me.acting_for if me.role == "proxy" else "",
            "taking_part": taking_part, "holding": me.holding_deliveries,
            "may_write": permissions.may_write(member),
            "may_start": taking_part and case.status not in ("closing", "closed")
            and authoring.may_start(s, case, member),
        })
        messages = queries.case_messages(s, svc, actor, case.id)
        inbox = [m for m in messages if "from" in m]
        asked = _latest_requests(s, [m["id"] for m in inbox])
        for m in inbox:
            row = asked.get(m["id"])
            m["request"] = None if row is None else {
                "kind": row.kind, "words": requests.KIND_WORDS[row.kind], "handled": row.handled_at is not None,
                "outcome": row.outcome}
            m["closed"] = bool(row and row.outcome == "done" and row.kind in ("return", "destroy"))
            m["held"] = bool(row and row.kind == "hold" and row.outcome != "declined")
        mine = [m for m in messages if "from" not in m]
        for m in mine:
            m["kind_name"] = KIND_NAMES[m["kind"]]
            m["words"] = _author_words(m)[0]
        waiting = [m for m in inbox if not m["opened"] and not m["closed"] and not m["held"]]
        # "Open it now" only when opening works: while the case is paused (or my consent is not
        # current) a waiting message is on hold for now.
        openable = delivery.may_open_now(s, case.status, me.id, case.label_of(member.side or ""))
        entry["waiting"], entry["on_hold"] = (waiting, []) if openable else ([], waiting)
        entry["held"] = [m for m in inbox if not m["opened"] and not m["closed"] and m["held"]]
        entry["opened"] = [m for m in inbox if m["opened"] and not m["closed"]]
        entry["mine"] = list(reversed(mine))  # newest first
        result.append(entry)
    return result


async def me_page(request: Request) -> Response:
    principal = await signed_in(request)
    data = await run(request, _participant_home)
    return _shown_once(request, render(request, "me/home.html", principal=principal, cases=data, participant=True,
                                       done=_done(request)))


# --- writing and recording -----------------------------------------------------------------------


def _case_for_writing(s: Session, svc: Services, actor: Actor, case_id: str) -> dict[str, Any]:
    case, member = load_case(s, actor, case_id)
    if not permissions.may_write(member):
        raise NotFound()
    view = for_participant(case, member.side, member.participant_role)
    view["may_start"] = authoring.may_start(s, case, member)
    return view


async def write_page(request: Request) -> Response:
    principal = await signed_in(request)
    case_id = request.path_params["case_id"]
    if request.method == "GET":
        case = await run(request, _case_for_writing, case_id)
        return render(request, "me/write.html", principal=principal, case=case, text="", participant=True)
    form = await read_form(request)
    case = await run(request, _case_for_writing, case_id, csrf=form.get("csrf_token"))
    text = form.get("text", "")
    if not text.strip():
        return render(request, "me/write.html", status=400, principal=principal, case=case, text=text,
                      participant=True, error="Write something first. You can save a draft of a few words and "
                      "come back to it later.", error_field="text")
    try:
        message = await run(request, authoring.start_draft, case_id, text, csrf=form.get("csrf_token"))
    except KEEP_WORDS as exc:
        return render(request, "me/write.html", status=exc.status, principal=principal, case=case, text=text,
                      participant=True, error=_words_kept_because(request, exc, text), error_field="text")
    return go(f"/me/messages/{message.id}")


async def record_page(request: Request) -> Response:
    principal = await signed_in(request)
    case_id = request.path_params["case_id"]
    if request.method == "GET":
        case = await run(request, _case_for_writing, case_id)
        return render(request, "me/record.html", principal=principal, case=case, participant=True)
    form = await read_form(request)
    case = await run(request, _case_for_writing, case_id, csrf=form.get("csrf_token"))
    if form.get("kind") not in authoring.MEDIA_KINDS:
        return render(request, "me/record.html", status=400, principal=principal, case=case, participant=True,
                      error="Choose what you would like to send.", error_field="kind-video")
    message = await run(request, authoring.start_media, case_id, form["kind"], csrf=form.get("csrf_token"))
    return go(f"/me/messages/{message.id}")


# --- the author's message ------------------------------------------------------------------------


def _timeline(view: dict[str, Any], created_at: datetime, read_receipts: bool) -> list[dict[str, Any]]:
    steps = [("Written", _date(created_at)), ("With your facilitator", _date(view["submitted_at"])),
             ("Approved", None), ("Delivered", _date(view.get("delivered_at")))]
    if read_receipts:
        steps.append(("Opened (if they tell you)", _date(view["opened_at"])))
    state = view["state"]
    at = 0 if view.get("refused") else AUTHOR_STEP.get(state)  # refused: back with its author, not with staff
    if state == State.HELD and view.get("held_from"):
        at = AUTHOR_STEP.get(view["held_from"])
    if at is None:
        return []  # rejected or withdrawn: no journey left to show
    timeline = []
    for i, (label, when) in enumerate(steps):
        status = "done" if i < at or (i == at and state in DELIVERED) else \
            "current" if i == at else "todo"
        timeline.append({"label": label, "when": when if status != "todo" else None, "status": status,
                         "current": i == at})
    return timeline


def _my_message(s: Session, svc: Services, actor: Actor, message_id: str) -> dict[str, Any]:
    message, case, member = load_message(s, actor, message_id)
    if not permissions.is_author_side(member, message.author_side):
        raise NotFound()  # the author's page only: recipients read in /me/inbox, facilitators in /staff
    view = for_member(s, svc, member, message, case)
    view["kind_name"], view["accept"] = KIND_NAMES[view["kind"]], ACCEPT[view["kind"]]
    view["refused"] = _refusal(view) is not None
    view["words"], view["meaning"] = _author_words(view)
    view["held_from"] = message.held_from
    view["delivered_at"] = message.released_at.isoformat() if message.released_at else None
    view["timeline"] = _timeline(view, message.created_at, case.read_receipts_allowed)
    view["max_seconds"] = MAX_RECORDING_SECONDS.get(message.kind, 0)
    view["draft"] = authoring.read_draft(s, svc, actor, message_id) if view["has_draft"] else ""
    view["draft_flags"] = author_flags(view["draft"])  # never the watch list (invariant 10)
    view["flags_key"] = flags_key(view["draft_flags"])
    view["sent_text"] = authoring.sent_text(s, svc, actor, message_id)
    view["transcript"] = delivery.transcript(s, svc, actor, message_id) if view["preview"] else None
    view["diff"] = _pending_diff(s, svc, message) if view["pending_edit"] and message.kind == "letter" else None
    return view


def _pending_diff(s: Session, svc: Services, message: Any) -> list[tuple[str, str]]:
    before, after = authoring.pending_edit_texts(s, svc, message)
    return readable_diff(word_diff(before, after))


def readable_diff(diff: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Neighbouring changes separated only by spaces read as one: "Elm Street" crossed out and
    "the street" added, rather than word by word."""
    out: list[tuple[str, str]] = []
    removed: list[str] = []
    added: list[str] = []
    spaces = ""

    def flush() -> None:
        for op, parts in (("removed", removed), ("added", added)):
            if "".join(parts).strip():
                out.append((op, "".join(parts).rstrip()))
            parts.clear()

    for op, text in diff:
        if op == "same" and not text.strip() and (removed or added):
            spaces += text
            continue
        if op == "same":
            flush()
            out.append(("same", spaces + text))
        else:
            for parts in (removed, added):
                if parts:
                    parts.append(spaces)
            (removed if op == "removed" else added).append(text)
        spaces = ""
    flush()
    if spaces:
        out.append(("same", spaces))
    return out


AUTHOR_FORM_ACTIONS = {
    "submit": (authoring.submit, "sent"),
    "withdraw": (authoring.withdraw, "withdrawn"),
    "accept-edit": (authoring.accept_edit, "accepted"),
    "decline-edit": (authoring.decline_edit, "declined"),
}


async def my_message_page(request: Request) -> Response:
    principal = await signed_in(request)
    message_id = request.path_params["message_id"]
    if request.method == "GET":
        view = await run(request, _my_message, message_id)
        return _shown_once(request, render(request, "me/message.html", principal=principal, m=view,
                                           participant=True, done=_done(request),
                                           check=request.query_params.get("check") == "1"))
    form = await read_form(request)
    action, csrf = form.get("action", ""), form.get("csrf_token")
    version = to_int(form.get("version", ""))
    if action not in ("save", *AUTHOR_FORM_ACTIONS):
        raise BadInput("Unknown action.")
    text = form.get("text") if action in ("save", "submit") else None
    try:
        if text is not None:
            await run(request, authoring.save_draft, message_id, text, expected_version=version, csrf=csrf)
            version = None
            # Not sent with a flag its author has not seen: the page sends the key of the flags it showed.
            if action == "submit" and "flags_key" in form:
                shown = await run(request, drafting.text_flags, message_id, text, csrf=csrf)
                if form["flags_key"] != flags_key(shown):
                    return go(f"/me/messages/{message_id}?check=1#flags")
        if action == "save":
            return _go_done(request, f"/me/messages/{message_id}", "saved")
        use_case, done = AUTHOR_FORM_ACTIONS[action]
        await run(request, use_case, message_id, expected_version=version, csrf=csrf)
    except KEEP_WORDS as exc:
        if text is None:
            raise
        view = await run(request, _my_message, message_id, csrf=csrf)
        view["draft"] = text  # the words as they were typed, whatever was (or was not) saved
        return render(request, "me/message.html", status=exc.status, principal=principal, m=view, participant=True,
                      kept=text, error=_words_kept_because(request, exc, text), error_field="text")
    return _go_done(request, f"/me/messages/{message_id}", done)


#: Refusals that a form with words in it answers by showing itself again, the words kept.
KEEP_WORDS = (BadInput, Conflict, TooLarge)


def _words_kept_because(request: Request, exc: ShuttleError, text: str) -> str:
    """Why the form is back, in a sentence that is true with the words shown again in it."""
    if isinstance(exc, TooLarge):
        return too_long(services(request).settings.limits.max_letter_bytes, len(text.encode("utf-8")))
    if exc.code == "stale":
        return ("This draft was changed somewhere else (in another window?) since you opened it. Your words "
                "below are not saved yet: check them, then save again.")
    return exc.message


async def withdraw_page(request: Request) -> Response:
    """Are you sure? Withdrawing cannot be undone."""
    principal = await signed_in(request)
    view = await run(request, _my_message, request.path_params["message_id"])
    if "withdraw" not in view["actions"]:
        return go(f"/me/messages/{view['id']}")
    return render(request, "me/withdraw.html", principal=principal, m=view, participant=True)


# --- receiving -----------------------------------------------------------------------------------


def _inbox_item(s: Session, svc: Services, actor: Actor, message_id: str) -> dict[str, Any]:
    message, case, member = load_message(s, actor, message_id)
    view = for_member(s, svc, member, message, case)
    if "from" not in view:
        raise NotFound()
    view["kind_name"] = KIND_NAMES[view["kind"]]
    view["read_receipts_allowed"] = case.read_receipts_allowed
    view["requests"] = requests.for_message(s, svc, actor, message_id)
    for r in view["requests"]:
        r["requested_on"], r["handled_on"] = _date(r["requested_at"]), _date(r["handled_at"])
    view["waiting_request"] = next((r for r in view["requests"] if not r["handled_at"]), None)
    view["closed"] = requests.closed_by_request(s, message.id)
    view["may_ask"] = not view["closed"] and view["waiting_request"] is None
    view["supporters"] = sharing.supporters_for(s, svc, actor, message_id) if view["opened"] and not \
        view["closed"] else []  # issue 10: share an opened message with a supporter
    view["blocked"] = None
    if not view["opened"] and not view["closed"] and member.participant_id is not None and \
            not delivery.may_open_now(s, case.status, member.participant_id, case.label_of(member.side or "")):
        view["blocked"] = "on hold"  # the page offers no "Open it now" that could not work
    if view["opened"] and not view["closed"]:
        try:
            if message.kind == "letter":
                view["text"] = delivery.open_message(s, svc, actor, message_id)
            else:
                view["transcript"] = delivery.transcript(s, svc, actor, message_id)
        except Conflict as exc:  # paused, or consent withdrawn since: say so instead of showing it
            view["blocked"] = exc.message
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
    return _shown_once(request, render(request, "me/inbox.html", principal=principal, m=view, participant=True,
                                       done=_done(request)))


async def ask_page(request: Request) -> Response:
    """Ask the facilitator to hold, return or destroy a message delivered to me."""
    principal = await signed_in(request)
    message_id = request.path_params["message_id"]
    form = await read_form(request) if request.method == "POST" else {}
    view = await run(request, _inbox_item, message_id, csrf=form.get("csrf_token"))
    if not view["may_ask"]:
        return go(f"/me/inbox/{message_id}")
    if request.method == "GET":
        return render(request, "me/ask.html", principal=principal, m=view, participant=True)
    kind, note = form.get("kind", ""), form.get("note", "")
    if kind not in REQUEST_KINDS or (kind == "hold" and view["opened"]):
        return render(request, "me/ask.html", status=400, principal=principal, m=view, participant=True,
                      note=note, error="Choose what you would like your facilitator to do.",
                      error_field=f"kind-{'return' if view['opened'] else 'hold'}")
    try:
        await run(request, requests.request, message_id, kind, note, csrf=form.get("csrf_token"))
    except BadInput as exc:
        return render(request, "me/ask.html", status=400, principal=principal, m=view, participant=True,
                      note=note, kind=kind, error=exc.message, error_field="note")
    return _go_done(request, f"/me/inbox/{message_id}", "asked")


# --- the participant's choices about the whole exchange ------------------------------------------


def _my_standing(s: Session, svc: Services, actor: Actor, case_id: str) -> dict[str, Any]:
    case, member = load_case(s, actor, case_id)
    if not permissions.may_write(member) or member.participant_id is None:
        raise NotFound()
    me = s.get(Participant, member.participant_id)
    assert me is not None
    view = for_participant(case, member.side, member.participant_role)
    view.update({"holding": me.holding_deliveries, "taking_part": current_consent(s, me.id, "take_part")})
    return view


async def holding_page(request: Request) -> Response:
    principal = await signed_in(request)
    case_id = request.path_params["case_id"]
    if request.method == "GET":
        case = await run(request, _my_standing, case_id)
        return render(request, "me/holding.html", principal=principal, case=case, participant=True)
    form = await read_form(request)
    holding = form.get("holding") == "yes"
    await run(request, cases.set_holding, case_id, holding, csrf=form.get("csrf_token"))
    return _go_done(request, "/me", "paused" if holding else "resumed")


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
    return _go_done(request, "/me", "left")


# --- the quick exit ------------------------------------------------------------------------------


async def exit_page(request: Request) -> Response:
    """The quick exit's beacon when words were typed since the last autosave (shuttle.js): keep
    them, then end the session, in that order and in one request (two beacons could arrive the
    other way round). Nothing stands in the way of leaving: the session ends even if the words
    could not be kept (the page is gone; nobody would read an error)."""
    form = await read_form(request)
    csrf, text = form.get("csrf_token"), form.get("text", "")
    try:
        if form.get("message_id"):
            await run(request, authoring.save_draft, form["message_id"], text, csrf=csrf)
        elif form.get("case_id") and text.strip():
            await run(request, authoring.start_draft, form["case_id"], text, csrf=csrf)
    except ShuttleError as exc:
        log.info("quick exit: the words could not be kept (%s)", exc.code)
    token = request.cookies.get(SESSION_COOKIE, "")
    await run(request, lambda s, svc, actor: accounts.logout(s, svc.settings, token, now=svc.now()),
              csrf=csrf)
    response = go("/login")
    clear_session_cookie(response)
    return response


ROUTES = [
    Route("/me", me_page),
    Route("/me/exit", exit_page, methods=["POST"]),
    Route("/me/cases/{case_id}/write", write_page, methods=["GET", "POST"]),
    Route("/me/cases/{case_id}/record", record_page, methods=["GET", "POST"]),
    Route("/me/cases/{case_id}/holding", holding_page, methods=["GET", "POST"]),
    Route("/me/cases/{case_id}/leave", leave_page, methods=["GET", "POST"]),
    Route("/me/messages/{message_id}", my_message_page, methods=["GET", "POST"]),
    Route("/me/messages/{message_id}/withdraw", withdraw_page),
    Route("/me/inbox/{message_id}", inbox_page, methods=["GET", "POST"]),
    Route("/me/inbox/{message_id}/ask", ask_page, methods=["GET", "POST"]),
]
