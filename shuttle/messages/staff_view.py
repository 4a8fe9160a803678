"""What a facilitator is shown of messages, for any number of them in a bounded number of queries.

`StaffRows.load` reads what the views need for a set of messages with one query per kind of
thing (versions, processing jobs, approvals, the cases' people and the names of accounts, and,
when one of them is approved, the consents and assessments its gates ask about), whatever the
number of messages. `staff_message` then builds each view from those rows without touching the
database. The view is the one `messages.views.for_staff` gives one message at a time;
`StaffMessage.as_dict` is its JSON form, key for key.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields, is_dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from shuttle import permissions
from shuttle.accounts.models import Account
from shuttle.cases.facts import assessment_status
from shuttle.cases.models import Assessment, Case, Consent, Participant, other_side
from shuttle.i18n import N_, Sentence
from shuttle.jobs.models import Job
from shuttle.messages import writers
from shuttle.messages.gates import PersonGate, release_blockers
from shuttle.messages.lifecycle import position
from shuttle.messages.models import Approval, Message, MessageVersion
from shuttle.messages.release import facts_from
from shuttle.messages.states import Action, Context, State, allowed_actions, describe
from shuttle.services import Services

REVIEW_ACTIONS = frozenset({Action.CLAIM, Action.UNCLAIM, Action.REQUEST_CHANGES, Action.PROPOSE_EDIT,
                            Action.REJECT, Action.APPROVE, Action.RETRY_PROCESSING})


def duration_words(ms: int | None) -> str:
    """'1.3 s', '42 s', '3 min 5 s': tenths matter for a short clip someone is cutting."""
    if not ms:
        return ""
    if ms < 10_000:
        return Sentence(N_("%(seconds)s s"), seconds=f"{ms / 1000:.1f}".removesuffix(".0"))
    minutes, seconds = divmod(round(ms / 1000), 60)
    return (Sentence(N_("%(minutes)s min %(seconds)s s"), minutes=minutes, seconds=seconds) if minutes
            else Sentence(N_("%(seconds)s s"), seconds=seconds))


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


@dataclass(frozen=True)
class VersionRow:
    id: str
    number: int
    origin: str
    processed: bool
    flag_count: int
    author_decision: str | None
    created_at: str | None


@dataclass(frozen=True)
class Processing:
    state: str
    attempts: int
    max_attempts: int
    progress: int | None
    error: str | None


@dataclass(frozen=True)
class ApprovalRow:
    """An approval's columns the views read (read as columns: no ORM object per approval)."""

    id: int
    version_id: str
    facilitator_id: str
    at: datetime
    revoked_at: datetime | None


@dataclass(frozen=True)
class StaffMessage:
    """One message as its case's facilitators see it."""

    id: str
    case_id: str
    case_reference: str
    kind: str
    author_side: str
    author_label: str
    written_as: str
    entered_by: str | None  # a facilitator who wrote it on the author's behalf
    state: str
    status: str
    held_from: str | None
    version: int
    claimed_by: str | None
    claimed_by_id: str | None
    current_version_id: str | None
    approved_version_id: str | None
    approvals: int
    approved_by: tuple[str, ...]
    approvals_required: int
    versions: tuple[VersionRow, ...]
    processing: Processing | None
    release_blockers: tuple[str, ...]
    processing_error: str | None
    scheduled_release_at: str | None
    submitted_at: str | None
    released_at: str | None
    opened_at: str | None
    recalled_at: str | None
    actions: tuple[str, ...]
    in_reply_to: str | None  # the id of the message it answers (issue 12)

    def as_dict(self) -> dict[str, Any]:
        """The JSON form (the API's message for staff): lists for sequences, objects for parts."""
        return {f.name: plain(getattr(self, f.name)) for f in fields(StaffMessage)}


def plain(value: Any) -> Any:
    """A view's value as JSON has it: tuples as lists, parts (dataclasses) as objects."""
    if isinstance(value, tuple):
        return [plain(v) for v in value]
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in fields(value)}
    return value


@dataclass(frozen=True)
class PersonFacts:
    """What a person gate asks about one participant: their latest consents and assessments."""

    takes_part: bool = False
    receives: bool = False
    eligibility: Assessment | None = None
    suitability: Assessment | None = None


@dataclass(frozen=True)
class StaffRows:
    """The rows the staff views of a set of messages need, each kind read once."""

    versions: Mapping[str, list[MessageVersion]]  # by message id, in number order
    jobs: Mapping[str, Processing]  # by job id: its columns the views show (not its payload or result)
    approvals: Mapping[str, list[ApprovalRow]]  # by version id, oldest first
    participants: Mapping[str, Participant]  # everyone in the messages' cases, in the database's order
    names: Mapping[str, str]  # account id -> display name
    people: Mapping[str, PersonFacts] = field(default_factory=dict)  # participant id -> gate facts
    roles: Mapping[str, str] = field(default_factory=dict)  # account id -> role, for the accounts read here

    @staticmethod
    def load(session: Session, messages: Sequence[Message], *, accounts: Iterable[str] = (),
             participants: Mapping[str, Participant] | None = None, people: Mapping[str, PersonFacts] | None = None,
             names: Mapping[str, str] | None = None) -> StaffRows:
        """Read the rows for `messages` (and the names of `accounts` too, for the caller). What the
        caller read already is not read again: the participants of the messages' cases with their
        gate facts, the names of accounts."""
        ids = [m.id for m in messages]
        versions: dict[str, list[MessageVersion]] = {i: [] for i in ids}
        if ids:
            for version in session.scalars(select(MessageVersion).where(MessageVersion.message_id.in_(ids))
                                           .order_by(MessageVersion.number)):
                versions[version.message_id].append(version)
        job_ids = [m.processing_job_id for m in messages if m.processing_job_id]
        jobs = {job_id: Processing(state, attempts, max_attempts, progress, last_error)
                for job_id, state, attempts, max_attempts, progress, last_error in session.execute(
                    select(Job.id, Job.state, Job.attempts, Job.max_attempts, Job.progress, Job.last_error)
                    .where(Job.id.in_(job_ids)))} if job_ids else {}
        version_ids = {v for m in messages for v in (m.current_version_id, m.approved_version_id) if v}
        approvals: dict[str, list[ApprovalRow]] = {v: [] for v in version_ids}
        if version_ids:
            for row in session.execute(select(Approval.id, Approval.version_id, Approval.facilitator_id, Approval.at,
                                              Approval.revoked_at).where(Approval.version_id.in_(version_ids))
                                       .order_by(Approval.id)):
                approvals[row.version_id].append(ApprovalRow(*row))
        case_ids = {m.case_id for m in messages}
        if participants is None:
            participants = {p.id: p for p in session.scalars(
                select(Participant).where(Participant.case_id.in_(case_ids)))} if case_ids else {}
        known = dict(names or {})
        wanted = {*accounts, *(m.claimed_by for m in messages if m.claimed_by),
                  *(m.written_by for m in messages if m.written_by)} - known.keys()
        roles: dict[str, str] = {}
        if wanted:
            for account_id, name, role in session.execute(select(Account.id, Account.display_name, Account.role)
                                                          .where(Account.id.in_(wanted))):
                known[account_id], roles[account_id] = name, role
        if people is None:
            gated = {m.case_id for m in messages if m.state == State.APPROVED}
            people = _person_facts(session, [p.id for p in participants.values() if p.case_id in gated])
        return StaffRows(versions, jobs, approvals, participants, known, people, roles)

    def standing(self, version_id: str | None) -> list[str]:
        """The facilitators whose approval of the version stands, first approver first."""
        return [a.facilitator_id for a in self.approvals.get(version_id or "", []) if a.revoked_at is None]

    def gate(self, participant: Participant, label: str, today: date) -> PersonGate:
        """`cases.facts.person_gate` from the rows read."""
        facts = self.people.get(participant.id, PersonFacts())
        return PersonGate(label=label, takes_part=facts.takes_part, receives=facts.receives,
                          suitable=assessment_status(facts.eligibility, facts.suitability, today) == "suitable",
                          holding_deliveries=participant.holding_deliveries, active=participant.active)


@dataclass(frozen=True)
class PeopleRecords:
    """Participants' consent records (oldest first) and latest assessment of each kind."""

    consents: Mapping[str, list[Consent]]  # participant id -> records, oldest first
    assessments: Mapping[tuple[str, str], Assessment]  # (participant id, kind) -> the latest

    @staticmethod
    def load(session: Session, participant_ids: Sequence[str]) -> PeopleRecords:
        """Two queries, whatever the number of people."""
        consents: dict[str, list[Consent]] = {p: [] for p in participant_ids}
        latest: dict[tuple[str, str], Assessment] = {}
        if participant_ids:
            for consent in session.scalars(select(Consent).where(Consent.participant_id.in_(participant_ids))
                                           .order_by(Consent.id)):
                consents[consent.participant_id].append(consent)
            for assessment in session.scalars(select(Assessment).where(
                    Assessment.participant_id.in_(participant_ids)).order_by(Assessment.id)):
                latest[(assessment.participant_id, assessment.kind)] = assessment  # the latest of each kind wins
        return PeopleRecords(consents, latest)

    def facts(self) -> dict[str, PersonFacts]:
        """What the person gates ask, per participant: the latest consent of each kind (whatever
        its organisation, as `cases.facts.current_consent`) and the latest assessments."""
        found = {}
        for participant_id, records in self.consents.items():
            granted = {c.kind: c.granted for c in records}  # the latest of each kind wins
            found[participant_id] = PersonFacts(
                takes_part=bool(granted.get("take_part")), receives=bool(granted.get("receive_messages")),
                eligibility=self.assessments.get((participant_id, "eligibility")),
                suitability=self.assessments.get((participant_id, "suitability")))
        return found


def _person_facts(session: Session, participant_ids: list[str]) -> dict[str, PersonFacts]:
    """Each participant's latest consent of each kind and latest assessment of each kind, in two queries."""
    return PeopleRecords.load(session, participant_ids).facts() if participant_ids else {}


def _written_as(author: Participant | None) -> str:
    if author is not None and author.role == "proxy":
        return Sentence(N_("proxy (%(acting_for)s)"), acting_for=author.acting_for)
    return Sentence(N_("principal"))


def _entered_by(rows: StaffRows, author: Participant | None, message: Message) -> str | None:
    if author is None or author.account_id == message.written_by or message.written_by is None:
        return None
    return rows.names.get(message.written_by)


def _blockers(svc: Services, rows: StaffRows, case: Case, message: Message) -> list[str]:
    if message.state != State.APPROVED:
        return []
    wanted = message.approved_version_id
    version = next((v for v in rows.versions[message.id] if v.id == wanted), None) if wanted else None
    today = svc.now().date()
    side = other_side(message.author_side)
    recipients = tuple(rows.gate(p, case.label_of(side), today) for p in rows.participants.values()
                       if p.case_id == case.id and p.side == side and p.active
                       and p.role in permissions.AUTHORING_ROLES)
    author = rows.participants[message.author_participant_id]
    facts = facts_from(svc, case, message, version, approvals=len(set(rows.standing(wanted))),
                       recipients=recipients, author=rows.gate(author, case.label_of(message.author_side), today))
    return release_blockers(facts)


def staff_message(svc: Services, rows: StaffRows, message: Message, case: Case) -> StaffMessage:
    """One message's staff view from rows read by `StaffRows.load` (no query)."""
    versions = rows.versions[message.id]
    current = next((v for v in versions if v.id == message.current_version_id), None)
    author = rows.participants.get(message.author_participant_id)
    processing = rows.jobs.get(message.processing_job_id) if message.processing_job_id else None
    ctx = Context(approvals_required=case.approvals_required)
    return StaffMessage(
        id=message.id, case_id=case.id, case_reference=case.reference,
        kind=message.kind, author_side=message.author_side,
        in_reply_to=message.in_reply_to_id,
        author_label=case.label_of(message.author_side),
        written_as=_written_as(rows.participants.get(writers.writer_id(message, current))),  # its words' writer
        entered_by=_entered_by(rows, author, message),
        state=message.state, status=describe(State(message.state)),
        held_from=message.held_from, version=message.row_version,
        claimed_by=rows.names.get(message.claimed_by) if message.claimed_by else None,
        claimed_by_id=message.claimed_by,
        current_version_id=message.current_version_id, approved_version_id=message.approved_version_id,
        approvals=len(set(rows.standing(message.current_version_id))),
        approved_by=tuple(a.facilitator_id for a in rows.approvals.get(message.current_version_id or "", [])),
        approvals_required=case.approvals_required,
        versions=tuple(VersionRow(v.id, v.number, v.origin, v.processed_blob_id is not None, v.flag_count,
                                  v.author_decision, _iso(v.created_at)) for v in versions),
        processing=processing,
        release_blockers=tuple(_blockers(svc, rows, case, message)),
        processing_error=current.processing_error if current is not None else None,
        scheduled_release_at=_iso(message.scheduled_release_at),
        submitted_at=_iso(message.submitted_at), released_at=_iso(message.released_at),
        opened_at=_iso(message.opened_at) if message.receipt_shared else None,
        recalled_at=_iso(message.recalled_at),
        actions=tuple(sorted(a.value for a in allowed_actions(position(message), ctx) & REVIEW_ACTIONS)),
    )


def staff_messages(session: Session, svc: Services, pairs: Sequence[tuple[Message, Case]]) -> list[StaffMessage]:
    """The staff views of many messages in a bounded number of queries."""
    rows = StaffRows.load(session, [m for m, _ in pairs])
    return [staff_message(svc, rows, message, case) for message, case in pairs]
