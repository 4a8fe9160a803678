"""The coordinator's view of cases: the list with its filters, and one case's staffing.

Read-only, and free of message content: the coordinator sees references, statuses, who
facilitates, how many messages wait on them and whether any is past its review deadline,
never what anyone wrote (DESIGN.md section 8).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shuttle import permissions
from shuttle.accounts.models import Account
from shuttle.cases.assignment import REASONS, facilitators_of
from shuttle.cases.conflict_models import CaseConflict
from shuttle.cases.models import CASE_STATUSES, SIDES, Case, CaseFacilitator, Participant
from shuttle.errors import BadInput, NotFound
from shuttle.i18n import N_, Sentence
from shuttle.messages import queries, sla
from shuttle.messages.models import Message
from shuttle.messages.states import WAITING_ON_STAFF
from shuttle.services import Actor, Services

WAITING = [s.value for s in WAITING_ON_STAFF]


@dataclass(frozen=True)
class Person:
    """A staff member as the coordinator's pages name them."""

    account_id: str
    display_name: str
    username: str
    active: bool
    conflicted: bool = False


@dataclass(frozen=True)
class CaseRow:
    id: str
    reference: str
    status: str
    created_at: datetime
    facilitators: tuple[Person, ...]
    waiting: int  # messages waiting on the facilitators' review
    overdue: int  # of those, past the review deadline

    @property
    def needs_attention(self) -> tuple[str, ...]:
        """What the coordinator should look at, in words (Sentences, translated where the page shows them)."""
        said: list[str] = []
        if self.overdue:
            said.append(Sentence(N_("%(count)s overdue"), count=self.overdue))
        said += [Sentence(N_("%(name)s: conflict of interest"), name=p.display_name)
                 for p in self.facilitators if p.conflicted]
        said += [Sentence(N_("%(name)s: account deactivated"), name=p.display_name)
                 for p in self.facilitators if not p.active]
        return tuple(said)


@dataclass(frozen=True)
class CaseFilters:
    status: str = ""
    facilitator: str = ""
    overdue: bool = False


@dataclass(frozen=True)
class CaseList:
    rows: tuple[CaseRow, ...]
    filters: CaseFilters
    statuses: tuple[str, ...]
    facilitators: tuple[Person, ...]  # every facilitator account, for the filter


@dataclass(frozen=True)
class ConflictRow:
    person: Person
    recorded_at: datetime
    recorded_by: str


@dataclass(frozen=True)
class CaseStaffing:
    """One case as the coordinator manages its staffing."""

    row: CaseRow
    approvals_required: int
    participants: tuple[tuple[str, int], ...]  # (side, how many people), no names
    conflicts: tuple[ConflictRow, ...]
    candidates: tuple[Person, ...]  # active facilitators who may join: not on the case, no conflict
    reasons: tuple[tuple[str, str], ...]

    @property
    def can_add(self) -> bool:
        return len(self.row.facilitators) < 2 and self.row.status != "closed"

    @property
    def can_remove(self) -> bool:
        return len(self.row.facilitators) > 1 and self.approvals_required < 2 and self.row.status != "closed"


def _coordinator(actor: Actor) -> None:
    if not permissions.may_run_service(actor.role):
        raise NotFound()


def _person(account: Account, conflicted: bool = False) -> Person:
    return Person(account.id, account.display_name, account.username, account.active, conflicted)


def _all_facilitators(session: Session) -> list[Account]:
    return list(session.scalars(select(Account).where(Account.role == "facilitator")
                                .order_by(Account.display_name, Account.username)))


def _overdue(svc: Services, messages: list[Message]) -> int:
    days = svc.settings.review_sla_working_days
    if not days:
        return 0
    since, now = queries.waiting_since(messages), svc.now()
    return sum(1 for m in messages if sla.status(since[m.id], now, days).overdue)


def _rows(session: Session, svc: Services, cases: list[Case]) -> list[CaseRow]:
    ids = [c.id for c in cases]
    if not ids:
        return []
    staff = {a.id: a for a in session.scalars(select(Account).join(
        CaseFacilitator, CaseFacilitator.account_id == Account.id).where(CaseFacilitator.case_id.in_(ids)))}
    assigned: dict[str, list[str]] = {i: [] for i in ids}
    for case_id, account_id in session.execute(select(CaseFacilitator.case_id, CaseFacilitator.account_id)
                                               .where(CaseFacilitator.case_id.in_(ids)).order_by(CaseFacilitator.id)):
        assigned[case_id].append(account_id)
    conflicts = {(case_id, account_id) for case_id, account_id in session.execute(
        select(CaseConflict.case_id, CaseConflict.account_id).where(CaseConflict.case_id.in_(ids)))}
    waiting: dict[str, list[Message]] = {i: [] for i in ids}
    for message in session.scalars(select(Message).where(Message.case_id.in_(ids), Message.state.in_(WAITING))):
        waiting[message.case_id].append(message)
    return [CaseRow(id=c.id, reference=c.reference, status=c.status, created_at=c.created_at,
                    facilitators=tuple(_person(staff[a], (c.id, a) in conflicts) for a in assigned[c.id]),
                    waiting=len(waiting[c.id]), overdue=_overdue(svc, waiting[c.id])) for c in cases]


def case_list(session: Session, svc: Services, actor: Actor, filters: CaseFilters) -> CaseList:
    """Every case, newest first, narrowed by status, by facilitator, or to those with overdue reviews."""
    _coordinator(actor)
    facilitators = _all_facilitators(session)
    if filters.status and filters.status not in CASE_STATUSES:
        raise BadInput(Sentence(N_("Status is one of: %(statuses)s."), statuses=", ".join(CASE_STATUSES)),
                       code="status")
    if filters.facilitator and filters.facilitator not in {a.id for a in facilitators}:
        raise BadInput(N_("Choose a facilitator from the list."), code="facilitator")
    query = select(Case).order_by(Case.created_at.desc(), Case.reference)
    if filters.status:
        query = query.where(Case.status == filters.status)
    if filters.facilitator:
        query = query.where(Case.id.in_(select(CaseFacilitator.case_id)
                                        .where(CaseFacilitator.account_id == filters.facilitator)))
    rows = _rows(session, svc, list(session.scalars(query)))
    if filters.overdue:
        rows = [r for r in rows if r.overdue]
    return CaseList(rows=tuple(rows), filters=filters, statuses=CASE_STATUSES,
                    facilitators=tuple(_person(a) for a in facilitators))


def case_staffing(session: Session, svc: Services, actor: Actor, case_id: str) -> CaseStaffing:
    _coordinator(actor)
    case = session.get(Case, case_id)
    if case is None:
        raise NotFound()
    row = _rows(session, svc, [case])[0]
    counts = dict(session.execute(select(Participant.side, func.count()).where(
        Participant.case_id == case.id, Participant.active.is_(True)).group_by(Participant.side)).all())
    recorded = session.scalars(select(CaseConflict).where(CaseConflict.case_id == case.id)
                               .order_by(CaseConflict.recorded_at)).all()
    names = {a.id: a for a in session.scalars(select(Account).where(Account.id.in_(
        {c.account_id for c in recorded} | {c.recorded_by for c in recorded if c.recorded_by})))}
    conflicts = tuple(ConflictRow(_person(names[c.account_id], True), c.recorded_at,
                                  names[c.recorded_by].display_name if c.recorded_by in names else "")
                      for c in recorded)
    on_case = {f.account_id for f in facilitators_of(session, case.id)}
    blocked = on_case | {c.account_id for c in recorded}
    candidates = tuple(_person(a) for a in _all_facilitators(session) if a.active and a.id not in blocked)
    return CaseStaffing(row=row, approvals_required=case.approvals_required,
                        participants=tuple((side, int(counts.get(side, 0))) for side in SIDES),
                        conflicts=conflicts, candidates=candidates, reasons=tuple(REASONS.items()))
