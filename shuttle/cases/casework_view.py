"""What the facilitators' casework pages show (issue 10), as typed view models: one person's
preparation page and the case's private notes."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from shuttle import permissions
from shuttle.access import load_case, load_case_as_facilitator
from shuttle.accounts.models import Account
from shuttle.cases import notes, preparation
from shuttle.cases.models import Participant
from shuttle.cases.notes import NoteView
from shuttle.cases.preparation import PreparationView
from shuttle.cases.workspace import CaseSettings, Named, PersonRow, person_row
from shuttle.errors import NotFound
from shuttle.messages.queries import case_message_names
from shuttle.messages.staff_view import PeopleRecords
from shuttle.services import Actor, Services


@dataclass(frozen=True)
class CaseRef:
    """What a casework page says about its case."""

    id: str
    reference: str
    settings: CaseSettings
    facilitators: tuple[Named, ...]


@dataclass(frozen=True)
class PersonPage:
    case: CaseRef
    person: PersonRow
    prep: PreparationView
    today: str  # ISO date: the meeting form's default and latest day
    side_label: str
    may_write_for: bool  # a letter may be entered on their behalf (principals and proxies who take part)
    ways: Mapping[str, str]  # how a meeting was held, in words


def person_page(session: Session, svc: Services, actor: Actor, case_id: str, participant_id: str) -> PersonPage:
    """The person, their preparation and whether a letter may be entered for them: facilitators only."""
    prep = preparation.preparation(session, svc, actor, case_id, participant_id)
    case, facilitators = load_case_as_facilitator(session, actor, case_id)
    found = session.execute(select(Participant, Account).outerjoin(Account, Account.id == Participant.account_id)
                            .where(Participant.id == participant_id, Participant.case_id == case.id)).first()
    if found is None:
        raise NotFound()
    participant, account = found
    records = PeopleRecords.load(session, [participant.id])
    today = svc.now().date()
    person = person_row(participant, account, records.consents[participant.id], records.facts()[participant.id],
                        today)
    return PersonPage(
        case=CaseRef(case.id, case.reference,
                     CaseSettings(case.label_harmed, case.label_responsible, case.initiator,
                                  case.responsible_may_reply, case.approvals_required,
                                  case.author_must_accept_edits, case.read_receipts_allowed),
                     tuple(Named(a.id, a.display_name) for a in facilitators)),
        person=person, prep=prep, today=today.isoformat(), side_label=case.label_of(person.side),
        may_write_for=person.role in permissions.AUTHORING_ROLES and person.active,
        ways=preparation.MEETING_WAYS)


@dataclass(frozen=True)
class NotesPage:
    case_id: str
    reference: str
    notes: tuple[NoteView, ...]
    names: Mapping[str, str]  # message id -> "Letter 1"
    message_id: str | None  # the message whose notes these are; None for all the case's
    message_name: str | None


def notes_page(session: Session, svc: Services, actor: Actor, case_id: str, message_id: str | None) -> NotesPage:
    """The case's (or one message's) private notes; reading them is audited by `notes.read_notes`."""
    case, _ = load_case(session, actor, case_id)
    shown = notes.read_notes(session, svc, actor, case_id, message_id=message_id)
    names = case_message_names(session, case.id)
    return NotesPage(case_id=case.id, reference=case.reference, notes=tuple(shown), names=names,
                     message_id=message_id, message_name=names.get(message_id or ""))
