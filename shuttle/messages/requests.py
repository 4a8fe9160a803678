"""A recipient asks the facilitators to hold, return or destroy a message delivered to them.

The recipient decides what arrives in their life: besides "open it now" and "not yet", they
can ask their facilitator to keep a message for now, to give it back to its author, or to
destroy it, with a note if they wish. The case's facilitators see the open requests and
record what they did; the recipient sees that answer. Every request and every answer is
audited (without the notes, which are encrypted like any other text).

A message whose "return" or "destroy" request was answered "done" can no longer be opened
by the recipient (see `closed_by_request`, asked by `delivery`).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from shuttle import blobs, permissions
from shuttle.access import load_case, load_message
from shuttle.audit import log as audit
from shuttle.cases.models import Case, Participant
from shuttle.errors import BadInput, Conflict, NotFound
from shuttle.messages.models import Message
from shuttle.messages.request_models import REQUEST_KINDS, REQUEST_OUTCOMES, RecipientRequest
from shuttle.messages.states import State
from shuttle.services import Actor, Services

MAX_NOTE_CHARS = 2000
#: What each kind of request asks, in words for the people involved.
KIND_WORDS = {
    "hold": "hold it for now",
    "return": "return it to the person who sent it",
    "destroy": "destroy it",
}
OUTCOME_WORDS = {"done": "done", "declined": "not done"}


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def _text(session: Session, svc: Services, blob_id: str | None) -> str:
    return blobs.load_text(session, svc.store, blob_id) if blob_id else ""


def _check_note(note: str | None) -> str:
    note = (note or "").strip()
    if len(note) > MAX_NOTE_CHARS:
        raise BadInput(f"A note can be at most {MAX_NOTE_CHARS} characters.")
    return note


def request(session: Session, svc: Services, actor: Actor, message_id: str, kind: str,
            note: str = "") -> RecipientRequest:
    """The recipient side asks about a message delivered to it; 404 for anyone else."""
    message, case, member = load_message(session, actor, message_id)
    if not permissions.may_open(member, author_side=message.author_side, state=State(message.state)):
        raise NotFound()
    assert member.participant_id is not None
    if kind not in REQUEST_KINDS:
        raise BadInput(f"A request is one of: {', '.join(REQUEST_KINDS)}.")
    note = _check_note(note)
    if kind == "hold" and message.state == State.VIEWED:
        raise Conflict("You have already opened this message, so there is nothing to hold. "
                       "You can ask your facilitator to return or destroy it.", code="already_opened")
    if closed_by_request(session, message.id):
        raise Conflict("Your facilitator has already dealt with this message at your request.",
                       code="request_done")
    waiting = session.scalar(select(RecipientRequest.id).where(
        RecipientRequest.message_id == message.id, RecipientRequest.handled_at.is_(None)))
    if waiting:
        raise Conflict("You have already asked your facilitator about this message. "
                       "They will be in touch.", code="request_open")
    row = RecipientRequest(case_id=case.id, message_id=message.id, participant_id=member.participant_id,
                           requested_by=actor.account_id, kind=kind, requested_at=svc.now(),
                           note_blob_id=blobs.store_text(session, svc.store, note).id if note else None)
    session.add(row)
    session.flush()
    audit.record(session, action="recipient_request.create", actor_id=actor.account_id, actor_role=actor.role,
                 case_id=case.id, subject_type="recipient_request", subject_id=row.id,
                 details={"kind": kind, "message": message.id, "with_note": bool(note)}, now=svc.now())
    return row


def _as_dict(session: Session, svc: Services, row: RecipientRequest, case: Case) -> dict[str, Any]:
    message = session.get(Message, row.message_id)
    participant = session.get(Participant, row.participant_id)
    assert message is not None and participant is not None
    return {
        "id": row.id, "case_id": row.case_id, "case_reference": case.reference,
        "message_id": row.message_id, "message_kind": message.kind, "message_state": message.state,
        "kind": row.kind, "kind_words": KIND_WORDS[row.kind],
        "from_label": case.label_of(participant.side),  # who asks: the recipient side
        "requested_by_role": participant.role,
        "note": _text(session, svc, row.note_blob_id),
        "requested_at": _iso(row.requested_at),
        "handled_at": _iso(row.handled_at), "outcome": row.outcome,
        "outcome_words": OUTCOME_WORDS.get(row.outcome or "", ""),
        "outcome_note": _text(session, svc, row.outcome_note_blob_id),
    }


def open_requests(session: Session, svc: Services, actor: Actor, case_id: str) -> list[dict[str, Any]]:
    """The case's requests not yet answered, oldest first: for its facilitators only."""
    case, member = load_case(session, actor, case_id)
    if not member.is_facilitator:
        raise NotFound()
    rows = session.scalars(select(RecipientRequest).where(
        RecipientRequest.case_id == case.id, RecipientRequest.handled_at.is_(None),
    ).order_by(RecipientRequest.requested_at, RecipientRequest.id)).all()
    return [_as_dict(session, svc, row, case) for row in rows]


def handle(session: Session, svc: Services, actor: Actor, request_id: str, outcome: str,
           note: str = "") -> RecipientRequest:
    """A facilitator of the case records what they did: `done` or `declined`, with a note
    that the recipient is shown. Answered once; never changed afterwards."""
    row = session.get(RecipientRequest, request_id)
    if row is None:
        raise NotFound()
    case, member = load_case(session, actor, row.case_id)
    if not member.is_facilitator:
        raise NotFound()
    if outcome not in REQUEST_OUTCOMES:
        raise BadInput(f"An outcome is one of: {', '.join(REQUEST_OUTCOMES)}.")
    note = _check_note(note)
    if row.handled_at is not None:
        raise Conflict("This request has already been answered.", code="already_handled")
    row.handled_at, row.handled_by, row.outcome = svc.now(), actor.account_id, outcome
    if note:
        row.outcome_note_blob_id = blobs.store_text(session, svc.store, note).id
    session.flush()
    audit.record(session, action="recipient_request.handle", actor_id=actor.account_id, actor_role=actor.role,
                 case_id=case.id, subject_type="recipient_request", subject_id=row.id,
                 details={"kind": row.kind, "outcome": outcome, "message": row.message_id}, now=svc.now())
    return row


def for_message(session: Session, svc: Services, actor: Actor, message_id: str) -> list[dict[str, Any]]:
    """The recipient side's requests about one message delivered to it, newest first."""
    message, case, member = load_message(session, actor, message_id)
    if not permissions.may_open(member, author_side=message.author_side, state=State(message.state)):
        raise NotFound()
    rows = session.scalars(select(RecipientRequest).where(RecipientRequest.message_id == message.id)
                           .order_by(RecipientRequest.requested_at.desc(), RecipientRequest.id)).all()
    return [_as_dict(session, svc, row, case) for row in rows]


def closed_by_request(session: Session, message_id: str) -> str | None:
    """'return' or 'destroy' when the facilitators did that at the recipient's request, else None."""
    return session.scalar(select(RecipientRequest.kind).where(
        RecipientRequest.message_id == message_id, RecipientRequest.kind.in_(("return", "destroy")),
        RecipientRequest.outcome == "done").limit(1))
