"""The recipient's side: what is waiting, and opening it only when they choose to."""

from __future__ import annotations

from sqlalchemy.orm import Session

from shuttle import blobs, permissions
from shuttle.access import load_message
from shuttle.cases.models import Participant
from shuttle.cases.service import person_gate
from shuttle.errors import Conflict, NotFound
from shuttle.messages import lifecycle
from shuttle.messages.gates import hold_reasons
from shuttle.messages.models import Message, MessageVersion
from shuttle.messages.states import Action, State
from shuttle.services import Actor, Services


def _check_deliverable(session: Session, case_status: str, member_participant_id: str, label: str) -> None:
    """A pause or withdrawn consent also stops a delivered-but-unopened message from being opened."""
    participant = session.get(Participant, member_participant_id)
    assert participant is not None
    gate = person_gate(session, participant, label)
    if hold_reasons(case_status, gate, ()) or not gate.receives:
        raise Conflict("This message cannot be opened just now. Your facilitator can tell you more.",
                       code="not_deliverable")


def open_message(session: Session, svc: Services, actor: Actor, message_id: str, *,
                 share_receipt: bool = False) -> str:
    """Return the processed text of the approved version, marking the message opened the first time."""
    message, case, member = load_message(session, actor, message_id)
    if not permissions.may_open(member, author_side=message.author_side, state=State(message.state)):
        raise NotFound()
    assert member.participant_id is not None
    _check_deliverable(session, case.status, member.participant_id, case.label_of(member.side or ""))
    if message.state == State.RELEASED:
        lifecycle.transition(session, message, Action.OPEN, actor, now=svc.now(),
                             details={"receipt_shared": share_receipt and case.read_receipts_allowed})
        message.opened_at = svc.now()
        message.receipt_shared = share_receipt and case.read_receipts_allowed
    return delivered_text(session, svc, message)


def delivered_text(session: Session, svc: Services, message: Message) -> str:
    """Only the worker's output for the approved version ever crosses (invariants 1 and 2)."""
    version = session.get(MessageVersion, message.approved_version_id or "")
    if version is None or version.processed_blob_id is None:
        raise NotFound()
    return blobs.load_text(session, svc.store, version.processed_blob_id)
