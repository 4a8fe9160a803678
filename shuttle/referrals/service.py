"""Use cases for referrals: receiving one (public), contact attempts, declining, accepting into a
case, and escalating the first-contact clock. None of them commits (the caller's unit of work does).

Anything a person wrote and every contact detail is stored encrypted (`shuttle.blobs`); rows and
audit events carry only codes, times and ids. Referrals are the coordinator's: anyone else gets a
404, as for a missing one (invariant 7).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import secrets
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from shuttle import blobs
from shuttle.accounts.models import Account
from shuttle.audit import log as audit
from shuttle.audit.models import AuditEvent
from shuttle.cases import service as cases
from shuttle.cases.models import Case
from shuttle.errors import BadInput, Conflict, NotFound, TooManyRequests
from shuttle.i18n import N_, Sentence
from shuttle.referrals import answers as form
from shuttle.referrals import clock
from shuttle.referrals.models import (
    CONTACT_METHODS,
    CONTACT_OUTCOMES,
    DECLINE_REASONS,
    CaseCounter,
    ContactAttempt,
    Referral,
    ReferralSent,
)
from shuttle.services import Actor, Services

#: Letters and digits that cannot be mistaken for each other when read out or written down.
REFERENCE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"
CASE_PREFIX = "RJ"
ESCALATE = "referral.escalate"
MAX_NOTE_CHARS = 2000
#: A referral's status said in a refusal: the word itself in English ("already accepted"), translated where shown.
_STATUS = {s: Sentence(s) for s in (N_("new"), N_("contacted"), N_("accepted"), N_("declined"))}
#: Which status a referral may move to from each status (contacted: the first "reached" attempt).
MOVES = {"new": {"contacted", "accepted", "declined"}, "contacted": {"accepted", "declined"},
         "accepted": set(), "declined": set()}
TOO_MANY = N_("Too many referrals have been sent from this connection in the last hour. Please try again in "
              "%(wait)s. Nothing has been sent yet: your answers are kept below.")


def new_reference() -> str:
    """REF-7K3Q-9MPD: random (about 39 bits), so it says nothing about when or how many."""
    chars = "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(8))
    return f"REF-{chars[:4]}-{chars[4:]}"


# --- receiving a referral (no account) -------------------------------------------------------------


def _address_key(svc: Services, client: str) -> str:
    """A digest of the address: the table must not become a list of who wrote from where."""
    message = f"referral-address\x00{client[:200]}".encode()
    return hmac.new(svc.settings.secret_key.encode(), message, hashlib.sha256).hexdigest()


def _check_rate(session: Session, svc: Services, key: str, now: datetime) -> None:
    limit = svc.settings.limits.referrals_per_address
    window = timedelta(seconds=svc.settings.limits.referral_window_seconds)
    if not limit:
        return
    times = session.scalars(select(ReferralSent.at).where(ReferralSent.key == key, ReferralSent.at > now - window)
                            .order_by(ReferralSent.at)).all()
    if len(times) >= limit:
        free_at = times[len(times) - limit] + window
        minutes = max(1, math.ceil((free_at - now).total_seconds() / 60))
        wait = Sentence(N_("%(n)s minute"), n=minutes) if minutes == 1 else Sentence(N_("%(n)s minutes"), n=minutes)
        raise TooManyRequests(Sentence(TOO_MANY, wait=wait))


def check_rate(session: Session, svc: Services, client: str) -> None:
    """TooManyRequests if this address has sent its share of referrals in the window."""
    _check_rate(session, svc, _address_key(svc, client), svc.now())


def submit(session: Session, svc: Services, raw: dict[str, Any], *, client: str, channel: str = "form") -> Referral:
    """A referral from the public form or API: checked, stored encrypted, counted against its address."""
    now = svc.now()
    key = _address_key(svc, client)
    _check_rate(session, svc, key, now)
    answers = form.clean(raw)
    problem = form.first_problem(answers)
    if problem is not None:
        first = problem[1][0]
        said = first.message if isinstance(first.message, Sentence) else Sentence(first.message)
        raise BadInput(Sentence(N_("%(problem)s."), problem=said), code="invalid_referral",
                       details={"errors": [{"field": e.field, "message": e.message} for e in problem[1]]})
    details = blobs.store_text(session, svc.store, json.dumps(answers, sort_keys=True))
    session.flush()
    referral = Referral(reference=_unused_reference(session), source=answers["source"], side=form.side_of(answers),
                        channel=channel, received_at=now, details_blob_id=details.id)
    session.add(referral)
    window = timedelta(seconds=svc.settings.limits.referral_window_seconds)
    session.execute(delete(ReferralSent).where(ReferralSent.key == key, ReferralSent.at <= now - window))
    session.add(ReferralSent(key=key, at=now))
    session.flush()
    audit.record(session, action="referral.receive", actor_role="public", subject_type="referral",
                 subject_id=referral.id, details={"source": referral.source, "channel": channel}, now=now)
    return referral


def _unused_reference(session: Session) -> str:
    while True:
        reference = new_reference()
        if session.scalar(select(Referral.id).where(Referral.reference == reference)) is None:
            return reference


# --- the coordinator's work ------------------------------------------------------------------------


def load(session: Session, actor: Actor, referral_id: str) -> Referral:
    """A referral, for the coordinator only; anyone else is told it does not exist."""
    if actor.role != "coordinator" or actor.account_id is None:
        raise NotFound()
    referral = session.get(Referral, referral_id)
    if referral is None:
        raise NotFound()
    return referral


def read_answers(session: Session, svc: Services, referral: Referral) -> dict[str, str]:
    answers: dict[str, str] = json.loads(blobs.load_text(session, svc.store, referral.details_blob_id))
    return answers


def _stale(referral: Referral, expected_version: int | None) -> None:
    if expected_version is not None and expected_version != referral.row_version:
        raise Conflict(N_("This referral changed since you opened it. Reload and try again."), code="stale")


def _move(referral: Referral, to: str) -> None:
    if to not in MOVES[referral.status]:
        raise Conflict(Sentence(N_("This referral is already %(status)s: it cannot become %(to)s."),
                                status=_STATUS[referral.status], to=_STATUS[to]))
    referral.status = to


def _note(session: Session, svc: Services, note: str) -> str | None:
    note = note.strip()
    if len(note) > MAX_NOTE_CHARS:
        raise BadInput(Sentence(N_("A note is up to %(max)s characters."), max=f"{MAX_NOTE_CHARS:,}"))
    if not note:
        return None
    blob = blobs.store_text(session, svc.store, note)
    session.flush()
    return blob.id


def record_contact(session: Session, svc: Services, actor: Actor, referral_id: str, *, method: str, outcome: str,
                   at: datetime | None = None, note: str = "") -> ContactAttempt:
    """One try at reaching the person; the first "reached" stops the first-contact clock."""
    referral = load(session, actor, referral_id)
    if referral.status in {"accepted", "declined"}:
        raise Conflict(Sentence(N_("This referral is already %(status)s."), status=_STATUS[referral.status]))
    if method not in CONTACT_METHODS:
        raise BadInput(N_("Say how: phone, letter, e-mail, in person or through an agency."))
    if outcome not in CONTACT_OUTCOMES:
        raise BadInput(N_("Say what happened: reached, no answer, left a message or wrong details."))
    now = svc.now()
    at = at or now
    if at > now + timedelta(minutes=5):
        raise BadInput(N_("A contact attempt cannot be in the future."))
    if at < referral.received_at - timedelta(minutes=5):
        raise BadInput(N_("A contact attempt cannot be before the referral was received."))
    attempt = ContactAttempt(referral_id=referral.id, at=at, method=method, outcome=outcome,
                             note_blob_id=_note(session, svc, note), recorded_by=actor.account_id, recorded_at=now)
    session.add(attempt)
    if outcome == "reached" and referral.contacted_at is None:
        referral.contacted_at = at
        _move(referral, "contacted")
    session.flush()
    audit.record(session, action="referral.contact_attempt", actor_id=actor.account_id, actor_role=actor.role,
                 subject_type="referral", subject_id=referral.id,
                 details={"method": method, "outcome": outcome, "at": at.isoformat()}, now=now)
    return attempt


def decline(session: Session, svc: Services, actor: Actor, referral_id: str, *, reason: str, note: str = "",
            expected_version: int | None = None) -> Referral:
    referral = load(session, actor, referral_id)
    _stale(referral, expected_version)
    _move(referral, "declined")  # a refusal below rolls the whole unit of work back
    if reason not in DECLINE_REASONS:
        raise BadInput(N_("Choose a reason: not eligible, declined by the person, could not be contacted, "
                          "court proceedings ongoing, or other."))
    if reason == "other" and not note.strip():
        raise BadInput(N_("Say why in the note when the reason is 'other'."), code="note_needed")
    referral.decline_reason = reason
    referral.decline_note_blob_id = _note(session, svc, note)
    referral.decided_at, referral.decided_by = svc.now(), actor.account_id
    session.flush()
    audit.record(session, action="referral.decline", actor_id=actor.account_id, actor_role=actor.role,
                 subject_type="referral", subject_id=referral.id, details={"reason": reason}, now=svc.now())
    return referral


def active_facilitators(session: Session) -> list[Account]:
    return list(session.scalars(select(Account).where(Account.role == "facilitator", Account.active.is_(True))
                                .order_by(Account.display_name, Account.username)))


def _check_facilitators(session: Session, chosen: list[str]) -> list[str]:
    """Two different active facilitators; one only when the service has only one."""
    chosen = list(dict.fromkeys(c for c in chosen if c))
    available = {a.id for a in active_facilitators(session)}
    if not available:
        raise BadInput(N_("The service has no facilitator yet: add one under Staff first."), code="no_facilitators")
    if any(c not in available for c in chosen):
        raise BadInput(N_("Choose facilitators from the list of active facilitators."), code="facilitators")
    wanted = min(2, len(available))
    if len(chosen) != wanted:
        raise BadInput(N_("Choose two different facilitators: a case keeps them for its whole life.") if wanted == 2
                       else N_("Choose the service's facilitator."), code="facilitators")
    return chosen


def accept(session: Session, svc: Services, actor: Actor, referral_id: str, *, facilitators: list[str],
           expected_version: int | None = None) -> Case:
    """A case in preparation with the next reference of the year and its facilitators."""
    referral = load(session, actor, referral_id)
    _stale(referral, expected_version)
    _move(referral, "accepted")  # a refusal below rolls the whole unit of work back
    chosen = _check_facilitators(session, facilitators)
    now = svc.now()
    case = cases.create_case(session, actor, reference=next_case_reference(session, now.year),
                             facilitators=chosen, now=now)
    referral.case_id = case.id
    referral.decided_at, referral.decided_by = now, actor.account_id
    session.flush()
    audit.record(session, action="referral.accept", actor_id=actor.account_id, actor_role=actor.role,
                 case_id=case.id, subject_type="referral", subject_id=referral.id,
                 details={"reference": case.reference, "facilitators": chosen}, now=now)
    return case


def next_case_reference(session: Session, year: int) -> str:
    """RJ-2026-0043: the year's counter moves on under a row lock (SELECT ... FOR UPDATE on
    PostgreSQL; SQLite has one writer) and never goes back, so no number is given twice, even
    after a case is deleted. A number already taken by a case made another way is skipped."""
    counter = _locked_counter(session, year)
    while True:
        counter.last += 1
        reference = f"{CASE_PREFIX}-{year}-{counter.last:04d}"
        if session.scalar(select(Case.id).where(Case.reference == reference)) is None:
            session.flush()
            return reference


def _locked_counter(session: Session, year: int) -> CaseCounter:
    query = (select(CaseCounter).where(CaseCounter.year == year).with_for_update()
             .execution_options(populate_existing=True))
    counter = session.scalar(query)
    if counter is None:
        try:
            with session.begin_nested():  # another transaction may be creating the same year's row
                session.add(CaseCounter(year=year, last=0))
        except IntegrityError:
            pass
        counter = session.scalar(query)
    assert counter is not None
    return counter


# --- the first-contact clock -----------------------------------------------------------------------


def coordinators(session: Session) -> list[str]:
    return list(session.scalars(select(Account.id).where(Account.role == "coordinator", Account.active.is_(True))
                                .order_by(Account.created_at)))


def escalations(session: Session, referral_ids: list[str]) -> dict[str, set[str]]:
    """Which clock states (due_soon, overdue) each referral was escalated for."""
    found: dict[str, set[str]] = {}
    if referral_ids:
        rows = session.execute(select(AuditEvent.subject_id, AuditEvent.details).where(
            AuditEvent.action == ESCALATE, AuditEvent.subject_type == "referral",
            AuditEvent.subject_id.in_(referral_ids))).all()
        for subject_id, details in rows:
            found.setdefault(str(subject_id), set()).add(str((details or {}).get("state")))
    return found


def escalate_first_contact(session: Session, svc: Services, *, limit: int = 200) -> int:
    """Periodic only (the worker's tick; a page never writes): each referral still waiting for
    contact is escalated to the coordinators once when due soon and once when overdue (an audit
    event naming them), at most `limit` events in this transaction. Nothing else changes.
    Returns how many events were written."""
    hours = svc.settings.first_contact_working_hours
    if not hours:
        return 0
    waiting = list(session.scalars(select(Referral).where(Referral.status == "new").order_by(Referral.received_at)))
    done = escalations(session, [r.id for r in waiting])
    now, written, to = svc.now(), 0, coordinators(session)
    for referral in waiting:
        state = clock.status(referral.received_at, now, hours).state
        if state in {"due_soon", "overdue"} and state not in done.get(referral.id, set()):
            audit.record(session, action=ESCALATE, actor_role="system", subject_type="referral",
                         subject_id=referral.id, now=now,
                         details={"state": state, "to": to, "working_hours": hours,
                                  "due": clock.due_at(referral.received_at, hours).isoformat()})
            written += 1
            if written >= limit:
                break
    return written


def waiting_count(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(Referral).where(Referral.status == "new")) or 0)
