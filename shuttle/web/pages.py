"""Server-rendered pages: plain and correct. Every form posts back with its CSRF token, then redirects."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route
from starlette.templating import Jinja2Templates

from shuttle import permissions
from shuttle.access import load_message
from shuttle.accounts import service as accounts
from shuttle.accounts.service import IssuedSession, Principal
from shuttle.cases import service as cases
from shuttle.cases.views import case_view
from shuttle.errors import BadInput, Forbidden, NotAuthenticated, NotFound, ShuttleError
from shuttle.messages import authoring, delivery, queries, review
from shuttle.messages.diff import highlight, word_diff
from shuttle.messages.review import REJECTION_CODES
from shuttle.messages.text import describe, scan
from shuttle.messages.views import for_member
from shuttle.services import Actor, Services
from shuttle.web.cookies import clear_session_cookie, set_session_cookie
from shuttle.web.http import (
    PRE_COOKIE,
    SESSION_COOKIE,
    client_address,
    csrf_matches,
    current_principal,
    read_form,
    run,
    run_anonymous,
    services,
    to_int,
)

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))


def render(request: Request, name: str, status: int = 200, **context: Any) -> Response:
    svc = services(request)
    context.setdefault("principal", None)
    context.setdefault("quick_exit_url", svc.settings.quick_exit_url)
    return TEMPLATES.TemplateResponse(request, name, context, status_code=status)


def error_page(request: Request, status: int, message: str) -> Response:
    return render(request, "error.html", status=status, status_code=status, message=message)


def go(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


# --- sign-in -------------------------------------------------------------------------------------


def _anon_form(request: Request, name: str, **context: Any) -> Response:
    token = request.cookies.get(PRE_COOKIE) or secrets.token_urlsafe(24)
    # Participants sign in here too (and only they use invitations): the quick exit is there from the start.
    response = render(request, name, csrf_token=token, participant=True, **context)
    response.set_cookie(PRE_COOKIE, token, httponly=True, samesite="strict", path="/")
    return response


async def _anon_post(request: Request) -> dict[str, str]:
    form = await read_form(request)
    if not csrf_matches(request.cookies.get(PRE_COOKIE, ""), form.get("csrf_token")):
        raise Forbidden("The form has expired. Reload the page and try again.", code="csrf")
    return form


def _after_sign_in(request: Request, issued: IssuedSession) -> Response:
    target = {"totp": "/login/totp", "set_password": "/set-password"}.get(issued.stage, "/")
    response = go(target)
    set_session_cookie(response, services(request).settings, issued)
    return response


async def login_page(request: Request) -> Response:
    if request.method == "GET":
        return _anon_form(request, "login.html")
    form = await _anon_post(request)
    try:
        issued = await run_anonymous(request, lambda s, svc: accounts.login_password(
            s, svc.settings, username=form.get("username", ""), password=form.get("password", ""),
            client=client_address(request), user_agent=request.headers.get("user-agent", ""),
            passwords=svc.passwords, now=svc.now()))
    except ShuttleError as exc:
        return _anon_form(request, "login.html", error=exc.message, username=form.get("username", ""))
    return _after_sign_in(request, issued)


async def totp_page(request: Request) -> Response:
    if request.method == "GET":
        return _anon_form(request, "totp.html")
    form = await _anon_post(request)
    token = request.cookies.get(SESSION_COOKIE, "")
    try:
        issued = await run_anonymous(request, lambda s, svc: accounts.login_totp(
            s, svc.settings, token=token, code=form.get("code", "").strip(), client=client_address(request),
            now=svc.now()))
    except ShuttleError as exc:
        return _anon_form(request, "totp.html", error=exc.message)
    return _after_sign_in(request, issued)


async def invite_page(request: Request) -> Response:
    if request.method == "GET":
        return _anon_form(request, "invite.html")
    form = await _anon_post(request)
    try:
        issued = await run_anonymous(request, lambda s, svc: accounts.redeem_invitation(
            s, svc.settings, code=form.get("code", ""), client=client_address(request), now=svc.now()))
    except ShuttleError as exc:
        return _anon_form(request, "invite.html", error=exc.message)
    return _after_sign_in(request, issued)


async def set_password_page(request: Request) -> Response:
    if request.method == "GET":
        return _anon_form(request, "set_password.html")
    form = await _anon_post(request)
    if form.get("password") != form.get("confirm"):
        return _anon_form(request, "set_password.html", error="The two passwords are not the same.")
    token = request.cookies.get(SESSION_COOKIE, "")
    try:
        issued = await run_anonymous(request, lambda s, svc: accounts.set_password(
            s, svc.settings, token=token, new_password=form.get("password", ""), passwords=svc.passwords,
            now=svc.now()))
    except ShuttleError as exc:
        return _anon_form(request, "set_password.html", error=exc.message)
    return _after_sign_in(request, issued)


async def logout_page(request: Request) -> Response:
    form = await read_form(request)
    token = request.cookies.get(SESSION_COOKIE, "")
    await run(request, lambda s, svc, actor: accounts.logout(s, svc.settings, token), csrf=form.get("csrf_token"))
    response = go("/login")
    clear_session_cookie(response)
    return response


async def home(request: Request) -> Response:
    principal = await current_principal(request)
    if principal is None:
        return go("/login")
    return go({"facilitator": "/staff", "participant": "/me"}.get(principal.role, "/account"))


async def signed_in(request: Request) -> Principal:
    """The signed-in person; otherwise NotAuthenticated, which pages answer with the sign-in page."""
    principal = await current_principal(request)
    if principal is None:
        raise NotAuthenticated("Please sign in.")
    return principal


async def account_page(request: Request) -> Response:
    principal = await signed_in(request)
    return render(request, "account.html", principal=principal)


# --- participants --------------------------------------------------------------------------------


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


# --- facilitators --------------------------------------------------------------------------------


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


ROUTES = [
    Route("/", home),
    Route("/login", login_page, methods=["GET", "POST"]),
    Route("/login/totp", totp_page, methods=["GET", "POST"]),
    Route("/invite", invite_page, methods=["GET", "POST"]),
    Route("/set-password", set_password_page, methods=["GET", "POST"]),
    Route("/logout", logout_page, methods=["POST"]),
    Route("/account", account_page),
    Route("/me", me_page),
    Route("/me/cases/{case_id}/write", write_page, methods=["GET", "POST"]),
    Route("/me/cases/{case_id}/record", record_page, methods=["GET", "POST"]),
    Route("/me/cases/{case_id}/holding", holding_page, methods=["POST"]),
    Route("/me/cases/{case_id}/leave", leave_page, methods=["GET", "POST"]),
    Route("/me/messages/{message_id}", my_message_page, methods=["GET", "POST"]),
    Route("/me/inbox/{message_id}", inbox_page, methods=["GET", "POST"]),
    Route("/staff", staff_page),
    Route("/staff/cases/{case_id}", staff_case_page, methods=["GET", "POST"]),
    Route("/staff/messages/{message_id}", review_page, methods=["GET", "POST"]),
]
