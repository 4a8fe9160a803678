"""The facilitator's dashboard: the review queue in parts, their cases with what waits in each,
recipients' requests and assessments past their review date, in a bounded number of queries
whatever the number of messages and cases."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from shuttle.access import cases_of
from shuttle.accounts.models import Account
from shuttle.cases.models import Assessment, Case, Participant
from shuttle.cases.participation import ExpiredAssessment
from shuttle.messages.queries import QueueItem, queue_items
from shuttle.messages.request_view import OpenRequest, open_requests
from shuttle.messages.states import PREPARING, WAITING_ON_STAFF, State
from shuttle.services import Actor, Services


@dataclass(frozen=True)
class QueueGroup:
    """One part of the dashboard queue; its heading's count is len(items), exactly what is listed."""

    key: str
    heading: str
    items: tuple[QueueItem, ...]


#: The dashboard queue in parts: what needs a decision first, then what is on its way.
QUEUE_GROUPS = (
    ("waiting", "Waiting for your review", WAITING_ON_STAFF),
    ("preparing", "Being prepared", PREPARING),
    ("approved", "Approved, not yet delivered", frozenset({State.APPROVED.value})),
)


@dataclass(frozen=True)
class CaseLine:
    """One of the facilitator's cases, with what waits on them in it."""

    id: str
    reference: str
    status: str
    role: str
    between: str
    waiting: int
    overdue: int
    requests: int


@dataclass(frozen=True)
class Dashboard:
    queue: tuple[QueueItem, ...]
    groups: tuple[QueueGroup, ...]
    cases: tuple[CaseLine, ...]
    requests: tuple[OpenRequest, ...]
    sla_days: int
    waiting: int
    overdue: int
    processing: bool
    expired_assessments: tuple[ExpiredAssessment, ...]


def _overdue(item: QueueItem) -> bool:
    return item.sla is not None and item.sla.state == "overdue"


def expired_assessments_in(session: Session, svc: Services, cases: Sequence[Case]) -> list[ExpiredAssessment]:
    """`participation.expired_assessments` for cases already read: current judgements past their
    review date, in two queries."""
    if not cases:
        return []
    today = svc.now().date()
    people = session.execute(select(Participant, Account.display_name)
                             .outerjoin(Account, Account.id == Participant.account_id)
                             .where(Participant.case_id.in_([c.id for c in cases]), Participant.active.is_(True))
                             ).all()
    latest: dict[tuple[str, str], Assessment] = {}
    if people:
        for row in session.scalars(select(Assessment).where(Assessment.participant_id.in_(
                [p.id for p, _ in people])).order_by(Assessment.id)):
            latest[(row.participant_id, row.kind)] = row  # the latest of each kind wins
    found = []
    for case in cases:
        for participant, name in people:
            if participant.case_id != case.id:
                continue
            for kind in ("eligibility", "suitability"):
                judged = latest.get((participant.id, kind))
                if judged is not None and judged.review_by is not None and judged.review_by < today:
                    found.append(ExpiredAssessment(case.id, case.reference, name or "", kind, judged.review_by))
    return found


def dashboard(session: Session, svc: Services, actor: Actor) -> Dashboard:
    queue = queue_items(session, svc, actor)
    mine = [case for case, member in cases_of(session, actor) if member.is_facilitator]
    asked = open_requests(session, svc, mine) if actor.role == "facilitator" else []
    lines = []
    for case in mine:
        waiting = [m for m in queue if m.case_id == case.id and m.state in WAITING_ON_STAFF]
        lines.append(CaseLine(id=case.id, reference=case.reference, status=case.status, role="facilitator",
                              between=f"{case.label_harmed} and {case.label_responsible}",
                              waiting=len(waiting), overdue=sum(1 for m in waiting if _overdue(m)),
                              requests=sum(1 for r in asked if r.case_id == case.id)))
    groups = tuple(QueueGroup(key, heading, tuple(m for m in queue if m.state in states))
                   for key, heading, states in QUEUE_GROUPS)
    return Dashboard(queue=tuple(queue), groups=groups, cases=tuple(lines), requests=tuple(asked),
                     sla_days=svc.settings.review_sla_working_days, waiting=len(groups[0].items),
                     overdue=sum(1 for m in queue if _overdue(m)),
                     processing=any(m.state in PREPARING for m in queue),
                     expired_assessments=tuple(expired_assessments_in(session, svc, mine)))
