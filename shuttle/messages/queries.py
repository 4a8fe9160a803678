"""Lists: a case's messages as one member sees them, and a facilitator's review queue."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from shuttle import permissions
from shuttle.access import case_list_of, load_case
from shuttle.accounts.models import Account
from shuttle.audit import log as audit
from shuttle.cases.models import Case, CaseFacilitator, Participant
from shuttle.messages import sla
from shuttle.messages.models import Approval, Message
from shuttle.messages.numbering import Numbered, message_names
from shuttle.messages.staff_view import (
    PersonFacts,
    StaffMessage,
    StaffRows,
    duration_words,
    plain,
    staff_message,
    staff_messages,
)
from shuttle.messages.states import WAITING_ON_STAFF, State
from shuttle.messages.views import participant_case_messages
from shuttle.services import Actor, Services

#: What a facilitator has to do something about, in the order they should do it.
QUEUE_STATES = (State.AWAITING_REVIEW, State.IN_REVIEW, State.PROCESSING_FAILED, State.SUBMITTED,
                State.PROCESSING, State.APPROVED)


def case_messages(session: Session, svc: Services, actor: Actor, case_id: str) -> list[dict[str, Any]]:
    case, member = load_case(session, actor, case_id)
    if not member.is_facilitator:  # a participant's views in a fixed number of queries
        return participant_case_messages(session, svc, member, case)
    messages = session.scalars(select(Message).where(Message.case_id == case.id).order_by(Message.created_at)).all()
    seen = [m for m in messages if permissions.may_see_message(
        member, author_side=m.author_side, state=State(m.state), submitted=m.first_submitted_at is not None,
        author_participant_id=m.author_participant_id)]
    # staff views in a bounded number of queries
    return [view.as_dict() for view in staff_messages(session, svc, [(m, case) for m in seen])]


def case_message_names(session: Session, case_id: str) -> dict[str, str]:
    """"Letter 1", "Video 2" for the case's sent messages (numbering.message_names)."""
    rows = session.execute(select(Message.id, Message.kind, Message.first_submitted_at, Message.created_at)
                           .where(Message.case_id == case_id, Message.first_submitted_at.is_not(None))).all()
    return message_names(Numbered(*row) for row in rows)


def _queued(session: Session, actor: Actor) -> list[tuple[Message, Case]]:
    """The messages waiting on the facilitators of the actor's cases, oldest first."""
    my_cases = select(CaseFacilitator.case_id).where(CaseFacilitator.account_id == actor.account_id)
    rows = session.execute(
        select(Message, Case).join(Case, Case.id == Message.case_id)
        .where(Message.case_id.in_(my_cases), Message.state.in_([s.value for s in QUEUE_STATES]))
        .order_by(Message.submitted_at, Message.created_at)
    ).all()
    return [(message, case) for message, case in rows]


def review_queue(session: Session, svc: Services, actor: Actor) -> list[dict[str, Any]]:
    """Every message waiting on the facilitators of my cases, oldest first."""
    if actor.role != "facilitator":
        return []
    return [view.as_dict() for view in staff_messages(session, svc, _queued(session, actor))]


def my_cases(session: Session, actor: Actor) -> list[dict[str, Any]]:
    """The actor's cases, newest first, in one statement (`case_list_of`)."""
    result = []
    for case_id, reference, status, harmed, responsible, member in case_list_of(session, actor):
        entry: dict[str, Any] = {"id": case_id, "reference": reference, "status": status, "role": member.kind}
        if member.is_participant:
            mine, other = (harmed, responsible) if member.side == "harmed" else (responsible, harmed)
            entry.update({"side": member.side, "participant_role": member.participant_role,
                          "my_label": mine, "other_label": other})
        result.append(entry)
    return result


# --- the facilitator's dashboard queue: waiting times, the review deadline, escalation ----------

ESCALATE = "message.escalate"


def waiting_since(messages: list[Message]) -> dict[str, datetime]:
    """When each message last came to its facilitators (`Message.waiting_since`, kept by
    `lifecycle`): entering a waiting state from any other state (processed, accepted edit, hold
    lifted) starts the clock; moving between waiting states (claim, give back, a first of two
    approvals) does not. Without it (older rows): its submission time."""
    return {m.id: m.waiting_since or m.submitted_at or m.created_at for m in messages}


def _facilitators_in_order(session: Session, case_ids: set[str]) -> dict[str, list[str]]:
    """Each case's facilitators, the lead (assigned first) first."""
    rows = session.execute(select(CaseFacilitator.case_id, CaseFacilitator.account_id)
                           .where(CaseFacilitator.case_id.in_(case_ids)).order_by(CaseFacilitator.id)).all()
    result: dict[str, list[str]] = {case_id: [] for case_id in case_ids}
    for case_id, account_id in rows:
        result[case_id].append(account_id)
    return result


def _facilitators_named(session: Session, case_ids: set[str]) -> tuple[dict[str, list[str]], dict[str, str]]:
    """`_facilitators_in_order` with their names, in one query."""
    order: dict[str, list[str]] = {case_id: [] for case_id in case_ids}
    names: dict[str, str] = {}
    if case_ids:
        for case_id, account_id, name in session.execute(
                select(CaseFacilitator.case_id, Account.id, Account.display_name)
                .join(Account, Account.id == CaseFacilitator.account_id)
                .where(CaseFacilitator.case_id.in_(case_ids)).order_by(CaseFacilitator.id)):
            order[case_id].append(account_id)
            names[account_id] = name
    return order, names


def escalation_targets(facilitators: list[str], claimed_by: str | None,
                       approved_by: Collection[str] = ()) -> list[str]:
    """Who an overdue message goes to: the case's other facilitator than the one holding it
    (the reviewer who claimed it, else the lead facilitator). Nobody in a one-facilitator case.
    A facilitator who already approved it cannot give the second approval: when one did, it goes
    to whoever still can."""
    if not facilitators:
        return []
    holder = claimed_by if claimed_by in facilitators else facilitators[0]
    can_act = [f for f in facilitators if f not in approved_by]
    others = [f for f in can_act if f != holder]
    return others if others or not approved_by else can_act


def _escalate(session: Session, message: Message, targets: list[str], since: datetime, days: int,
              now: datetime) -> bool:
    """Record the escalation of an overdue message once per time it waits (an audit event)."""
    if message.escalated_at is not None and message.escalated_at >= since:
        return False
    message.escalated_at = now
    audit.record(session, action=ESCALATE, actor_role="system", case_id=message.case_id,
                 subject_type="message", subject_id=message.id,
                 details={"to": targets, "working_days": days, "waiting_since": since.isoformat()}, now=now)
    return True


def overdue_candidates(session: Session, now: datetime, days: int, limit: int) -> list[Message]:
    """Messages that may be overdue and are not yet escalated for this wait, by index: overdue
    needs at least `days` of working time, so at least `days` calendar days of waiting."""
    waited_long = or_(Message.waiting_since <= now - timedelta(days=days),
                      and_(Message.waiting_since.is_(None), Message.submitted_at <= now - timedelta(days=days)))
    not_yet = or_(Message.escalated_at.is_(None), Message.escalated_at < Message.waiting_since)
    return list(session.scalars(select(Message).where(
        Message.state.in_([s.value for s in WAITING_ON_STAFF]), waited_long, not_yet)
        .order_by(Message.waiting_since).limit(limit)))


def escalate_overdue(session: Session, svc: Services, *, limit: int = 200) -> int:
    """Periodic only (a GET never writes): escalate each newly overdue message, at most `limit`
    in this transaction. Returns how many were escalated. Only audit events and the message's
    `escalated_at` are written: nothing about the message's state changes."""
    days = svc.settings.review_sla_working_days
    if not days:
        return 0
    now = svc.now()
    candidates = overdue_candidates(session, now, days, limit)
    since = waiting_since(candidates)
    overdue = [m for m in candidates if sla.status(since[m.id], now, days).overdue]
    facilitators = _facilitators_in_order(session, {m.case_id for m in overdue})
    approvals = _approvers(session, [m.current_version_id for m in overdue if m.current_version_id])
    escalated = 0
    for message in overdue:
        targets = escalation_targets(facilitators[message.case_id], message.claimed_by,
                                     approvals.get(message.current_version_id or "", []))
        escalated += _escalate(session, message, targets, since[message.id], days, now)
    return escalated


def _approvers(session: Session, version_ids: list[str]) -> dict[str, list[str]]:
    """Standing approvals per version, in one query."""
    found: dict[str, list[str]] = {v: [] for v in version_ids}
    if version_ids:
        for version_id, facilitator_id in session.execute(
                select(Approval.version_id, Approval.facilitator_id)
                .where(Approval.version_id.in_(version_ids), Approval.revoked_at.is_(None))):
            found[version_id].append(facilitator_id)
    return found


@dataclass(frozen=True)
class Deadline:
    state: str  # sla.status: "on_time", "due_soon", "overdue"
    label: str
    due: str


@dataclass(frozen=True)
class QueueItem(StaffMessage):
    """A message in a facilitator's queue: its staff view, how long it waited, its review deadline."""

    waiting_since: str
    waited: str
    approved_by_me: bool
    has_poster: bool
    duration_ms: int | None
    sla: Deadline | None
    escalated_to: tuple[str, ...]
    escalated_to_me: bool

    @property
    def duration(self) -> str:
        return duration_words(self.duration_ms)

    def as_dict(self) -> dict[str, Any]:
        return {f.name: plain(getattr(self, f.name)) for f in fields(QueueItem)}


def facilitator_queue(session: Session, svc: Services, actor: Actor) -> list[dict[str, Any]]:
    """`queue_items` as plain dicts."""
    return [item.as_dict() for item in queue_items(session, svc, actor)]


def queue_items(session: Session, svc: Services, actor: Actor, *,
                participants: Mapping[str, Participant] | None = None,
                people: Mapping[str, PersonFacts] | None = None,
                names: Mapping[str, str] | None = None) -> list[QueueItem]:
    """The review queue with each message's waiting time and review deadline
    (SHUTTLE_REVIEW_SLA_WORKING_DAYS, working days Monday to Friday), in a bounded number of queries.

    An overdue message goes to the co-facilitator: it comes first in their queue marked
    `escalated_to_me` (the periodic tick records the escalation; this view writes nothing).
    Nothing is ever rejected or changed because of the deadline.

    What the caller read already (`StaffRows.load`'s participants, people and names: the
    dashboard reads the people of all the facilitator's cases) is not read again.
    """
    if actor.role != "facilitator":
        return []
    rows = _queued(session, actor)
    now = svc.now()
    days = svc.settings.review_sla_working_days
    since = waiting_since([m for m, _ in rows if m.state in WAITING_ON_STAFF])
    for message, _ in rows:  # the rest (being prepared, approved): since it was sent
        since.setdefault(message.id, message.submitted_at or message.created_at)
    facilitators, named = _facilitators_named(session, {c.id for _, c in rows})
    loaded = StaffRows.load(session, [m for m, _ in rows], participants=participants, people=people,
                            names={**(names or {}), **named})
    items = []
    for message, case in rows:
        view = staff_message(svc, loaded, message, case)
        current = next((v for v in loaded.versions[message.id] if v.id == message.current_version_id), None)
        deadline, escalated_to, escalated_to_me = None, [], False
        if days and message.state in WAITING_ON_STAFF:
            status = sla.status(since[message.id], now, days)
            deadline = Deadline(status.state, status.label, status.due.isoformat())
            if status.overdue:
                targets = escalation_targets(facilitators[case.id], message.claimed_by, view.approved_by)
                escalated_to = [loaded.names.get(t, "") for t in targets]
                escalated_to_me = actor.account_id in targets
        items.append(QueueItem(
            **{f.name: getattr(view, f.name) for f in fields(StaffMessage)},
            waiting_since=since[message.id].isoformat(),
            waited=sla.describe_wait(max(now - since[message.id], timedelta(0))),
            approved_by_me=actor.account_id in view.approved_by,
            has_poster=bool(current and current.poster_blob_id and current.processed_blob_id),
            duration_ms=current.duration_ms if current else None,
            sla=deadline, escalated_to=tuple(escalated_to), escalated_to_me=escalated_to_me))
    items.sort(key=lambda i: not i.escalated_to_me)  # stable: oldest first within each group
    return items
