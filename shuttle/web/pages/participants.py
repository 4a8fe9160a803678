"""The participants' pages: home, writing, recording, their messages, what is waiting for them.

One thing per page, in plain words (the GOV.UK Design System is the model): a clear
heading, one main action, a Back link, an error summary when something needs fixing. Each
page shows only the buttons the message's state allows (the views' `actions`); the use
cases refuse anything else anyway. Every page works without JavaScript; with it, drafts
save themselves, flags appear as the author types, and recordings are made in the browser.
"""

from __future__ import annotations

import logging

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from shuttle.accounts import service as accounts
from shuttle.accounts.service import Principal
from shuttle.cases import service as cases
from shuttle.errors import BadInput, Conflict, ShuttleError, TooLarge
from shuttle.i18n import N_
from shuttle.messages import (
    author_captions,
    authoring,
    captions,
    delivery,
    drafting,
    participant_views,
    replies,
    requests,
)
from shuttle.messages.drafting import flags_key
from shuttle.messages.request_models import REQUEST_KINDS
from shuttle.web.cookies import clear_session_cookie
from shuttle.web.http import SESSION_COOKIE, read_form, run, services, to_int
from shuttle.web.pages.common import go, render, signed_in, too_long

log = logging.getLogger(__name__)

#: One-off confirmations after a form, chosen by a fixed key (nothing from the address is echoed).
DONE = {
    "saved": N_("Your draft is saved."),
    "sent": N_("Sent to your facilitator. They will read it and let you know what happens next."),
    "withdrawn": N_("You withdrew it. It will not be passed on."),
    "accepted": N_("You accepted the changes. Your facilitator has been told."),
    "declined": N_("You turned down the changes. Your text is back as a draft for you to change."),
    "uploaded": N_("It is uploaded. Add the words if you wish, then send it to your facilitator."),
    "paused": N_("Deliveries to you are paused. Nothing new will be delivered until you resume."),
    "resumed": N_("Deliveries to you are on again."),
    "left": N_("You have stopped taking part. Your facilitator has been told."),
    "asked": N_("Your facilitator has been told. They will be in touch."),
}


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


async def me_page(request: Request) -> Response:
    principal = await signed_in(request)
    data = await run(request, participant_views.participant_home)
    return _shown_once(request, render(request, "me/home.html", principal=principal, cases=data, participant=True,
                                       done=_done(request)))


# --- writing and recording -----------------------------------------------------------------------


def _reply_to(request: Request, form: dict[str, str] | None = None) -> str | None:
    """The message a new one answers: `?reply_to=` on the page, the form's `reply_to` once posted."""
    raw = form.get("reply_to") if form is not None else request.query_params.get("reply_to")
    return raw or None


async def write_page(request: Request) -> Response:
    principal = await signed_in(request)
    case_id = request.path_params["case_id"]
    if request.method == "GET":
        case = await run(request, participant_views.case_for_writing, case_id, _reply_to(request))
        return render(request, "me/write.html", principal=principal, case=case, text="", participant=True)
    form = await read_form(request)
    case = await run(request, participant_views.case_for_writing, case_id, _reply_to(request, form),
                     csrf=form.get("csrf_token"))
    text = form.get("text", "")
    if not text.strip():
        return render(request, "me/write.html", status=400, principal=principal, case=case, text=text,
                      participant=True, error=N_("Write something first. You can save a draft of a few words and "
                                               "come back to it later."), error_field="text")
    try:
        if case.reply_to is not None:
            message = await run(request, replies.start_reply, case_id, case.reply_to, text,
                                csrf=form.get("csrf_token"))
        else:
            message = await run(request, authoring.start_draft, case_id, text, csrf=form.get("csrf_token"))
    except KEEP_WORDS as exc:
        return render(request, "me/write.html", status=exc.status, principal=principal, case=case, text=text,
                      participant=True, error=_words_kept_because(request, exc, text), error_field="text")
    return go(f"/me/messages/{message.id}")


async def record_page(request: Request) -> Response:
    principal = await signed_in(request)
    case_id = request.path_params["case_id"]
    if request.method == "GET":
        case = await run(request, participant_views.case_for_writing, case_id, _reply_to(request))
        return render(request, "me/record.html", principal=principal, case=case, participant=True)
    form = await read_form(request)
    case = await run(request, participant_views.case_for_writing, case_id, _reply_to(request, form),
                     csrf=form.get("csrf_token"))
    if form.get("kind") not in authoring.MEDIA_KINDS:
        return render(request, "me/record.html", status=400, principal=principal, case=case, participant=True,
                      error=N_("Choose what you would like to send."), error_field="kind-video")
    if case.reply_to is not None:
        message = await run(request, replies.start_media_reply, case_id, case.reply_to, form["kind"],
                            csrf=form.get("csrf_token"))
    else:
        message = await run(request, authoring.start_media, case_id, form["kind"], csrf=form.get("csrf_token"))
    return go(f"/me/messages/{message.id}")


# --- the author's message ------------------------------------------------------------------------


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
        view = await run(request, participant_views.my_message, message_id)
        return _shown_once(request, render(request, "me/message.html", principal=principal, m=view,
                                           participant=True, done=_done(request),
                                           check=request.query_params.get("check") == "1"))
    form = await read_form(request)
    action, csrf = form.get("action", ""), form.get("csrf_token")
    version = to_int(form.get("version", ""))
    if action == "captions":
        return await _send_timed(request, principal, message_id, form, version)
    if action not in ("save", "check", *AUTHOR_FORM_ACTIONS):
        raise BadInput(N_("Unknown action."))
    text = form.get("text") if action in ("save", "check", "submit") else None
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
        if action == "check":  # saved: now "check your message" before sending it
            return go(f"/me/messages/{message_id}/check")
        use_case, done = AUTHOR_FORM_ACTIONS[action]
        await run(request, use_case, message_id, expected_version=version, csrf=csrf)
    except KEEP_WORDS as exc:
        if text is None:
            raise
        view = await run(request, participant_views.my_message, message_id, csrf=csrf)
        view = view.with_draft(text)  # the words as they were typed, whatever was (or was not) saved
        return render(request, "me/message.html", status=exc.status, principal=principal, m=view, participant=True,
                      kept=text, error=_words_kept_because(request, exc, text), error_field="text")
    return _go_done(request, f"/me/messages/{message_id}", done)


async def _send_timed(request: Request, principal: Principal, message_id: str, form: dict[str, str],
                      version: int | None) -> Response:
    """The author's cue editor: its lines and times as WebVTT (`captions.from_form`, as the
    facilitators' editor), sent again with the same recording (`author_captions.send_timed`).
    Refused times come back in the form as they were typed, with the reason."""
    csrf = form.get("csrf_token")
    try:
        await run(request, author_captions.send_timed, message_id, captions.from_form(form),
                  expected_version=version, csrf=csrf)
    except (BadInput, Conflict) as exc:
        view = await run(request, participant_views.my_message, message_id, csrf=csrf)
        return render(request, "me/message.html", status=exc.status, principal=principal,
                      m=view.with_cue_starts(form), participant=True, cue_error=exc.message)
    return _go_done(request, f"/me/messages/{message_id}", "sent")


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


async def check_page(request: Request) -> Response:
    """"Check your message" (GOV.UK's check-answers pattern): exactly what the facilitator will
    receive, the flags its author may see, "Change" back to the draft, and "Send to my facilitator".
    Sending posts the flags' key the page showed: if the draft changed since (another window), the
    page is shown again instead of sending words its author has not checked."""
    principal = await signed_in(request)
    message_id = request.path_params["message_id"]
    form = await read_form(request) if request.method == "POST" else {}
    view = await run(request, participant_views.check_message, message_id, csrf=form.get("csrf_token"))
    if not view.may_send:
        return go(f"/me/messages/{message_id}")
    if request.method == "GET":
        return render(request, "me/check.html", principal=principal, c=view, m=view.m, participant=True)
    if form.get("version") != str(view.m.version) or form.get("flags_key") != view.m.flags_key:
        return render(request, "me/check.html", status=409, principal=principal, c=view, m=view.m, participant=True,
                      error=N_("Your draft was changed since this page was shown (in another window?). Check it "
                               "again below before you send it."), error_field="checked")
    try:
        await run(request, authoring.submit, message_id, expected_version=view.m.version, csrf=form.get("csrf_token"))
    except Conflict as exc:
        return render(request, "me/check.html", status=exc.status, principal=principal, c=view, m=view.m,
                      participant=True, error=exc.message, error_field="checked")
    return _go_done(request, f"/me/messages/{message_id}", "sent")


async def withdraw_page(request: Request) -> Response:
    """Are you sure? Withdrawing cannot be undone."""
    principal = await signed_in(request)
    view = await run(request, participant_views.my_message, request.path_params["message_id"])
    if "withdraw" not in view.actions:
        return go(f"/me/messages/{view.id}")
    return render(request, "me/withdraw.html", principal=principal, m=view, participant=True)


# --- receiving -----------------------------------------------------------------------------------


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
    view = await run(request, participant_views.inbox_item, message_id)
    return _shown_once(request, render(request, "me/inbox.html", principal=principal, m=view, participant=True,
                                       done=_done(request)))


async def ask_page(request: Request) -> Response:
    """Ask the facilitator to hold, return or destroy a message delivered to me."""
    principal = await signed_in(request)
    message_id = request.path_params["message_id"]
    form = await read_form(request) if request.method == "POST" else {}
    view = await run(request, participant_views.inbox_item, message_id, csrf=form.get("csrf_token"))
    if not view.may_ask:
        return go(f"/me/inbox/{message_id}")
    if request.method == "GET":
        return render(request, "me/ask.html", principal=principal, m=view, participant=True)
    kind, note = form.get("kind", ""), form.get("note", "")
    if kind not in REQUEST_KINDS or (kind == "hold" and view.opened):
        return render(request, "me/ask.html", status=400, principal=principal, m=view, participant=True,
                      note=note, error=N_("Choose what you would like your facilitator to do."),
                      error_field=f"kind-{'return' if view.opened else 'hold'}")
    try:
        await run(request, requests.request, message_id, kind, note, csrf=form.get("csrf_token"))
    except BadInput as exc:
        return render(request, "me/ask.html", status=400, principal=principal, m=view, participant=True,
                      note=note, kind=kind, error=exc.message, error_field="note")
    return _go_done(request, f"/me/inbox/{message_id}", "asked")


# --- the participant's choices about the whole exchange ------------------------------------------


async def holding_page(request: Request) -> Response:
    principal = await signed_in(request)
    case_id = request.path_params["case_id"]
    if request.method == "GET":
        case = await run(request, participant_views.my_standing, case_id)
        return render(request, "me/holding.html", principal=principal, case=case, participant=True)
    form = await read_form(request)
    holding = form.get("holding") == "yes"
    await run(request, cases.set_holding, case_id, holding, csrf=form.get("csrf_token"))
    return _go_done(request, "/me", "paused" if holding else "resumed")


async def leave_page(request: Request) -> Response:
    principal = await signed_in(request)
    case_id = request.path_params["case_id"]
    if request.method == "GET":
        case = await run(request, participant_views.case_to_leave, case_id)
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
        elif form.get("case_id") and text.strip() and form.get("reply_to"):
            await run(request, replies.start_reply, form["case_id"], form["reply_to"], text, csrf=csrf)
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
    Route("/me/messages/{message_id}/check", check_page, methods=["GET", "POST"]),
    Route("/me/inbox/{message_id}", inbox_page, methods=["GET", "POST"]),
    Route("/me/inbox/{message_id}/ask", ask_page, methods=["GET", "POST"]),
]
