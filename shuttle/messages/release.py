"""Holds and releases: gathering the facts for `gates` and acting on the answer.

Called in the same transaction as every change that can open or close a gate (approval,
consent, assessment, case status, a recipient holding deliveries) and periodically for
scheduled releases.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shuttle.cases.models import Case, Participant, other_side
from shuttle.cases.service import person_gate, side_members
from shuttle.messages import lifecycle
from shuttle.messages.gates import PersonGate, ReleaseFacts, hold_reasons, release_blockers
from shuttle.messages.models import Approval, Message, MessageVersion
from shuttle.messages.states import HOLDABLE, Action, State
from shuttle.services import Actor, Services


def _author_gate(session: Session, case: Case, message: Message) -> PersonGate:
    author = session.get(Participant, message.author_participant_id)
    assert author is not None
    return person_gate(session, author, case.label_of(message.author_side))


def _recipient_gates(session: Session, case: Case, message: Message) -> tuple[PersonGate, ...]:
    side = other_side(message.author_side)
    return tuple(person_gate(session, p, case.label_of(side)) for p in side_members(session, case.id, side))


def approvals_of(session: Session, version_id: str | None) -> int:
    if version_id is None:
        return 0
    count = session.scalar(
        select(func.count(func.distinct(Approval.facilitator_id))).where(Approval.version_id == version_id)
    )
    return int(count or 0)


def release_facts(session: Session, svc: Services, case: Case, message: Message) -> ReleaseFacts:
    version = session.get(MessageVersion, message.approved_version_id) if message.approved_version_id else None
    pending_edit = bool(
        version is not None
        and version.origin == "facilitator"
        and case.author_must_accept_edits
        and version.author_decision != "accepted"
    )
    reply_allowed = message.author_side == "harmed" or case.responsible_may_reply
    return ReleaseFacts(
        case_status=case.status,
        approvals=approvals_of(session, message.approved_version_id),
        approvals_required=case.approvals_required,
        edits_pending_acceptance=pending_edit,
        recipients=_recipient_gates(session, case, message),
        author=_author_gate(session, case, message),
        scheduled_at=message.scheduled_release_at,
        now=svc.now(),
        reply_allowed=reply_allowed,
        extra=() if version is not None and version.processed_blob_id else ("no processed version",),
    )


def try_release(session: Session, svc: Services, case: Case, message: Message, actor: Actor) -> list[str]:
    """Release an approved message if every gate is open; return what still blocks it."""
    if message.state != State.APPROVED:
        return [f"the message is {message.state}"]
    blockers = release_blockers(release_facts(session, svc, case, message))
    if blockers:
        return blockers
    lifecycle.transition(session, message, Action.RELEASE, actor, now=svc.now())
    message.released_at = svc.now()
    return []


def _pending(session: Session, case_id: str) -> list[Message]:
    states = [s.value for s in HOLDABLE | {State.HELD}]
    return list(
        session.scalars(
            select(Message).where(Message.case_id == case_id, Message.state.in_(states)).order_by(Message.created_at)
        )
    )


def reconcile_case(session: Session, svc: Services, case: Case, actor: Actor) -> None:
    """Hold what must stop, lift what may go on, release what is ready (invariant 4)."""
    for message in _pending(session, case.id):
        reasons = hold_reasons(case.status, _author_gate(session, case, message),
                               _recipient_gates(session, case, message))
        if reasons and message.state != State.HELD:
            lifecycle.transition(session, message, Action.HOLD, actor, now=svc.now(),
                                 details={"reasons": reasons})
        elif not reasons and message.state == State.HELD:
            lifecycle.transition(session, message, Action.LIFT_HOLD, actor, now=svc.now())
        if message.state == State.APPROVED:
            try_release(session, svc, case, message, actor)


def release_due(session: Session, svc: Services) -> int:
    """Periodic: release approved messages whose scheduled time has come. Returns how many."""
    released = 0
    approved = session.scalars(select(Message).where(Message.state == State.APPROVED.value)).all()
    for message in approved:
        case = session.get(Case, message.case_id)
        assert case is not None
        if not try_release(session, svc, case, message, Actor.system()):
            released += 1
    return released
