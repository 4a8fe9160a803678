"""The staff case page as one view model, read in a bounded number of queries whatever the number
of messages, people and events: the case and its facilitators, its people with their consents and
assessments, its messages as staff see them, the timeline, and recipients' open requests.

Each kind of row is read once and shared by the parts that need it (the people's consents serve
both the participants table and the release gates of approved messages)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields, replace
from datetime import date

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from shuttle.access import load_case_as_facilitator
from shuttle.accounts.models import Account
from shuttle.cases.facts import assessment_status
from shuttle.cases.models import ASSESSMENT_OUTCOMES, Consent, Participant, shown_label
from shuttle.cases.participation import (
    MAX_SCAN_BYTES,
    AssessmentView,
    ConsentView,
    OrganisationChoice,
    assessment_views,
    consent_views,
)
from shuttle.cases.service import STATUS_MOVES
from shuttle.cases.timeline import Entry, timeline_event_rows, timeline_of
from shuttle.messages import supported_opening
from shuttle.messages.models import Message
from shuttle.messages.numbering import Numbered, message_names
from shuttle.messages.request_view import OpenRequest, open_requests
from shuttle.messages.staff_view import PeopleRecords, PersonFacts, StaffMessage, StaffRows, staff_message
from shuttle.messages.states import State
from shuttle.messages.supported_opening import SupportedView
from shuttle.organisations.models import Organisation
from shuttle.permissions import Membership, may_see_message
from shuttle.services import Actor, Services

#: The order the case page offers status moves in.
MOVE_ORDER = ["open", "paused", "closing", "closed"]
#: How many timeline entries the case page shows, newest first, unless asked for the whole timeline
#: (issue 14: a long case's whole timeline was a third of the page's time).
TIMELINE_NEWEST = 30


@dataclass(frozen=True)
class CaseSettings:
    label_harmed: str
    label_responsible: str
    initiator: str
    responsible_may_reply: bool
    approvals_required: int
    author_must_accept_edits: bool
    read_receipts_allowed: bool

    # The labels as stored are what the settings form edits; these are what a sentence shows (a default
    # label in the reader's language).
    @property
    def harmed_shown(self) -> str:
        return shown_label(self.label_harmed)

    @property
    def responsible_shown(self) -> str:
        return shown_label(self.label_responsible)


@dataclass(frozen=True)
class Named:
    id: str
    name: str


@dataclass(frozen=True)
class PersonRow:
    """A participant in the participants table."""

    id: str
    side: str
    role: str
    acting_for: str
    name: str
    username: str
    consent_take_part: bool
    consent_receive: bool
    assessment: str | None  # assessment_status: 'suitable', 'not_suitable', 'expired' or None
    holding_deliveries: bool
    active: bool
    withdrew_at: str | None  # when they withdrew themselves (their latest take-part consent)


@dataclass(frozen=True)
class CaseHeader:
    id: str
    reference: str
    status: str
    version: int
    settings: CaseSettings
    watchlist: tuple[str, ...]
    facilitators: tuple[Named, ...]
    participants: tuple[PersonRow, ...]


@dataclass(frozen=True)
class SideOfCase:
    side: str
    label: str
    people: tuple[PersonRow, ...]


@dataclass(frozen=True)
class PersonPreparation:
    participant_id: str
    consents: tuple[ConsentView, ...]
    assessments: tuple[AssessmentView, ...]


@dataclass(frozen=True)
class CasePreparation:
    people: dict[str, PersonPreparation]
    organisations: tuple[OrganisationChoice, ...]
    proceedings_ongoing: bool
    proceedings_hold: bool  # the service's setting: proceedings hold the exchange
    today: date
    max_scan_mb: int


@dataclass(frozen=True)
class CaseMessage(StaffMessage):
    name: str  # "Letter 1": numbering.message_names


@dataclass(frozen=True)
class CaseWorkspace:
    case: CaseHeader
    sides: tuple[SideOfCase, ...]
    messages: tuple[CaseMessage, ...]
    moves: tuple[str, ...]
    preparing: CasePreparation
    timeline: tuple[Entry, ...]  # newest first
    requests: tuple[OpenRequest, ...]
    #: issue 12: recipients waiting to open a message with their facilitator (`supported_opening`)
    supported: tuple[SupportedView, ...] = ()
    timeline_total: int = 0  # the entries of the whole timeline; `timeline` is its newest when fewer
    timeline_whole: bool = False  # the whole timeline was asked for (else the newest `timeline_newest`)
    timeline_newest: int = TIMELINE_NEWEST


def newest_first(entries: Sequence[Entry]) -> list[Entry]:
    """Newest first; a message's state now is said once, at its latest entry."""
    seen: set[str] = set()
    result = []
    for entry in reversed(entries):
        if entry.message_id in seen:
            entry = replace(entry, message_state=None)
        elif entry.message_id:
            seen.add(entry.message_id)
        result.append(entry)
    return result


def person_row(p: Participant, account: Account | None, consents: Sequence[Consent], facts: PersonFacts,
            today: date) -> PersonRow:
    """A participant's line in the participants table from their rows (`PeopleRecords`)."""
    took_part = [c for c in consents if c.kind == "take_part"]
    latest = took_part[-1] if took_part else None
    withdrew = (latest.recorded_at.isoformat() if latest is not None and not latest.granted
                and latest.recorded_by == p.account_id else None)
    return PersonRow(id=p.id, side=p.side, role=p.role, acting_for=p.acting_for,
                     name=account.display_name if account else "", username=account.username if account else "",
                     consent_take_part=facts.takes_part, consent_receive=facts.receives,
                     assessment=assessment_status(facts.eligibility, facts.suitability, today),
                     holding_deliveries=p.holding_deliveries, active=p.active, withdrew_at=withdrew)


def case_workspace(session: Session, svc: Services, actor: Actor, case_id: str, *,
                   whole_timeline: bool = False) -> CaseWorkspace:
    """The staff case page for one of the case's facilitators; NotFound for anyone else. Its
    timeline is the newest TIMELINE_NEWEST entries, or all of them with `whole_timeline`."""
    case, facilitators = load_case_as_facilitator(session, actor, case_id)
    now = svc.now()
    people = session.execute(select(Participant, Account).outerjoin(Account, Account.id == Participant.account_id)
                             .where(Participant.case_id == case.id)
                             .order_by(Participant.side, Participant.role)).all()
    ids = [p.id for p, _ in people]
    records = PeopleRecords.load(session, ids)
    consents, latest, facts = records.consents, records.assessments, records.facts()
    referenced = {c.organisation_id for rows in consents.values() for c in rows if c.organisation_id}
    organisations = list(session.scalars(select(Organisation).where(
        or_(Organisation.active.is_(True), Organisation.id.in_(referenced))).order_by(Organisation.name)))
    rows = [person_row(p, account, consents[p.id], facts[p.id], now.date()) for p, account in people]

    member = Membership("facilitator")
    messages = list(session.scalars(select(Message).where(Message.case_id == case.id).order_by(Message.created_at)))
    shown = [m for m in messages if may_see_message(member, author_side=m.author_side, state=State(m.state),
                                                    submitted=m.first_submitted_at is not None,
                                                    author_participant_id=m.author_participant_id)]
    accounts = {a.id: a for _, a in people if a is not None} | {a.id: a for a in facilitators}
    events = timeline_event_rows(session, case.id)
    staff_ids = {e.actor_id for e in events if e.actor_id and e.actor_id not in accounts}
    loaded = StaffRows.load(session, shown, participants={p.id: p for p, _ in people}, people=facts,
                            names={a.id: a.display_name for a in accounts.values()}, accounts=staff_ids)
    staff = {a.id: a.display_name for a in accounts.values() if a.role != "participant"}
    staff |= {i: loaded.names[i] for i in staff_ids if i in loaded.names and loaded.roles.get(i) != "participant"}
    names = message_names(Numbered(m.id, m.kind, m.first_submitted_at, m.created_at)
                          for m in shown if m.first_submitted_at is not None)
    views = [staff_message(svc, loaded, m, case) for m in shown]
    org_names = {o.id: o.name for o in organisations}
    timeline, total = timeline_of(case, messages, [p for p, _ in people], events, staff,
                                  newest=None if whole_timeline else TIMELINE_NEWEST)
    return CaseWorkspace(
        case=CaseHeader(id=case.id, reference=case.reference, status=case.status, version=case.row_version,
                        settings=CaseSettings(case.label_harmed, case.label_responsible, case.initiator,
                                              case.responsible_may_reply, case.approvals_required,
                                              case.author_must_accept_edits, case.read_receipts_allowed),
                        watchlist=tuple(case.watchlist or []),
                        facilitators=tuple(Named(a.id, a.display_name) for a in facilitators),
                        participants=tuple(rows)),
        sides=tuple(SideOfCase(side, case.label_of(side), tuple(r for r in rows if r.side == side))
                    for side in ("harmed", "responsible")),
        messages=tuple(CaseMessage(**{f.name: getattr(v, f.name) for f in fields(StaffMessage)}, name=names[v.id])
                       for v in views),
        moves=tuple(sorted(STATUS_MOVES[case.status], key=MOVE_ORDER.index)),
        preparing=CasePreparation(
            people={i: PersonPreparation(i, tuple(consent_views(i, consents[i], org_names)),
                                         tuple(assessment_views({k: latest.get((i, k)) for k in ASSESSMENT_OUTCOMES},
                                                                now)))
                    for i in ids},
            organisations=tuple(OrganisationChoice(o.id, o.name) for o in organisations if o.active),
            proceedings_ongoing=case.proceedings_ongoing, proceedings_hold=svc.settings.hold_during_proceedings,
            today=now.date(), max_scan_mb=MAX_SCAN_BYTES // (1024 * 1024)),
        timeline=tuple(newest_first(timeline)),
        requests=tuple(open_requests(session, svc, [case])),
        supported=tuple(supported_opening.waiting_in(session, svc, [case], with_notes=True)),
        timeline_total=total,
        timeline_whole=whole_timeline,
    )

