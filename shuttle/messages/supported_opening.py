"""Receiving with support (issue 12): the recipient opens a message together with their facilitator.

Besides "open it now" and "not yet", the recipient of a released, unopened message can ask to
open it with their facilitator, with a note if they wish (encrypted like every other text). The
case's facilitators see the request, record the time they arranged with the recipient, and at that
time start a session ("Start the session now"): it lasts `SESSION_LENGTH`, or until the facilitator
ends it. While a request is waiting the message opens for the recipient only during an active
session (`check_open`, asked by `delivery.open_message`); once opened there, the request is done.
The recipient may withdraw the request at any time before that and open the message when they
choose. Every step is audited, without the note. All times come from `svc.now()`.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from shuttle import blobs, i18n, permissions
from shuttle.access import load_case, load_message
from shuttle.audit import log as audit
from shuttle.blobs import Blob
from shuttle.cases.models import Case, CaseFacilitator
from shuttle.dates import on_day
from shuttle.errors import BadInput, Conflict, NotFound
from shuttle.i18n import N_, Sentence
from shuttle.messages.models import Message
from shuttle.messages.requests import closed_by_request
from shuttle.messages.states import State
from shuttle.messages.supported_models import SupportedOpening
from shuttle.services import Actor, Services

MAX_NOTE_CHARS = 2000
#: How long a session the facilitator starts lets the recipient open the message.
SESSION_LENGTH = timedelta(hours=2)
#: What the recipient is told once they asked (keep true: `check_open`).
WHAT_NEXT = "Your facilitator will arrange a time with you. The message stays closed until then."


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def is_active(row: SupportedOpening, now: datetime) -> bool:
    """Whether the facilitator's session for this request lets the recipient open the message now (pure)."""
    if row.done_at is not None or row.session_started_at is None or row.session_until is None:
        return False
    return _aware(row.session_started_at) <= now < _aware(row.session_until)


def at_in_words(value: datetime) -> str:
    """"Tuesday 1 December 2026 at 14:30 (UTC)": the one date format, and the time (pure), in the
    language being rendered (a page reads it while it renders)."""
    value = _aware(value).astimezone(UTC)
    return i18n.gettext("%(day)s at %(time)s (UTC)") % {"day": on_day(value), "time": f"{value:%H:%M}"}


def _pending(session: Session, message_id: str) -> SupportedOpening | None:
    return session.scalar(select(SupportedOpening).where(
        SupportedOpening.message_id == message_id, SupportedOpening.done_at.is_(None)).limit(1))


def _audit(session: Session, svc: Services, actor: Actor, row: SupportedOpening, action: str,
           **details: Any) -> None:
    audit.record(session, action=f"supported_opening.{action}", actor_id=actor.account_id, actor_role=actor.role,
                 case_id=row.case_id, subject_type="supported_opening", subject_id=row.id,
                 details={"message": row.message_id, **details}, now=svc.now())


# --- the recipient ---------------------------------------------------------------------------------


def ask(session: Session, svc: Services, actor: Actor, message_id: str, note: str = "") -> SupportedOpening:
    """The recipient side asks to open a released, unopened message with its facilitator; 404 for anyone
    else (the author side, supporters, staff). The message stays unopened."""
    message, case, member = load_message(session, actor, message_id)
    if not permissions.may_open(member, author_side=message.author_side, state=State(message.state)):
        raise NotFound()
    assert member.participant_id is not None and actor.account_id is not None
    note = (note or "").strip()
    if len(note) > MAX_NOTE_CHARS:
        raise BadInput(Sentence(N_("A note can be at most %(max)s characters."), max=MAX_NOTE_CHARS))
    if not permissions.may_ask_supported_opening(member, author_side=message.author_side,
                                                 state=State(message.state)):
        raise Conflict(N_("You have already opened this message."), code="already_opened")
    if closed_by_request(session, message.id):
        raise Conflict(N_("Your facilitator has already dealt with this message at your request."), code="request_done")
    if _pending(session, message.id) is not None:
        raise Conflict(N_("You have already asked to open this message with your facilitator. Your facilitator will "
                          "arrange a time with you. The message stays closed until then."),
                       code="request_open")
    row = SupportedOpening(case_id=case.id, message_id=message.id, participant_id=member.participant_id,
                           requested_by=actor.account_id, requested_at=svc.now(),
                           note_blob_id=blobs.store_text(session, svc.store, note).id if note else None)
    session.add(row)
    session.flush()
    _audit(session, svc, actor, row, "request", with_note=bool(note))
    return row


def withdraw(session: Session, svc: Services, actor: Actor, message_id: str) -> SupportedOpening:
    """The recipient side goes back to "open when I choose"."""
    message, _, member = load_message(session, actor, message_id)
    if not permissions.may_open(member, author_side=message.author_side, state=State(message.state)):
        raise NotFound()
    row = _pending(session, message.id)
    if row is None:
        raise Conflict(N_("There is no request to open this message with your facilitator."), code="no_request")
    row.done_at, row.outcome = svc.now(), "withdrawn"
    session.flush()
    _audit(session, svc, actor, row, "withdraw")
    return row


def check_open(session: Session, svc: Services, message_id: str) -> SupportedOpening | None:
    """Asked by `delivery.open_message` before the recipient opens a message: with a request waiting,
    only inside an active session (then that request, to be marked done by `opened`)."""
    row = _pending(session, message_id)
    if row is None:
        return None
    if not is_active(row, svc.now()):
        raise Conflict(N_("You asked to open this message with your facilitator, so it opens only during the "
                       "session they start with you. You can withdraw that request to open it when you choose."),
                       code="supported_opening")
    return row


def opened(session: Session, svc: Services, actor: Actor, row: SupportedOpening) -> None:
    """The recipient opened the message in the session: the request is done."""
    row.done_at, row.outcome = svc.now(), "opened"
    row.session_until = min(_aware(row.session_until or svc.now()), svc.now())
    session.flush()
    _audit(session, svc, actor, row, "opened")


# --- the facilitators ------------------------------------------------------------------------------


def _for_facilitator(session: Session, actor: Actor, request_id: str) -> SupportedOpening:
    row = session.get(SupportedOpening, request_id)
    if row is None:
        raise NotFound()
    _, member = load_case(session, actor, row.case_id)
    if not permissions.may_arrange_supported_opening(member):
        raise NotFound()
    if row.done_at is not None:
        raise Conflict(N_("This request is no longer waiting: the message was opened or the request withdrawn."),
                       code="request_done")
    return row


def arrange(session: Session, svc: Services, actor: Actor, request_id: str, at: datetime) -> SupportedOpening:
    """A facilitator of the case records the time arranged with the recipient (not in the past)."""
    row = _for_facilitator(session, actor, request_id)
    at = _aware(at)
    if at < svc.now():
        raise BadInput(N_("Choose a time that has not passed yet."))
    row.arranged_for, row.arranged_by = at, actor.account_id
    session.flush()
    _audit(session, svc, actor, row, "arrange", at=at.isoformat())
    return row


def start_session(session: Session, svc: Services, actor: Actor, request_id: str) -> SupportedOpening:
    """"Start the session now": the recipient may open the message for `SESSION_LENGTH`, or until ended."""
    row = _for_facilitator(session, actor, request_id)
    message = session.get(Message, row.message_id)
    assert message is not None
    if message.state != State.RELEASED:
        raise Conflict(N_("This message is not waiting to be opened just now, so a session cannot start."),
                       code="not_released")
    now = svc.now()
    row.session_started_at, row.session_started_by, row.session_until = now, actor.account_id, now + SESSION_LENGTH
    session.flush()
    _audit(session, svc, actor, row, "start_session", until=row.session_until.isoformat())
    return row


def end_session(session: Session, svc: Services, actor: Actor, request_id: str) -> SupportedOpening:
    """The facilitator ends the session: the message closes again until the next one."""
    row = _for_facilitator(session, actor, request_id)
    if not is_active(row, svc.now()):
        raise Conflict(N_("No session is running for this request."), code="no_session")
    row.session_until = svc.now()
    session.flush()
    _audit(session, svc, actor, row, "end_session")
    return row


# --- views -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SupportedView:
    """A waiting request to open a message with the facilitator, as the recipient and staff see it."""

    id: str
    case_id: str
    case_reference: str
    message_id: str
    note: str
    requested_at: datetime
    arranged_for: datetime | None
    session_until: datetime | None
    active: bool

    @property
    def requested_on(self) -> str | None:
        return on_day(self.requested_at)

    @property
    def arranged_words(self) -> str | None:
        return at_in_words(self.arranged_for) if self.arranged_for else None

    @property
    def until_words(self) -> str | None:
        return at_in_words(self.session_until) if self.session_until and self.active else None

    def as_json(self) -> dict[str, Any]:
        def iso(value: datetime | None) -> str | None:
            return _aware(value).isoformat() if value is not None else None
        return {"id": self.id, "case_id": self.case_id, "case_reference": self.case_reference,
                "message_id": self.message_id, "note": self.note, "requested_at": iso(self.requested_at),
                "arranged_for": iso(self.arranged_for), "session_until": iso(self.session_until) if self.active
                else None, "active": self.active}


def _views(session: Session, svc: Services, rows: Collection[SupportedOpening],
           references: dict[str, str], *, with_notes: bool) -> list[SupportedView]:
    notes = {row.note_blob_id for row in rows if row.note_blob_id} if with_notes else set()
    if notes:  # into the session, so that blobs.load_text finds each key without a query
        session.scalars(select(Blob).where(Blob.id.in_(notes))).all()
    now = svc.now()
    return [SupportedView(
        id=row.id, case_id=row.case_id, case_reference=references.get(row.case_id, ""), message_id=row.message_id,
        note=blobs.load_text(session, svc.store, row.note_blob_id) if with_notes and row.note_blob_id else "",
        requested_at=row.requested_at, arranged_for=row.arranged_for, session_until=row.session_until,
        active=is_active(row, now)) for row in rows]


def for_recipient(session: Session, svc: Services, message_id: str) -> SupportedView | None:
    """The waiting request about a message, for its recipient's page (the caller checked who asks)."""
    row = _pending(session, message_id)
    return _views(session, svc, [row], {}, with_notes=True)[0] if row is not None else None


def mine(session: Session, svc: Services, actor: Actor, message_id: str) -> dict[str, Any] | None:
    """The recipient side's waiting request about a message delivered to it (JSON); 404 for anyone else."""
    message, _, member = load_message(session, actor, message_id)
    if not permissions.may_open(member, author_side=message.author_side, state=State(message.state)):
        raise NotFound()
    view = for_recipient(session, svc, message.id)
    return view.as_json() if view is not None else None


def waiting_for_case(session: Session, svc: Services, actor: Actor, case_id: str) -> list[SupportedView]:
    """The case's waiting requests, oldest first: for its facilitators only."""
    case, member = load_case(session, actor, case_id)
    if not permissions.may_arrange_supported_opening(member):
        raise NotFound()
    rows = session.scalars(select(SupportedOpening).where(
        SupportedOpening.case_id == case.id, SupportedOpening.done_at.is_(None))
        .order_by(SupportedOpening.requested_at, SupportedOpening.id)).all()
    return _views(session, svc, rows, {case.id: case.reference}, with_notes=True)


def waiting_for_facilitator(session: Session, svc: Services, actor: Actor) -> list[SupportedView]:
    """Every waiting request in the facilitator's cases, oldest first, in one query (their dashboard)."""
    found = session.execute(select(SupportedOpening, Case.reference)
                            .join(Case, Case.id == SupportedOpening.case_id)
                            .join(CaseFacilitator, CaseFacilitator.case_id == Case.id)
                            .where(CaseFacilitator.account_id == (actor.account_id or ""),
                                   SupportedOpening.done_at.is_(None))
                            .order_by(SupportedOpening.requested_at, SupportedOpening.id)).all()
    return _views(session, svc, [r for r, _ in found], {r.case_id: ref for r, ref in found}, with_notes=False)


def waiting_in(session: Session, svc: Services, cases: Collection[Case], *, with_notes: bool) -> list[SupportedView]:
    """The waiting requests of these cases (the caller checked they are the actor's), oldest first:
    one query whatever the number of cases, asked even for none so a page's statements stay the same."""
    rows = session.scalars(select(SupportedOpening).where(
        SupportedOpening.case_id.in_([case.id for case in cases]), SupportedOpening.done_at.is_(None))
        .order_by(SupportedOpening.requested_at, SupportedOpening.id)).all()
    return _views(session, svc, rows, {case.id: case.reference for case in cases}, with_notes=with_notes)


def waiting_json(session: Session, svc: Services, actor: Actor, case_id: str) -> list[dict[str, Any]]:
    return [view.as_json() for view in waiting_for_case(session, svc, actor, case_id)]


def row_json(row: SupportedOpening, now: datetime) -> dict[str, Any]:
    """A request as the API answers a step on it (no note) (pure)."""
    def iso(value: datetime | None) -> str | None:
        return _aware(value).isoformat() if value is not None else None
    active = is_active(row, now)
    return {"id": row.id, "case_id": row.case_id, "message_id": row.message_id, "requested_at": iso(row.requested_at),
            "arranged_for": iso(row.arranged_for), "session_until": iso(row.session_until) if active else None,
            "active": active, "outcome": row.outcome}
