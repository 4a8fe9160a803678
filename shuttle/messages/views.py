"""What each audience is shown of a message. The recipient's view names no author, account or file."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from shuttle import blobs, permissions
from shuttle.accounts.models import Account
from shuttle.blobs import Blob
from shuttle.cases.models import Case, Participant, other_side
from shuttle.dates import on_day
from shuttle.jobs.models import Job
from shuttle.messages import writers
from shuttle.messages.gates import release_blockers
from shuttle.messages.lifecycle import position
from shuttle.messages.models import Approval, Message, MessageVersion, ReviewNote
from shuttle.messages.release import approvals_of, release_facts
from shuttle.messages.states import (
    DELIVERED,
    EDITABLE,
    IN_REVIEW_STATES,
    Action,
    Context,
    State,
    allowed_actions,
    describe,
)
from shuttle.permissions import Membership
from shuttle.services import Services

AUTHOR_ACTIONS = {Action.SUBMIT, Action.WITHDRAW, Action.ACCEPT_EDIT, Action.DECLINE_EDIT}
REVIEW_ACTIONS = {Action.CLAIM, Action.UNCLAIM, Action.REQUEST_CHANGES, Action.PROPOSE_EDIT,
                  Action.REJECT, Action.APPROVE, Action.RETRY_PROCESSING}


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def day(value: datetime | None) -> str | None:
    """A date as people read it: "Tuesday 1 December 2026" (`shuttle.dates.on_day`, every page)."""
    return on_day(value)


def _username(session: Session, account_id: str | None) -> str | None:
    if account_id is None:
        return None
    account = session.get(Account, account_id)
    return account.display_name if account else None


def _versions(session: Session, message: Message) -> list[MessageVersion]:
    return list(session.scalars(select(MessageVersion).where(MessageVersion.message_id == message.id)
                                .order_by(MessageVersion.number)))


def _actions(message: Message, case: Case, allowed: set[Action]) -> list[str]:
    ctx = Context(approvals_required=case.approvals_required)
    return sorted(a.value for a in allowed_actions(position(message), ctx) & allowed)


def for_staff(session: Session, svc: Services, message: Message, case: Case) -> dict[str, Any]:
    versions = _versions(session, message)
    job = session.get(Job, message.processing_job_id) if message.processing_job_id else None
    approvers = session.scalars(select(Approval.facilitator_id).where(
        Approval.version_id == (message.current_version_id or ""))).all()
    blockers = (release_blockers(release_facts(session, svc, case, message))
                if message.state == State.APPROVED else [])
    return {
        "id": message.id, "case_id": case.id, "case_reference": case.reference,
        "kind": message.kind, "author_side": message.author_side, "in_reply_to": message.in_reply_to_id,
        "author_label": case.label_of(message.author_side),
        "written_as": _written_as(session, message),
        "entered_by": _entered_by(session, message),  # a facilitator who wrote it on the author's behalf
        "state": message.state, "status": describe(State(message.state)),
        "held_from": message.held_from, "version": message.row_version,
        "claimed_by": _username(session, message.claimed_by), "claimed_by_id": message.claimed_by,
        "current_version_id": message.current_version_id,
        "approved_version_id": message.approved_version_id,
        "approvals": approvals_of(session, message.current_version_id),
        "approved_by": list(approvers),
        "approvals_required": case.approvals_required,
        "versions": [{"id": v.id, "number": v.number, "origin": v.origin, "processed": v.processed_blob_id is not None,
                      "flag_count": v.flag_count, "author_decision": v.author_decision,
                      "created_at": _iso(v.created_at)} for v in versions],
        "processing": None if job is None else {
            "state": job.state, "attempts": job.attempts, "max_attempts": job.max_attempts,
            "progress": job.progress, "error": job.last_error},
        "release_blockers": blockers,
        "processing_error": _problem(session, message),
        "scheduled_release_at": _iso(message.scheduled_release_at),
        "submitted_at": _iso(message.submitted_at), "released_at": _iso(message.released_at),
        "opened_at": _iso(message.opened_at) if message.receipt_shared else None,
        "recalled_at": _iso(message.recalled_at),
        "actions": _actions(message, case, REVIEW_ACTIONS),
    }


def _problem(session: Session, message: Message) -> str | None:
    """Why processing refused the current version: a sentence for the author and facilitator."""
    version = session.get(MessageVersion, message.current_version_id) if message.current_version_id else None
    return version.processing_error if version is not None else None


def _written_as(session: Session, message: Message) -> str:
    """Whose words the current version carries (`writers`), not who started the message."""
    current = session.get(MessageVersion, message.current_version_id) if message.current_version_id else None
    return _written_as_by(session.get(Participant, writers.writer_id(message, current)))


def _written_as_by(participant: Participant | None) -> str:
    if participant is not None and participant.role == "proxy":
        return f"proxy ({participant.acting_for})"
    return "principal"


def _entered_by(session: Session, message: Message) -> str | None:
    """The facilitator's name when they entered the message on its author's behalf (issue 10)."""
    participant = session.get(Participant, message.author_participant_id)
    if participant is None or participant.account_id == message.written_by:
        return None
    return _username(session, message.written_by)


# --- the participants' views, built from rows loaded in a fixed number of queries ----------------


@dataclass(frozen=True)
class MessageRow:
    """A message with what its participant views read, loaded together (`load_rows`)."""

    message: Message
    current: MessageVersion | None  # its current version
    author: Participant | None  # the participant it is written for
    writer: Account | None  # who typed it: the author, or a facilitator on their behalf
    job: Job | None  # its processing job
    words_of: Participant | None = None  # whose words the current version carries (`writers`)

    @property
    def id(self) -> str:
        return self.message.id


def load_rows(session: Session, where: ColumnElement[bool]) -> list[MessageRow]:
    """The messages matching `where`, oldest first, each with its current version, author,
    writer and processing job: one query, whatever the number of messages."""
    rows = session.execute(
        select(Message, MessageVersion, Participant, Account, Job)
        .outerjoin(MessageVersion, MessageVersion.id == Message.current_version_id)
        .outerjoin(Participant, Participant.id == Message.author_participant_id)
        .outerjoin(Account, Account.id == Message.written_by)
        .outerjoin(Job, Job.id == Message.processing_job_id)
        .where(where).order_by(Message.created_at)
    ).all()
    found = [MessageRow(*row) for row in rows]
    words = {r.current.written_as_participant_id for r in found if r.current is not None} - {None}
    people = {p.id: p for p in session.scalars(select(Participant).where(Participant.id.in_(words)))} if words else {}
    return [replace(r, words_of=people.get(writers.writer_id(r.message, r.current), r.author)) for r in found]


def row_of(session: Session, message: Message) -> MessageRow:
    """One loaded message's row, from the rows the unit of work already holds (`Session.get` reads
    its identity map first): after a save, its answer's view costs no query for what the save
    loaded. The same row `load_rows` gives."""
    def get(model: Any, key: str | None) -> Any:
        return session.get(model, key) if key else None

    current = get(MessageVersion, message.current_version_id)
    author = get(Participant, message.author_participant_id)
    row = MessageRow(message, current, author, get(Account, message.written_by), get(Job, message.processing_job_id))
    words = current.written_as_participant_id if current is not None else None
    return replace(row, words_of=get(Participant, writers.writer_id(message, current)) if words else author)


@dataclass(frozen=True)
class AuthorNote:
    """A facilitator's note for the author (changes asked, an edit explained, a rejection)."""

    kind: str
    at: datetime
    text: str


def author_notes(session: Session, svc: Services, message_ids: Collection[str]) -> dict[str, tuple[AuthorNote, ...]]:
    """The notes for the author of each message, oldest first, decrypted: one query (the notes
    with their blobs' keys), whatever the number of messages."""
    found: dict[str, list[AuthorNote]] = {m: [] for m in message_ids}
    if not found:
        return {}
    rows = session.execute(select(ReviewNote, Blob).join(Blob, Blob.id == ReviewNote.blob_id).where(
        ReviewNote.message_id.in_(found), ReviewNote.for_author.is_(True)).order_by(ReviewNote.id)).all()
    for note, _blob in rows:  # the blob rows are now in the session: load_text reads no more rows
        found[note.message_id].append(AuthorNote(note.kind, note.at, blobs.load_text(session, svc.store, note.blob_id)))
    return {m: tuple(notes) for m, notes in found.items()}


@dataclass(frozen=True)
class AuthorView:
    """The author side's own message: where it is, in their words, and what they may do."""

    id: str
    case_id: str
    kind: str
    to: str
    written_as: str
    entered_by: str | None
    started_by: str | None  # who started it, when the side's other person looks (they cannot change it)
    state: State
    status: str
    version: int
    has_draft: bool
    upload_ready: bool
    preview: bool
    pending_edit: bool
    notes: tuple[AuthorNote, ...]
    rejection_code: str | None
    processing_error: str | None
    processing_progress: int | None
    submitted_at: datetime | None
    recalled: bool
    delivered: bool
    opened_at: datetime | None
    actions: tuple[str, ...]
    in_reply_to: str | None  # the id of the message it answers
    created_at: datetime
    delivered_at: datetime | None

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id, "case_id": self.case_id, "kind": self.kind, "to": self.to,
            "in_reply_to": self.in_reply_to,
            "written_as": self.written_as, "entered_by": self.entered_by, "started_by": self.started_by,
            "state": self.state.value, "status": self.status, "version": self.version,
            "has_draft": self.has_draft, "upload_ready": self.upload_ready, "preview": self.preview,
            "pending_edit": self.pending_edit,
            "notes": [{"kind": n.kind, "at": _iso(n.at), "text": n.text} for n in self.notes],
            "rejection_code": self.rejection_code, "processing_error": self.processing_error,
            "processing_progress": self.processing_progress, "submitted_at": _iso(self.submitted_at),
            "recalled": self.recalled, "delivered": self.delivered, "opened_at": _iso(self.opened_at),
            "actions": list(self.actions),
        }


def author_view(row: MessageRow, case: Case, notes: tuple[AuthorNote, ...] = (),
                member: Membership | None = None) -> AuthorView:
    """The author side's view of one preloaded message (no query). Seen by the side's other
    person (`member` did not start it): who started it, and no draft or action (issue 13)."""
    message, current = row.message, row.current
    other = member is not None and not permissions.may_change_message(
        member, author_side=message.author_side, author_participant_id=message.author_participant_id)
    receipt = message.receipt_shared and case.read_receipts_allowed
    # Whether it was opened is the recipient's to share: without their receipt the author sees
    # "delivered" for a delivered message, opened or not.
    shown = State.RELEASED if message.state == State.VIEWED and not receipt else State(message.state)
    entered_by = None if row.author is None or row.author.account_id == message.written_by else \
        (row.writer.display_name if row.writer is not None else None)
    progress = row.job.progress if message.state == State.PROCESSING and row.job is not None else None
    return AuthorView(
        id=message.id, case_id=case.id, kind=message.kind, to=case.label_of(other_side(message.author_side)),
        written_as=_written_as_by(row.words_of or row.author), entered_by=entered_by,
        started_by=writers.started_by_words(row.author) if other else None,
        state=shown, status="delivered" if shown == State.RELEASED else describe(shown),
        version=message.row_version,
        has_draft=message.draft_blob_id is not None and not other,
        upload_ready=message.draft_upload_id is not None,
        preview=bool(current and current.processed_blob_id and message.kind != "letter"),
        pending_edit=bool(current and current.origin == "facilitator" and message.state == State.AWAITING_AUTHOR),
        notes=notes,
        rejection_code=message.rejection_code,
        processing_error=current.processing_error if current is not None else None,
        processing_progress=progress,
        submitted_at=message.submitted_at,
        # called back after delivery, before it was opened, and being looked at again
        recalled=message.recalled_at is not None and State(message.state) in IN_REVIEW_STATES,
        delivered=message.state in DELIVERED,
        opened_at=message.opened_at if receipt else None,
        actions=() if other else
        tuple(_actions(message, case, AUTHOR_ACTIONS) + (["edit_draft"] if message.state in EDITABLE else [])),
        in_reply_to=message.in_reply_to_id, created_at=message.created_at, delivered_at=message.released_at,
    )


@dataclass(frozen=True)
class RecipientView:
    """A message delivered to the recipient side: only the label of the author's side, and
    whether a proxy wrote it for that side. Never an author, account or file."""

    id: str
    case_id: str
    kind: str
    from_label: str
    by_proxy: bool
    delivered_at: datetime | None
    opened: bool
    in_reply_to: str | None  # the id of the message it answers (one of the recipient side's)

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "case_id": self.case_id, "kind": self.kind, "in_reply_to": self.in_reply_to,
                "from": self.from_label,
                "by_proxy": self.by_proxy, "delivered_at": _iso(self.delivered_at), "opened": self.opened}


def recipient_view(row: MessageRow, case: Case) -> RecipientView:
    """The recipient side's view of one preloaded message (no query)."""
    message = row.message
    return RecipientView(id=message.id, case_id=case.id, kind=message.kind,
                         from_label=case.label_of(message.author_side),
                         by_proxy=writers.is_proxy(row.words_of or row.author),
                         delivered_at=message.released_at, opened=message.state == State.VIEWED,
                         in_reply_to=message.in_reply_to_id)


def visible(member: Membership, message: Message) -> bool:
    """Whether this member may see this message at all (a draft is its author side's alone)."""
    return permissions.may_see_message(member, author_side=message.author_side, state=State(message.state),
                                       submitted=message.first_submitted_at is not None,
                                       author_participant_id=message.author_participant_id)


def participant_views(session: Session, svc: Services, member: Membership, case: Case,
                      rows: Sequence[MessageRow]) -> list[AuthorView | RecipientView]:
    """A participant's views of the case's preloaded messages they may see, in order; the notes
    of their own side's messages in one more query."""
    shown = [row for row in rows if visible(member, row.message)]
    own = [row.id for row in shown if permissions.is_author_side(member, row.message.author_side)]
    notes = author_notes(session, svc, own)
    return [author_view(row, case, notes.get(row.id, ()), member) if row.id in notes else recipient_view(row, case)
            for row in shown]


def participant_case_messages(session: Session, svc: Services, member: Membership, case: Case) -> list[dict[str, Any]]:
    """The case's messages as this participant sees them (JSON), oldest first, in a fixed number of
    queries whatever the number of messages."""
    rows = load_rows(session, Message.case_id == case.id)
    return [view.as_json() for view in participant_views(session, svc, member, case, rows)]


def for_author(session: Session, svc: Services, message: Message, case: Case,
               member: Membership | None = None) -> dict[str, Any]:
    return author_view(row_of(session, message), case, author_notes(session, svc, [message.id])[message.id],
                       member).as_json()


def for_recipient(session: Session, message: Message, case: Case) -> dict[str, Any]:
    """Only the facilitator-set label of the author's side, and whether a proxy wrote it for that side."""
    return recipient_view(row_of(session, message), case).as_json()


def for_member(session: Session, svc: Services, member: Membership, message: Message, case: Case) -> dict[str, Any]:
    if member.is_facilitator:
        return for_staff(session, svc, message, case)
    if permissions.is_author_side(member, message.author_side):
        return for_author(session, svc, message, case, member)
    return for_recipient(session, message, case)
