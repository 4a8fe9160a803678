"""Holds and releases: gathering the facts for `gates` and acting on the answer.

Called in the same transaction as every change that can open or close a gate (approval,
consent, assessment, case status, a recipient holding deliveries) and periodically for
scheduled releases.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shuttle.cases.facts import person_gate, proceedings_hold, side_members
from shuttle.cases.models import Case, Participant, other_side
from shuttle.i18n import N_, Sentence
from shuttle.messages import lifecycle
from shuttle.messages.gates import PersonGate, ReleaseFacts, hold_reasons, release_blockers
from shuttle.messages.models import Approval, Message, MessageVersion
from shuttle.messages.states import HOLDABLE, Action, Context, Position, State, TransitionNotAllowed, next_position
from shuttle.services import Actor, Services


def _author_gate(session: Session, case: Case, message: Message, now: datetime | None = None) -> PersonGate:
    author = session.get(Participant, message.author_participant_id)
    assert author is not None
    return person_gate(session, author, case.label_of(message.author_side), now)


def _recipient_gates(session: Session, case: Case, message: Message,
                     now: datetime | None = None) -> tuple[PersonGate, ...]:
    side = other_side(message.author_side)
    return tuple(person_gate(session, p, case.label_of(side), now) for p in side_members(session, case.id, side))


def approvals_of(session: Session, version_id: str | None) -> int:
    """Distinct facilitators whose approval of this version stands (a recall revokes them)."""
    if version_id is None:
        return 0
    count = session.scalar(
        select(func.count(func.distinct(Approval.facilitator_id)))
        .where(Approval.version_id == version_id, Approval.revoked_at.is_(None))
    )
    return int(count or 0)


def approvers_of(session: Session, version_id: str | None) -> list[str]:
    """The facilitators whose approval of this version stands, first approver first."""
    if version_id is None:
        return []
    return list(session.scalars(select(Approval.facilitator_id).where(
        Approval.version_id == version_id, Approval.revoked_at.is_(None)).order_by(Approval.id)))


def release_facts(session: Session, svc: Services, case: Case, message: Message,
                  version_id: str | None = None) -> ReleaseFacts:
    """The facts for the gates about the approved version (or `version_id`, to ask what
    would hold a version once approved)."""
    wanted = version_id or message.approved_version_id
    version = session.get(MessageVersion, wanted) if wanted else None
    return facts_from(svc, case, message, version, approvals=approvals_of(session, wanted),
                      recipients=_recipient_gates(session, case, message, svc.now()),
                      author=_author_gate(session, case, message, svc.now()))


def facts_from(svc: Services, case: Case, message: Message, version: MessageVersion | None, *, approvals: int,
               recipients: tuple[PersonGate, ...], author: PersonGate) -> ReleaseFacts:
    """The facts for the gates from rows already read (`release_facts` reads them for one
    message; `messages.staff_view` for many at once)."""
    pending_edit = bool(
        version is not None
        and version.origin == "facilitator"
        and case.author_must_accept_edits
        and version.author_decision != "accepted"
    )
    reply_allowed = message.author_side == "harmed" or case.responsible_may_reply
    return ReleaseFacts(
        case_status=case.status,
        approvals=approvals,
        approvals_required=case.approvals_required,
        edits_pending_acceptance=pending_edit,
        recipients=recipients,
        author=author,
        scheduled_at=message.scheduled_release_at,
        now=svc.now(),
        reply_allowed=reply_allowed,
        extra=() if version is not None and version.processed_blob_id else (Sentence(N_("no processed version")),),
        proceedings_hold=proceedings_hold(svc, case),
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


def recount(session: Session, svc: Services, case: Case, message: Message, actor: Actor) -> None:
    """Put a message where its approvals now place it under the case's rule, so a settings
    change never strands it (an approved message short of approvals goes back to the queue;
    one in review with enough approvals is approved)."""
    ctx = Context(approvals=approvals_of(session, message.current_version_id),
                  approvals_required=case.approvals_required)
    try:
        after = next_position(lifecycle.position(message), Action.RECOUNT, ctx)
    except TransitionNotAllowed:
        return
    lifecycle.transition(session, message, Action.RECOUNT, actor, ctx=ctx, now=svc.now(),
                         details={"approvals": ctx.approvals, "required": ctx.approvals_required})
    if _settled(after) is State.APPROVED:
        message.approved_version_id = message.current_version_id
        message.claimed_by = None
    else:
        message.approved_version_id = None


def _settled(pos: Position) -> State:
    return pos.held_from if pos.state is State.HELD and pos.held_from else pos.state


def reconcile_case(session: Session, svc: Services, case: Case, actor: Actor) -> None:
    """Recount approvals, hold what must stop, lift what may go on, release what is ready (invariant 4)."""
    for message in _pending(session, case.id):
        recount(session, svc, case, message, actor)
        reasons = hold_reasons(case.status, _author_gate(session, case, message, svc.now()),
                               _recipient_gates(session, case, message, svc.now()),
                               proceedings_hold=proceedings_hold(svc, case))
        if reasons and message.state != State.HELD:
            lifecycle.transition(session, message, Action.HOLD, actor, now=svc.now(),
                                 details={"reasons": reasons})
        elif not reasons and message.state == State.HELD:
            lifecycle.transition(session, message, Action.LIFT_HOLD, actor, now=svc.now())
        if message.state == State.APPROVED:
            try_release(session, svc, case, message, actor)


def release_due(session: Session, svc: Services, *, limit: int = 100) -> int:
    """Periodic: release approved messages whose scheduled time has come, at most `limit` in
    this transaction (the caller repeats while there are more). Found by index: every other gate
    is a fact whose change reconciles the case at once, so time is the only one to poll.
    Returns how many were due (each acted on once, released or not)."""
    due = session.scalars(select(Message).where(
        Message.state == State.APPROVED.value, Message.release_due_at <= svc.now())
        .order_by(Message.release_due_at).limit(limit)).all()
    for message in due:
        case = session.get(Case, message.case_id)
        assert case is not None
        message.release_due_at = None  # the time has come: acted on once
        try_release(session, svc, case, message, Actor.system())
    return len(due)
