"""The facilitator's dashboard: the review queue in parts, their cases with what waits in each,
recipients' requests and assessments past their review date, in a bounded number of queries
whatever the number of messages and cases."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from shuttle.access import facilitator_cases
from shuttle.accounts.models import Account
from shuttle.cases.models import Assessment, Case, Participant
from shuttle.cases.participation import ExpiredAssessment
from shuttle.messages.queries import QueueItem, queue_items
from shuttle.messages.request_view import OpenRequest, open_requests
from shuttle.messages.staff_view import PeopleRecords
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


def expired_from(cases: Sequence[Case], people: Sequence[tuple[Participant, Account | None]],
                 assessments: Mapping[tuple[str, str], Assessment], today: date) -> list[ExpiredAssessment]:
    """`participation.expired_assessments` from rows already read: current judgements of active
    participants past their review date, case by case."""
    found = []
    for case in cases:
        for participant, account in people:
            if participant.case_id != case.id or not participant.active:
                continue
            for kind in ("eligibility", "suitability"):
                judged = assessments.get((participant.id, kind))
                if judged is not None and judged.review_by is not None and judged.review_by < today:
                    found.append(ExpiredAssessment(case.id, case.reference, account.display_name if account else "",
                                                   kind, judged.review_by))
    return found


def dashboard(session: Session, svc: Services, actor: Actor) -> Dashboard:
    """The dashboard of a facilitator: the people of all their cases (with their consents and
    assessments) are read once and serve both the queue's release gates and the expired list."""
    mine = facilitator_cases(session, actor)
    people = session.execute(select(Participant, Account).outerjoin(Account, Account.id == Participant.account_id)
                             .where(Participant.case_id.in_([c.id for c in mine]))).all() if mine else []
    records = PeopleRecords.load(session, [p.id for p, _ in people])
    queue = queue_items(session, svc, actor, participants={p.id: p for p, _ in people}, people=records.facts(),
                        names={a.id: a.display_name for _, a in people if a is not None})
    asked = open_requests(session, svc, mine)
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
                     expired_assessments=tuple(expired_from(mine, people, records.assessments, svc.now().date())))
