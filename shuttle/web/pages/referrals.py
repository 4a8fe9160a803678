"""Referral pages: the public form at /refer (no account) and the coordinator's inbox.

The public form asks one thing per page (GOV.UK question pages). Nothing is stored before the
last page: the answers travel from page to page in hidden fields, each page checks them all
again, and CSRF is the pre-sign-in double-submit cookie. A filled honeypot field answers
exactly like success and stores nothing. The confirmation page shows the new referral's
reference (from a short-lived signed cookie) and nothing else.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from shuttle.errors import BadInput, Forbidden, NotFound, ShuttleError, TooManyRequests
from shuttle.i18n import N_
from shuttle.referrals import answers as questions
from shuttle.referrals import service, views
from shuttle.referrals.answers import FieldError
from shuttle.referrals.models import (
    CONTACT_METHODS,
    CONTACT_OUTCOMES,
    DECLINE_REASONS,
    STATUSES,
)
from shuttle.web.http import (
    PRE_COOKIE,
    client_address,
    csrf_matches,
    read_form,
    run,
    run_anonymous,
    services,
)
from shuttle.web.pages.common import go, render, signed_in

HONEYPOT = "website"  # a field people never see (hidden); software that fills every field fills it
DONE_COOKIE = "shuttle_referral"
DONE_SECONDS = 30 * 60
STEP_TITLES = {"who": N_("Who is making this referral?"), "referrer": N_("About you"), "person": N_("About the person"),
               "what": N_("What happened"), "contact": N_("How to contact"), "check": N_("Check your answers")}


# --- the public form -------------------------------------------------------------------------------


def _sign(request: Request, reference: str) -> str:
    key = services(request).settings.secret_key.encode()
    return hmac.new(key, f"referral-done\x00{reference}".encode(), hashlib.sha256).hexdigest()


def _public(request: Request, template: str, status: int = 200, **context: Any) -> Response:
    """A public page: the quick exit always (whoever may be signed in), and the form's CSRF cookie."""
    token = request.cookies.get(PRE_COOKIE) or secrets.token_urlsafe(24)
    svc = services(request)
    response = render(request, template, status=status, csrf_token=token, participant=True, honeypot=HONEYPOT,
                      hours=svc.settings.first_contact_working_hours, source_words=questions.SOURCE_WORDS,
                      max_chars=questions.MAX_CHARS, titles=STEP_TITLES, **context)
    response.set_cookie(PRE_COOKIE, token, httponly=True, samesite="strict", path="/",
                        secure=svc.settings.cookie_secure)
    return response


def _question(request: Request, step: str, answers: dict[str, str], errors: list[FieldError] | None = None, *,
              returning: bool = False, status: int = 200) -> Response:
    """One page of the form, with the answers of the other pages carried in hidden fields."""
    carried = {k: v for k, v in answers.items() if k not in questions.STEP_FIELDS[step]}
    if step == "check":
        carried = dict(answers)
    return _public(request, f"refer/{step}.html", status=status, step=step, answers=answers, carried=carried,
                   errors=errors or [], error_for={e.field: e.message for e in reversed(errors or [])},
                   returning=returning, is_self=questions.is_self(answers),
                   steps=questions.steps_for(answers))


async def refer_start(request: Request) -> Response:
    return _public(request, "refer/start.html")


async def refer_first(request: Request) -> Response:
    return _question(request, "who", {})


def _neighbour(answers: dict[str, str], step: str, by: int) -> str:
    steps = questions.steps_for(answers)
    index = steps.index(step) if step in steps else 0
    return steps[max(0, min(len(steps) - 1, index + by))]


async def refer_post(request: Request) -> Response:
    form = await read_form(request)
    if not csrf_matches(request.cookies.get(PRE_COOKIE, ""), form.get("csrf_token")):
        raise Forbidden(N_("The form has expired. Go back to the start and try again: nothing has been sent."),
                        code="csrf")
    if form.get(HONEYPOT):
        return _done(request, service.new_reference())  # looks like success; nothing is stored
    answers = questions.clean(form)
    step = form.get("step", "who") if form.get("step") in questions.STEPS else "who"
    action = form.get("action", "continue")
    returning = form.get("returning") == "check"
    if action == "back":
        return _question(request, _neighbour(answers, step, -1), answers, returning=returning)
    if action.startswith("change-") and action[7:] in questions.steps_for(answers):
        return _question(request, action[7:], answers, returning=True)
    if action == "send":
        return await _send(request, answers)
    problem = questions.first_problem(answers, through=step)
    if problem is not None:
        return _question(request, problem[0], answers, problem[1], returning=returning, status=400)
    if returning:
        later = questions.first_problem(answers)  # e.g. now an organisation: its own page is still to answer
        return _question(request, later[0] if later else "check", answers, returning=True)
    return _question(request, _neighbour(answers, step, +1), answers)


async def _send(request: Request, answers: dict[str, str]) -> Response:
    problem = questions.first_problem(answers)
    if problem is not None:
        return _question(request, problem[0], answers, problem[1], returning=True, status=400)
    try:
        referral = await run_anonymous(request, lambda s, svc: service.submit(s, svc, answers,
                                                                              client=client_address(request)))
    except (TooManyRequests, BadInput) as exc:
        return _question(request, "check", answers, [FieldError("send", exc.message)], status=exc.status)
    return _done(request, referral.reference)


def _done(request: Request, reference: str) -> Response:
    response = go("/refer/done")
    response.set_cookie(DONE_COOKIE, f"{reference}.{_sign(request, reference)}", max_age=DONE_SECONDS,
                        httponly=True, samesite="strict", path="/refer",
                        secure=services(request).settings.cookie_secure)
    return response


async def refer_done(request: Request) -> Response:
    reference, _, signature = request.cookies.get(DONE_COOKIE, "").partition(".")
    if not reference or not hmac.compare_digest(signature, _sign(request, reference)):
        return go("/refer")
    return _public(request, "refer/done.html", reference=reference)


# --- the coordinator's inbox -----------------------------------------------------------------------


async def _coordinator(request: Request) -> Any:
    principal = await signed_in(request)
    if principal.role != "coordinator":
        raise NotFound()
    return principal


async def inbox_page(request: Request) -> Response:
    principal = await _coordinator(request)
    wanted = request.query_params.get("status") or None
    if wanted not in (None, *STATUSES):
        raise BadInput(N_("Show referrals that are new, contacted, accepted or declined."))
    items = await run(request, views.inbox, wanted)
    return render(request, "coordinator/referrals.html", principal=principal, items=items, wanted=wanted,
                  statuses=STATUSES, hours=services(request).settings.first_contact_working_hours,
                  waiting=sum(1 for i in items if i["status"] == "new"),
                  overdue=sum(1 for i in items if i["clock"] and i["clock"]["state"] == "overdue"))


def _when(raw: str) -> datetime | None:
    """A contact attempt's time from the form (datetime-local, in UTC); empty means now."""
    if not raw.strip():
        return None
    try:
        value = datetime.fromisoformat(raw.strip())
    except ValueError:
        raise BadInput(N_("Enter when as a date and time, like 2026-11-17 14:30.")) from None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _version(form: dict[str, str]) -> int | None:
    raw = form.get("version", "")
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 10 else None


def _action(form: dict[str, str]) -> tuple[str, Any]:
    """Which form was sent, and the use case call for it."""
    action = form.get("action", "")
    if action == "contact":
        return "contact", lambda s, svc, actor, rid: service.record_contact(
            s, svc, actor, rid, method=form.get("method", ""), outcome=form.get("outcome", ""),
            at=_when(form.get("at", "")), note=form.get("note", ""))
    if action == "decline":
        return "decline", lambda s, svc, actor, rid: service.decline(
            s, svc, actor, rid, reason=form.get("reason", ""), note=form.get("decline_note", ""),
            expected_version=_version(form))
    if action == "accept":
        chosen = [form.get("facilitator_1", ""), form.get("facilitator_2", "")]
        return "accept", lambda s, svc, actor, rid: service.accept(
            s, svc, actor, rid, facilitators=chosen, expected_version=_version(form))
    raise BadInput(N_("Choose what to do: record a contact attempt, decline or accept."))


async def referral_page(request: Request) -> Response:
    principal = await _coordinator(request)
    referral_id = request.path_params["referral_id"]
    error, kept, which, status, csrf = None, {}, None, 200, None
    if request.method == "POST":
        form = await read_form(request)
        csrf = form.get("csrf_token", "")
        try:
            which, call = _action(form)
            await run(request, lambda s, svc, actor: call(s, svc, actor, referral_id), csrf=form.get("csrf_token"))
            return go(f"/coordinator/referrals/{referral_id}#{which}")
        except NotFound:
            raise
        except ShuttleError as exc:
            if exc.code == "csrf":
                raise
            error, kept, status = exc.message, form, exc.status
            which = which or "actions"
    view = await run(request, views.referral, referral_id, csrf=csrf)  # a refused form: shown again, words kept
    return render(request, "coordinator/referral.html", status=status, principal=principal, r=view, error=error,
                  error_form=which, kept=kept, methods=CONTACT_METHODS, outcomes=CONTACT_OUTCOMES,
                  reasons=DECLINE_REASONS, method_words=views.METHOD_WORDS, outcome_words=views.OUTCOME_WORDS,
                  decline_words=views.DECLINE_WORDS, hours=services(request).settings.first_contact_working_hours)


ROUTES = [
    Route("/refer", refer_start),
    Route("/refer", refer_post, methods=["POST"]),
    Route("/refer/who", refer_first),
    Route("/refer/done", refer_done),
    Route("/coordinator/referrals", inbox_page),
    Route("/coordinator/referrals/{referral_id}", referral_page, methods=["GET", "POST"]),
]
