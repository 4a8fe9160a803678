"""What the pages and the API show of the agreement, the closure and the feedback (issue 11).

A participant sees the other side only by its label, never a name; sees the other side's notes
never; sees how items are kept only if they asked to hear it (recorded at preparation).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from shuttle import blobs, permissions
from shuttle.access import load_case
from shuttle.accounts.models import Account
from shuttle.agreements import aftercare, rules, service
from shuttle.agreements.models import Agreement, AgreementAnswer, AgreementItem, AgreementVersion, ItemUpdate
from shuttle.cases import states
from shuttle.cases.facts import person_gate
from shuttle.cases.models import Case, CaseFacilitator, Participant, other_side
from shuttle.cases.preparation import current_wishes
from shuttle.errors import NotFound
from shuttle.messages.delivery import delivered_text
from shuttle.messages.models import Message
from shuttle.messages.requests import closed_by_request
from shuttle.messages.states import State
from shuttle.permissions import Membership
from shuttle.services import Actor, Services

DECISION_WORDS = {"agree": "agreed", "change": "asked for a change"}


@dataclass(frozen=True)
class UpdateView:
    status: str
    words: str
    note: str
    by: str
    at: datetime


@dataclass(frozen=True)
class ItemView:
    id: str
    number: int
    owner: str
    owner_words: str
    due_on: date | None
    what: str
    check: str
    status: str | None  # None: not shown, or not marked yet
    status_words: str
    history: tuple[UpdateView, ...]  # facilitators only


@dataclass(frozen=True)
class AnswerView:
    side: str
    side_label: str
    decision: str
    words: str
    note: str  # facilitators only ("" for participants)
    at: datetime


@dataclass(frozen=True)
class VersionView:
    id: str
    number: int
    created_at: datetime
    created_by: str
    state: str
    items: tuple[ItemView, ...]
    answers: tuple[AnswerView, ...]


@dataclass(frozen=True)
class ClosureView:
    reason: str
    words: str
    at: datetime


@dataclass(frozen=True)
class StaffAgreementPage:
    case_id: str
    reference: str
    status: str
    status_words: str
    label_harmed: str
    label_responsible: str
    versions: tuple[VersionView, ...]  # newest first
    agreed_version: int | None
    agreed_at: datetime | None
    may_draft: bool
    closure: ClosureView | None
    may_close: bool
    may_finish: bool
    case_version: int
    closure_reasons: tuple[tuple[str, str], ...]
    owners: tuple[tuple[str, str], ...]
    checkins: tuple[aftercare.CheckInView, ...]
    people: tuple[PersonView, ...]
    directory: tuple[aftercare.SupportEntry, ...]


@dataclass(frozen=True)
class PersonView:
    """Someone a facilitator may share support with, and what was shared with them."""

    participant_id: str
    name: str
    side_label: str
    role: str
    shared: tuple[aftercare.SupportEntry, ...]


@dataclass(frozen=True)
class DeliveredView:
    """A message this participant opened. Once the case is closing or closed, a letter's text is shown
    here (the inbox holds everything while a case is not open); recordings and photos are listed."""

    id: str
    kind: str
    from_label: str
    opened_at: datetime | None
    text: str | None


@dataclass(frozen=True)
class ParticipantAgreementPage:
    case_id: str
    status: str
    my_label: str
    other_label: str
    sees_agreement: bool
    latest: VersionView | None
    my_answer: str | None
    other_answer: str | None
    agreed_at: datetime | None
    may_answer: bool
    sees_statuses: bool
    feedback_pending: bool
    delivered: tuple[DeliveredView, ...]
    support: tuple[aftercare.SupportEntry, ...]

    @property
    def closing(self) -> bool:
        return self.status in {states.Status.CLOSING.value, states.Status.CLOSED.value}


def _owner_words(case: Case, owner: str, my_side: str | None) -> str:
    if owner == "service":
        return "the facilitators" if my_side is None else "your facilitator"
    if owner == "both":
        return "both sides" if my_side is None else f"you and {case.label_of(other_side(my_side))}"
    if my_side is not None and owner == my_side:
        return "you"
    return case.label_of(owner)


def _names(session: Session, ids: set[str]) -> dict[str, str]:
    if not ids:
        return {}
    return dict(session.execute(select(Account.id, Account.display_name).where(Account.id.in_(ids))).all())


def _version_view(session: Session, svc: Services, case: Case, version: AgreementVersion, *,
                  member: Membership, statuses: bool) -> VersionView:
    staff = member.is_facilitator
    items = session.scalars(select(AgreementItem).where(AgreementItem.version_id == version.id)
                            .order_by(AgreementItem.number)).all()
    history: dict[str, list[ItemUpdate]] = {}
    if statuses:
        for row in session.scalars(select(ItemUpdate).where(ItemUpdate.item_id.in_([i.id for i in items]))
                                   .order_by(ItemUpdate.id)):
            history.setdefault(row.item_id, []).append(row)
    answers = session.scalars(select(AgreementAnswer).where(AgreementAnswer.version_id == version.id)
                              .order_by(AgreementAnswer.id)).all()
    names = _names(session, {version.created_by} | {u.recorded_by for rows in history.values() for u in rows}) \
        if staff else {}
    item_views = []
    for item in items:
        text = json.loads(blobs.load_text(session, svc.store, item.text_blob_id))
        updates = history.get(item.id, [])
        status = updates[-1].status if updates else None
        item_views.append(ItemView(
            item.id, item.number, item.owner, _owner_words(case, item.owner, None if staff else member.side),
            item.due_on, text["what"], text["check"], status,
            rules.ITEM_WORDS[rules.ItemStatus(status) if status else None],
            tuple(UpdateView(u.status, rules.ITEM_WORDS[rules.ItemStatus(u.status)],
                             blobs.load_text(session, svc.store, u.note_blob_id) if u.note_blob_id else "",
                             names.get(u.recorded_by, ""), u.at) for u in updates) if staff else ()))
    answer_views = tuple(AnswerView(
        a.side, case.label_of(a.side), a.decision, DECISION_WORDS[a.decision],
        blobs.load_text(session, svc.store, a.note_blob_id) if staff and a.note_blob_id else "", a.at)
        for a in answers)
    state = rules.version_state({a.side: rules.Decision(a.decision) for a in answers})
    return VersionView(version.id, version.number, version.created_at, names.get(version.created_by, ""),
                       state.value, tuple(item_views), answer_views)


def staff_page(session: Session, svc: Services, actor: Actor, case_id: str) -> StaffAgreementPage:
    case, member = load_case(session, actor, case_id)
    if not permissions.may_draft_agreement(member):
        raise NotFound()
    agreement = service.agreement_of(session, case.id)
    versions: list[AgreementVersion] = []
    if agreement is not None:
        versions = list(session.scalars(select(AgreementVersion).where(AgreementVersion.agreement_id == agreement.id)
                                        .order_by(AgreementVersion.number.desc())))
    views = tuple(_version_view(session, svc, case, v, member=member,
                                statuses=agreement is not None and v.id == agreement.agreed_version_id)
                  for v in versions)
    agreed = next((v.number for v in versions if agreement and v.id == agreement.agreed_version_id), None)
    status = states.Status(case.status)
    closure = service.closure_of(session, case.id)
    closure_view = ClosureView(closure.reason, states.CLOSURE_WORDS[states.ClosureReason(closure.reason)],
                               closure.at) if closure else None
    return StaffAgreementPage(
        case.id, case.reference, case.status, states.describe(status), case.label_of("harmed"),
        case.label_of("responsible"), views, agreed, agreement.agreed_at if agreement else None,
        rules.agreement_open(status) and agreed is None, closure_view,
        states.Action.CLOSE in states.allowed_actions(status), status is states.Status.CLOSING,
        case.row_version, tuple((r.value, states.CLOSURE_WORDS[r]) for r in states.ClosureReason),
        (("harmed", case.label_of("harmed")), ("responsible", case.label_of("responsible")), ("both", "both sides"),
         ("service", "the facilitators")),
        tuple(aftercare.checkins(session, svc, actor, case.id)), _people(session, case),
        tuple(aftercare.directory(session, svc, actor, active_only=True)))


def _people(session: Session, case: Case) -> tuple[PersonView, ...]:
    rows = session.execute(select(Participant, Account.display_name).join(Account, Account.id == Participant.account_id)
                           .where(Participant.case_id == case.id, Participant.active.is_(True))
                           .order_by(Participant.side, Participant.role, Account.display_name)).all()
    return tuple(PersonView(p.id, name, case.label_of(p.side), p.role, tuple(aftercare.shared_with(session, p.id)))
                 for p, name in rows)


def participant_page(session: Session, svc: Services, actor: Actor, case_id: str) -> ParticipantAgreementPage:
    """A participant's page about the end of the exchange: the agreement (principals and proxies), the
    questionnaire once the case closes, and what was delivered to them, still readable."""
    case, member = load_case(session, actor, case_id)
    if not member.is_participant or member.side is None or member.participant_id is None:
        raise NotFound()
    status = states.Status(case.status)
    latest_view, mine, theirs, agreed_at, may_answer, sees = None, None, None, None, False, False
    if permissions.may_see_agreement(member):
        wishes = current_wishes(session, member.participant_id)
        sees = permissions.may_see_item_statuses(member, wants_outcome_news=bool(wishes and wishes.wants_outcome_news))
        agreement = service.agreement_of(session, case.id)
        latest = service.latest_version(session, agreement)
        if agreement is not None and latest is not None:
            agreed_id = agreement.agreed_version_id
            shown = session.get(AgreementVersion, agreed_id) if agreed_id else latest
            assert shown is not None
            latest_view = _version_view(session, svc, case, shown, member=member, statuses=sees and bool(agreed_id))
            answers = service.answers_to(session, shown.id)
            mine = answers[member.side].value if member.side in answers else None
            other = answers.get(other_side(member.side))
            theirs = other.value if other else None
            agreed_at = agreement.agreed_at
            may_answer = (permissions.may_answer_agreement(member) and rules.agreement_open(status)
                          and mine is None and rules.version_state(answers) is rules.VersionState.AWAITING)
    delivered: tuple[DeliveredView, ...] = ()
    participant = session.get(Participant, member.participant_id)
    if permissions.may_write(member) and participant is not None and \
            person_gate(session, participant, case.label_of(member.side)).receives:
        rows = session.scalars(select(Message).where(Message.case_id == case.id, Message.author_side != member.side,
                                                     Message.state == State.VIEWED.value)
                               .order_by(Message.opened_at)).all()
        closing = status in {states.Status.CLOSING, states.Status.CLOSED}
        delivered = tuple(
            DeliveredView(m.id, m.kind, case.label_of(m.author_side), m.opened_at,
                          delivered_text(session, svc, m) if closing and m.kind == "letter" else None)
            for m in rows if not closed_by_request(session, m.id))
    return ParticipantAgreementPage(
        case.id, case.status, case.label_of(member.side), case.label_of(other_side(member.side)),
        permissions.may_see_agreement(member), latest_view, mine, theirs, agreed_at, may_answer, sees,
        service.feedback_pending(session, case, member), delivered,
        tuple(aftercare.shared_with(session, member.participant_id)))


# --- the facilitators' dashboard -------------------------------------------------------------------


@dataclass(frozen=True)
class DueItem:
    case_id: str
    reference: str
    number: int
    owner_words: str
    due_on: date
    overdue: bool
    kind: str = "item"  # or "checkin": an aftercare check-in with the person on that side (owner_words)


def due_items(session: Session, svc: Services, actor: Actor) -> list[DueItem]:
    """Items of agreed agreements in my cases, not done or missed, due within a week or overdue; then
    the aftercare check-ins due today or earlier, not yet recorded."""
    if actor.role != "facilitator":
        return []
    today = svc.now().date()
    mine = select(CaseFacilitator.case_id).where(CaseFacilitator.account_id == actor.account_id)
    rows = session.execute(
        select(AgreementItem, Case)
        .join(AgreementVersion, AgreementVersion.id == AgreementItem.version_id)
        .join(Agreement, Agreement.agreed_version_id == AgreementVersion.id)
        .join(Case, Case.id == Agreement.case_id)
        .where(Agreement.case_id.in_(mine), Case.status != states.Status.CLOSED.value,
               AgreementItem.due_on.is_not(None),
               AgreementItem.due_on <= date.fromordinal(today.toordinal() + rules.DUE_SOON_DAYS))
        .order_by(AgreementItem.due_on, Case.reference, AgreementItem.number)).all()
    latest = service.item_statuses(session, [item.id for item, _ in rows])
    due = []
    for item, case in rows:
        marked = latest.get(item.id)
        status = rules.ItemStatus(marked.status) if marked else None
        if item.due_on is not None and rules.is_due(item.due_on, status, today=today):
            due.append(DueItem(case.id, case.reference, item.number, _owner_words(case, item.owner, None),
                               item.due_on, item.due_on < today))
    due += [DueItem(c.case_id, c.reference, 0, c.side_label, c.due_on, c.due_on < today, "checkin")
            for c in aftercare.due_checkins(session, svc, actor)]
    return due
