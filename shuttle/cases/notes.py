"""Private facilitator notes on a case or on one of its messages (issue 10, DESIGN.md section 8).

Encrypted like every text (invariant 5); read by the case's facilitators only, never by
participants or the coordinator; every reading is audited (`note.view`) with the ids shown,
never their words (invariant 8). The case timeline does not show notes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ForeignKey, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from shuttle import blobs, permissions
from shuttle.access import load_case
from shuttle.accounts.models import Account
from shuttle.audit import log as audit
from shuttle.cases.models import Case
from shuttle.db import Base, UTCDateTime, new_id, utcnow
from shuttle.errors import BadInput, NotFound
from shuttle.i18n import N_, Sentence
from shuttle.messages.models import Message
from shuttle.services import Actor, Services

MAX_NOTE_CHARS = 20_000


class PrivateNote(Base):
    __tablename__ = "private_notes"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"), index=True)
    message_id: Mapped[str | None] = mapped_column(ForeignKey("messages.id"), nullable=True, index=True)
    written_by: Mapped[str] = mapped_column(ForeignKey("accounts.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    blob_id: Mapped[str] = mapped_column(ForeignKey("blobs.id"))


@dataclass(frozen=True)
class NoteView:
    id: str
    message_id: str | None
    written_by: str
    at: datetime
    text: str


def _notes_case(session: Session, actor: Actor, case_id: str) -> Case:
    case, member = load_case(session, actor, case_id)
    if not permissions.may_keep_private_notes(member):
        raise NotFound()
    return case


def _message_of(session: Session, case: Case, message_id: str | None) -> Message | None:
    """A message of this case that its facilitators can see (sent at least once); else as if missing."""
    if message_id is None:
        return None
    message = session.get(Message, message_id)
    if message is None or message.case_id != case.id or message.first_submitted_at is None:
        raise NotFound()
    return message


def add_note(session: Session, svc: Services, actor: Actor, case_id: str, text: str, *,
             message_id: str | None = None) -> PrivateNote:
    case = _notes_case(session, actor, case_id)
    message = _message_of(session, case, message_id)
    if not isinstance(text, str) or not text.strip():
        raise BadInput(N_("Write the note first."))
    if len(text) > MAX_NOTE_CHARS:
        raise BadInput(Sentence(N_("A note can be at most %(max)s characters."), max=MAX_NOTE_CHARS))
    blob = blobs.store_text(session, svc.store, text.strip())
    note = PrivateNote(case_id=case.id, message_id=message.id if message else None, written_by=actor.account_id,
                       at=svc.now(), blob_id=blob.id)
    session.add(note)
    session.flush()
    audit.record(session, action="note.add", actor_id=actor.account_id, actor_role=actor.role, case_id=case.id,
                 subject_type="message" if message else "case", subject_id=message.id if message else case.id,
                 details={"note": note.id}, now=svc.now())
    return note


def read_notes(session: Session, svc: Services, actor: Actor, case_id: str, *,
               message_id: str | None = None) -> list[NoteView]:
    """The case's notes (or one message's), oldest first. Reading them is audited: a content view."""
    case = _notes_case(session, actor, case_id)
    message = _message_of(session, case, message_id)
    query = select(PrivateNote, Account.display_name).join(Account, Account.id == PrivateNote.written_by) \
        .where(PrivateNote.case_id == case.id)
    if message is not None:
        query = query.where(PrivateNote.message_id == message.id)
    rows = session.execute(query.order_by(PrivateNote.at, PrivateNote.id)).all()
    views = [NoteView(n.id, n.message_id, name, n.at, blobs.load_text(session, svc.store, n.blob_id))
             for n, name in rows]
    if views:
        audit.record(session, action="note.view", actor_id=actor.account_id, actor_role=actor.role, case_id=case.id,
                     subject_type="message" if message else "case", subject_id=message.id if message else case.id,
                     details={"notes": [v.id for v in views]}, now=svc.now())
    return views


def blob_ids(session: Session, case_id: str) -> set[str]:
    """Every encrypted note of a case (for crypto-shredding the case: `shuttle.retention`)."""
    return set(session.scalars(select(PrivateNote.blob_id).where(PrivateNote.case_id == case_id)))
