"""Lists: a case's messages as one member sees them, and a facilitator's review queue."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from shuttle import permissions
from shuttle.access import cases_of, load_case
from shuttle.cases.models import Case, CaseFacilitator
from shuttle.messages.models import Message
from shuttle.messages.states import State
from shuttle.messages.views import for_member, for_staff
from shuttle.services import Actor, Services

#: What a facilitator has to do something about, in the order they should do it.
QUEUE_STATES = (State.AWAITING_REVIEW, State.IN_REVIEW, State.PROCESSING_FAILED, State.SUBMITTED,
                State.PROCESSING, State.APPROVED)


def case_messages(session: Session, svc: Services, actor: Actor, case_id: str) -> list[dict[str, Any]]:
    case, member = load_case(session, actor, case_id)
    messages = session.scalars(select(Message).where(Message.case_id == case.id).order_by(Message.created_at)).all()
    return [for_member(session, svc, member, m, case) for m in messages
            if permissions.may_see_message(member, author_side=m.author_side, state=State(m.state))]


def review_queue(session: Session, svc: Services, actor: Actor) -> list[dict[str, Any]]:
    """Every message waiting on the facilitators of my cases, oldest first."""
    if actor.role != "facilitator":
        return []
    my_cases = select(CaseFacilitator.case_id).where(CaseFacilitator.account_id == actor.account_id)
    rows = session.execute(
        select(Message, Case).join(Case, Case.id == Message.case_id)
        .where(Message.case_id.in_(my_cases), Message.state.in_([s.value for s in QUEUE_STATES]))
        .order_by(Message.submitted_at, Message.created_at)
    ).all()
    return [for_staff(session, svc, message, case) for message, case in rows]


def my_cases(session: Session, actor: Actor) -> list[dict[str, Any]]:
    result = []
    for case, member in cases_of(session, actor):
        entry = {"id": case.id, "reference": case.reference, "status": case.status,
                 "role": member.kind}
        if member.is_participant:
            entry.update({"side": member.side, "participant_role": member.participant_role,
                          "my_label": case.label_of(member.side or ""),
                          "other_label": case.label_of("responsible" if member.side == "harmed" else "harmed")})
        result.append(entry)
    return result
