"""The facilitators' pages: the dashboard (review queue and cases), the case page, the review page.

Every form posts back to its page with the CSRF token and the row version it was shown, then
redirects. Buttons follow the state machine (the views' `actions`); the use cases refuse
anything else anyway.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl

from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import Response

from shuttle.accounts import service as accounts
from shuttle.agreements import service as agreements
from shuttle.agreements import views as agreement_views
from shuttle.cases import participation
from shuttle.cases import service as cases
from shuttle.cases.workspace import case_workspace
from shuttle.errors import BadInput, Conflict, NotFound, ShuttleError
from shuttle.i18n import N_, Sentence
from shuttle.messages import approval_view, captions, requests, review
from shuttle.messages import edits as media_edits
from shuttle.messages.numbering import KIND_NAMES
from shuttle.messages.queries import case_message_names
from shuttle.messages.review import REJECTION_CODES
from shuttle.messages.review_view import review_view
from shuttle.messages.review_view import side_by_side as _side_by_side  # noqa: F401 (tests/web/test_staff_diff.py)
from shuttle.messages.staff_dashboard import Dashboard, QueueFilter, dashboard, neighbour
from shuttle.services import Actor, Services
from shuttle.web.http import read_form, run, to_int
from shuttle.web.pages import flash
from shuttle.web.pages.common import go, render, signed_in, signed_in_and_run, view_fields

KIND_WORDS = KIND_NAMES
#: Where a form may send the facilitator back to after it is done (never another site).
RETURN_TO = re.compile(r"^/staff(/(cases|messages)/[0-9a-f]{32})?(#[a-z0-9-]+)?$")
MAX_WATCHLIST_CHARS = 30_000


def _return_to(form: dict[str, str], default: str) -> str:
    wanted = form.get("return_to", "")
    return wanted if RETURN_TO.match(wanted) else default


# --- confirmations (shuttle.web.pages.flash): shown once by the next staff page ------------------
_page = flash.page
_done = flash.done


# --- dashboard -----------------------------------------------------------------------------------


def _with_query(url: str, query: str) -> str:
    return f"{url}?{query}" if query else url


def _board(s: Session, svc: Services, actor: Actor, filters: QueueFilter
           ) -> tuple[Dashboard, list[agreement_views.DueItem]] | None:
    """A facilitator's dashboard and the agreement items due (issue 11); None for other roles."""
    if actor.role != "facilitator":
        return None
    return dashboard(s, svc, actor, filters), agreement_views.due_items(s, svc, actor)


async def staff_page(request: Request) -> Response:
    filters = QueueFilter.from_query(request.query_params)
    step = {"next": 1, "previous": -1}.get(request.query_params.get("go", ""))
    if step is not None:
        return await _neighbour_page(request, filters, step)
    principal, found = await signed_in_and_run(request, _board, filters)
    if found is None:
        return go("/")  # each role's own start page
    board, agreement_due = found
    return _page(request, "staff/home.html", principal=principal, agreement_due=agreement_due,
                 **view_fields(board))


async def _neighbour_page(request: Request, filters: QueueFilter, step: int) -> Response:
    """"n", "j", "k" on the review page: the neighbour in the filtered queue (reads only)."""
    principal = await signed_in(request)
    if principal.role != "facilitator":
        return go("/")
    found = await run(request, neighbour, filters, request.query_params.get("from", ""), step)
    if found is None:
        return _done(request, _with_query("/staff", filters.query) + "#queue",
                     N_("Nothing else in the queue matches your filters.") if filters.active
                     else N_("Nothing else in the queue."))
    return go(_with_query(f"/staff/messages/{found.message_id}", filters.query))


# --- case page -----------------------------------------------------------------------------------


def _yes_no(form: dict[str, str], name: str) -> bool:
    value = form.get(name)
    if value not in ("yes", "no"):
        raise BadInput(Sentence(N_("Choose yes or no for '%(name)s'."), name=name.replace("_", " ")))
    return value == "yes"


def _settings_from(form: dict[str, str]) -> dict[str, Any]:
    approvals = to_int(form.get("approvals_required", ""))
    if approvals not in (1, 2):
        raise BadInput(N_("Approvals needed is 1 or 2."))
    return {
        "label_harmed": form.get("label_harmed", ""),
        "label_responsible": form.get("label_responsible", ""),
        "initiator": form.get("initiator", ""),
        "responsible_may_reply": _yes_no(form, "responsible_may_reply"),
        "approvals_required": approvals,
        "author_must_accept_edits": _yes_no(form, "author_must_accept_edits"),
        "read_receipts_allowed": _yes_no(form, "read_receipts_allowed"),
    }


def _watchlist_from(form: dict[str, str]) -> list[str]:
    raw = form.get("watchlist", "")
    if len(raw) > MAX_WATCHLIST_CHARS:
        raise BadInput(N_("The watch list is too long."))
    return list(dict.fromkeys(line.strip() for line in raw.splitlines() if line.strip()))


def _set_status(form: dict[str, str]) -> Callable[..., Any]:
    status = form.get("status", "")

    def act(s: Session, svc: Services, actor: Actor, case_id: str) -> Any:
        if status in ("closing", "closed") and form.get("confirm") != "yes":
            raise BadInput(N_("Closing a case cannot be undone: tick the box to confirm, then close it."))
        return agreements.move_case(s, svc, actor, case_id, status, expected_version=to_int(form.get("version", "")),
                                    reason=form.get("reason", ""))

    return act


CaseAction = Callable[[dict[str, str]], Callable[..., Any]]
CASE_FORM_ACTIONS: dict[str, CaseAction] = {
    "status": _set_status,
    "consent": lambda f: lambda s, svc, actor, case_id: cases.record_consent(
        s, svc, actor, case_id, f.get("participant_id", ""), kind=f.get("kind", ""), granted=f.get("granted") == "yes"),
    "assessment": lambda f: lambda s, svc, actor, case_id: cases.record_assessment(
        s, svc, actor, case_id, f.get("participant_id", ""), outcome=f.get("outcome", "")),
    "settings": lambda f: lambda s, svc, actor, case_id: cases.update_settings(
        s, svc, actor, case_id, _settings_from(f), expected_version=to_int(f.get("version", ""))),
    "watchlist": lambda f: lambda s, svc, actor, case_id: cases.update_settings(
        s, svc, actor, case_id, {"watchlist": _watchlist_from(f)}, expected_version=to_int(f.get("version", ""))),
    "handle-request": lambda f: lambda s, svc, actor, case_id: _handle_request(s, svc, actor, case_id, f),
    "invitation": lambda f: lambda s, svc, actor, case_id: accounts.invite_participant(
        s, svc, actor, case_id, f.get("participant_id", "")),
}


#: What each case form did, in the confirmation shown on the next page.
CASE_DONE = {"status": N_("Case status changed."), "consent": N_("Consent recorded."),
             "assessment": N_("Assessment recorded."), "settings": N_("Settings saved."),
             "watchlist": N_("Watch list saved."), "handle-request": N_("Your answer to the request is recorded."),
             "invitation": N_("Invitation made.")}


def _handle_request(s: Session, svc: Services, actor: Actor, case_id: str, form: dict[str, str]) -> None:
    wanted = form.get("request_id", "")
    if wanted not in {r["id"] for r in requests.open_requests(s, svc, actor, case_id)}:
        raise NotFound()  # not this case's, or answered already: as if missing
    requests.handle(s, svc, actor, wanted, form.get("outcome", ""), form.get("note", ""))


async def staff_case_page(request: Request) -> Response:
    case_id = request.path_params["case_id"]
    if request.method == "POST":
        principal = await signed_in(request)
        form = await read_form(request)
        if form.get("action") not in CASE_FORM_ACTIONS:
            raise BadInput(N_("Unknown action."))
        act = CASE_FORM_ACTIONS[form["action"]](form)
        done = await run(request, act, case_id, csrf=form.get("csrf_token"))
        if isinstance(done, accounts.IssuedInvitation):
            # Shown once, in the answer to this POST: never stored, never in a URL, no GET that writes.
            page = await run(request, case_workspace, case_id, csrf=form.get("csrf_token"))
            letter = await run(request, participation.invitation_letter, case_id, done, csrf=form.get("csrf_token"))
            return render(request, "staff/case.html", principal=principal, invitation=done, letter=letter,
                          **view_fields(page))
        return _done(request, _return_to(form, f"/staff/cases/{case_id}"), CASE_DONE[form["action"]])
    # ?timeline=all: the whole timeline; any other value, or none, its newest entries (never an error)
    whole = request.query_params.get("timeline") == "all"
    principal, page = await signed_in_and_run(request, case_workspace, case_id, whole_timeline=whole)
    return _page(request, "staff/case.html", principal=principal, **view_fields(page))


# --- review page ---------------------------------------------------------------------------------


def _release_time(form: dict[str, str]) -> datetime:
    """A datetime-local value ('2026-05-01T14:30') in the browser's time zone when staff.js sent
    its offset (minutes, as Date.getTimezoneOffset gives it), else in UTC."""
    raw = form.get("release_at", "").strip()
    try:
        local = datetime.strptime(raw[:16], "%Y-%m-%dT%H:%M")
    except ValueError:
        raise BadInput(N_("Give the release date and time, e.g. 2026-05-01 14:30.")) from None
    offset = to_int(form.get("tz_offset", "").strip() or "0")
    if offset is None or abs(offset) > 14 * 60:
        raise BadInput(N_("The time zone offset is not valid."))
    try:
        return (local + timedelta(minutes=offset)).replace(tzinfo=UTC)
    except OverflowError:  # e.g. 9999-12-31 23:59 east of UTC is after the last representable time
        raise BadInput(N_("The release time is out of range: give a date between the years 0002 and 9998.")) from None


def _take_over(form: dict[str, str]) -> bool:
    return form.get("take_over") == "yes"


# form -> (use case, its positional arguments after message_id, its keyword arguments)
ReviewAction = Callable[[dict[str, str]], tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any]]]
REVIEW_FORM_ACTIONS: dict[str, ReviewAction] = {
    "edit-media": lambda f: (review.propose_media_edit, (),
                             {"edits": media_edits.from_form(f), "note": f.get("note", "")}),
    "claim": lambda f: (review.claim, (), {"take_over": _take_over(f)}),
    "unclaim": lambda f: (review.unclaim, (), {}),
    "request-changes": lambda f: (review.request_changes, (), {"note": f.get("note", "")}),
    "edit": lambda f: (review.propose_edit, (), {"text": f.get("text", ""), "note": f.get("note", "")}),
    "edit-transcript": lambda f: (review.propose_transcript_edit, (),
                                  {"text": f.get("text", ""), "note": f.get("note", "")}),
    "edit-captions": lambda f: (review.propose_transcript_edit, (),
                                {"text": captions.from_form(f), "note": f.get("note", "")}),
    "reject": lambda f: (review.reject, (), {"code": f.get("code", ""), "note": f.get("note", "")}),
    "retry": lambda f: (review.retry_processing, (), {}),
    "recall": lambda f: (review.recall, (), {"reason": f.get("reason", "")}),
    "incident": lambda f: (review.record_incident, (), {"note": f.get("note", "")}),
    "schedule": lambda f: (review.schedule_release, (_release_time(f),), {}),
    "unschedule": lambda f: (review.schedule_release, (None,), {}),
}


#: What each review form did, in the confirmation shown on the next page.
REVIEW_DONE = {"edit-media": N_("Edit sent to be rendered."), "claim": N_("Claimed."),
               "unclaim": N_("Given back to the queue."), "request-changes": N_("Changes requested."),
               "edit": N_("Edit proposed."), "edit-transcript": N_("Transcript edit proposed."),
               "edit-captions": N_("Captions proposed."), "reject": N_("Rejected."),
               "retry": N_("Processing started again."), "recall": N_("Called back."),
               "incident": N_("Incident recorded."), "schedule": N_("Delivery time saved."),
               "unschedule": N_("Scheduled time cleared.")}


def _filters_in(form: dict[str, str]) -> QueueFilter:
    """The queue filter a form passed along (hidden field 'queue', a query string)."""
    return QueueFilter.from_query(dict(parse_qsl(form.get("queue", ""))[:16]))


async def _then_next(request: Request, message_id: str, filters: QueueFilter, done: str, csrf: str | None) -> Response:
    """After a decision: to the next message of the (filtered) queue, saying what was done and
    what comes next ("Approved: Letter 3 in RJ-2026-0001. Next: Recording from Sam, case …")."""
    def what(s: Session, svc: Services, actor: Actor) -> tuple[str, Any]:
        message, case = review.reviewer_message(s, actor, message_id)
        name = case_message_names(s, case.id).get(message.id, KIND_WORDS.get(message.kind, N_("Message")))
        return Sentence(N_("%(name)s in %(reference)s"), name=Sentence(name), reference=case.reference), \
            neighbour(s, svc, actor, filters, message_id)

    said, found = await run(request, what, csrf=csrf)
    if found is None:
        rest = Sentence(N_("Nothing else in the queue matches your filters.") if filters.active
                        else N_("Nothing else in the queue waits for your review."))
        return _done(request, _with_query("/staff", filters.query) + "#queue",
                     Sentence(N_("%(done)s: %(said)s. %(rest)s"), done=Sentence(done), said=said, rest=rest))
    return _done(request, _with_query(f"/staff/messages/{found.message_id}", filters.query),
                 Sentence(N_("%(done)s: %(said)s. Next: %(next)s."), done=Sentence(done), said=said,
                          next=found.words))


async def review_page(request: Request) -> Response:
    principal = await signed_in(request)
    message_id = request.path_params["message_id"]
    if request.method == "POST":
        form = await read_form(request)
        if form.get("action") not in REVIEW_FORM_ACTIONS:
            raise BadInput(N_("Unknown action."))
        chosen = REVIEW_FORM_ACTIONS[form["action"]]
        filters = _filters_in(form)

        def act(s: Session, svc: Services, actor: Actor) -> Any:
            use_case, args, kwargs = chosen(form)  # read the form only once signed in and the CSRF token checked
            return use_case(s, svc, actor, message_id, *args, expected_version=to_int(form.get("version", "")),
                            **kwargs)

        await run(request, act, csrf=form.get("csrf_token"))
        if form.get("then") == "next" and form["action"] == "request-changes":
            return await _then_next(request, message_id, filters, N_("Changes requested"), form.get("csrf_token"))
        default = _with_query(f"/staff/messages/{message_id}", filters.query)
        return _done(request, _return_to(form, default),
                     REVIEW_DONE[form["action"]])
    query = request.query_params
    compare = (to_int(query.get("from", "")), to_int(query.get("to", "")))
    filters = QueueFilter.from_query({k: v for k, v in query.items() if k not in ("from", "to")})
    view = await run(request, review_view, message_id, compare)
    return _page(request, "staff/review.html", principal=principal, m=view, rejection_codes=REJECTION_CODES,
                 kind_words=KIND_WORDS, queue=filters.query)


# --- approving: the sheet that asks for confirmation, then what comes next ------------------------


def _reasons(form: dict[str, str]) -> dict[str, str]:
    """The sheet's reasons for keeping each flag: fields named keep-<flag id>."""
    return {name.removeprefix("keep-"): value for name, value in form.items() if name.startswith("keep-")}


async def approve_page(request: Request) -> Response:
    """GET: the approval sheet. POST: approve with the flag resolutions; a refusal shows the
    sheet again with what was typed kept and the open flags named."""
    principal = await signed_in(request)
    message_id = request.path_params["message_id"]
    typed: dict[str, str] = {}
    error: ShuttleError | None = None
    csrf: str | None = None
    then, queue = request.query_params.get("then", ""), QueueFilter.from_query(
        {k: v for k, v in request.query_params.items() if k != "then"})
    if request.method == "POST":
        form = await read_form(request)
        typed, csrf = _reasons(form), form.get("csrf_token", "")
        then, queue = form.get("then", ""), _filters_in(form)
        try:
            await run(request, review.approve, message_id, resolutions=typed,
                      expected_version=to_int(form.get("version", "")), csrf=csrf)
            if then == "next":  # approve and next: the flags were resolved on this sheet all the same
                return await _then_next(request, message_id, queue, "Approved", csrf)
            return go(f"/staff/messages/{message_id}/approved")
        except (BadInput, Conflict) as exc:
            error = exc
    sheet = await run(request, approval_view.approval_sheet, message_id, csrf=csrf)
    missing = set(error.details.get("unresolved_ids", [])) if error else set()
    return _page(request, "staff/approve.html", status=error.status if error else 200, principal=principal,
                 sheet=sheet, typed=typed, error=error.message if error else None, missing=missing,
                 then="next" if then == "next" else "", queue=queue.query)


async def approved_page(request: Request) -> Response:
    principal = await signed_in(request)
    after = await run(request, approval_view.after_approval, request.path_params["message_id"])
    return _page(request, "staff/approved.html", principal=principal, after=after)
