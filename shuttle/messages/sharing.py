"""A recipient shares a delivered message with their supporter (issue 10, DESIGN.md section 8).

A supporter never writes and sees nothing by default: only a message their principal (or the
proxy acting for that side) has opened and chooses to share with them, for as long as it is
shared. Sharing and revoking are audited. The supporter opens a shared message only when they
choose to, like a recipient, and only while their own consent and assessment hold and the case
is not paused or closed. `permissions` decides; this module gathers the facts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ForeignKey, Integer, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from shuttle import blobs, permissions
from shuttle.access import load_message, membership
from shuttle.accounts.models import Account
from shuttle.audit import log as audit
from shuttle.cases.facts import person_gate
from shuttle.cases.models import Case, Participant
from shuttle.db import Base, UTCDateTime, utcnow
from shuttle.errors import Conflict, NotFound
from shuttle.i18n import N_
from shuttle.messages.delivery import delivered_text
from shuttle.messages.gates import reading_holds
from shuttle.messages.models import Message, MessageVersion
from shuttle.messages.numbering import KIND_NAMES
from shuttle.messages.requests import closed_by_request
from shuttle.messages.states import State
from shuttle.permissions import Membership
from shuttle.services import Actor, Services


class SupporterShare(Base):
    """One sharing of a message with one supporter; `revoked_at` ends it (a new share is a new row)."""

    __tablename__ = "supporter_shares"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    message_id: Mapped[str] = mapped_column(ForeignKey("messages.id"), index=True)
    supporter_id: Mapped[str] = mapped_column(ForeignKey("participants.id"), index=True)
    shared_by: Mapped[str] = mapped_column(ForeignKey("accounts.id"))
    shared_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


@dataclass(frozen=True)
class SupporterChoice:
    """A supporter of my side, and whether this message is shared with them now."""

    participant_id: str
    name: str
    shared: bool


@dataclass(frozen=True)
class SharedItem:
    """A message shared with me (a supporter): no text until I choose to open it."""

    message_id: str
    case_id: str
    kind: str
    kind_name: str
    from_label: str
    shared_at: datetime
    opened: bool
    may_open: bool
    text: str | None = None  # a letter's words, or a photo's or recording's words written down


def _active_share(session: Session, message_id: str, supporter_id: str) -> SupporterShare | None:
    return session.scalar(select(SupporterShare).where(
        SupporterShare.message_id == message_id, SupporterShare.supporter_id == supporter_id,
        SupporterShare.revoked_at.is_(None)).order_by(SupporterShare.id.desc()).limit(1))


def _as_sharer(session: Session, actor: Actor, message_id: str) -> tuple[Message, Case, Membership]:
    message, case, member = load_message(session, actor, message_id)
    if not permissions.is_recipient_side(member, message.author_side):
        raise NotFound()
    return message, case, member


def _my_supporters(session: Session, case: Case, member: Membership) -> list[Participant]:
    return list(session.scalars(select(Participant).where(
        Participant.case_id == case.id, Participant.side == member.side, Participant.role == "supporter",
        Participant.active.is_(True)).order_by(Participant.id)))


def _supporter(session: Session, case: Case, member: Membership, supporter_id: str) -> Participant:
    """One of the supporters of my side; anyone else is answered as if missing (invariant 7)."""
    found = next((p for p in _my_supporters(session, case, member) if p.id == supporter_id), None)
    if found is None:
        raise NotFound()
    return found


def supporters_for(session: Session, svc: Services, actor: Actor, message_id: str) -> list[SupporterChoice]:
    """My side's supporters and whether this message is shared with each (empty if I have none)."""
    message, case, _member = _as_sharer(session, actor, message_id)
    people = _my_supporters(session, case, _member)
    names = dict(session.execute(select(Account.id, Account.display_name).where(
        Account.id.in_([p.account_id for p in people]))).all()) if people else {}
    return [SupporterChoice(p.id, names.get(p.account_id, ""), _active_share(session, message.id, p.id) is not None)
            for p in people]


def share(session: Session, svc: Services, actor: Actor, message_id: str, supporter_id: str) -> SupporterShare:
    message, case, member = _as_sharer(session, actor, message_id)
    supporter = _supporter(session, case, member, supporter_id)
    if not permissions.may_share_with_supporter(member, author_side=message.author_side,
                                                state=State(message.state)):
        raise Conflict(N_("Open the message yourself first; then you can share it."), code="not_opened")
    existing = _active_share(session, message.id, supporter.id)
    if existing is not None:
        return existing
    row = SupporterShare(message_id=message.id, supporter_id=supporter.id, shared_by=actor.account_id,
                         shared_at=svc.now())
    session.add(row)
    session.flush()
    audit.record(session, action="supporter.share", actor_id=actor.account_id, actor_role=actor.role,
                 case_id=case.id, subject_type="message", subject_id=message.id,
                 details={"supporter": supporter.id}, now=svc.now())
    return row


def unshare(session: Session, svc: Services, actor: Actor, message_id: str, supporter_id: str) -> None:
    """Stop sharing: from now on the supporter cannot open it or see that it exists."""
    message, case, member = _as_sharer(session, actor, message_id)
    supporter = _supporter(session, case, member, supporter_id)
    existing = _active_share(session, message.id, supporter.id)
    if existing is None:
        return
    existing.revoked_at = svc.now()
    audit.record(session, action="supporter.unshare", actor_id=actor.account_id, actor_role=actor.role,
                 case_id=case.id, subject_type="message", subject_id=message.id,
                 details={"supporter": supporter.id}, now=svc.now())


def _as_supporter(session: Session, actor: Actor, message_id: str
                  ) -> tuple[Message, Case, Membership, SupporterShare]:
    """A message shared with the actor, who is a supporter in its case; else as if missing."""
    message = session.get(Message, message_id)
    if message is None:
        raise NotFound()
    case = session.get(Case, message.case_id)
    assert case is not None
    member = membership(session, actor, case.id)
    share_row = _active_share(session, message.id, member.participant_id) if member.participant_id else None
    if share_row is None or not permissions.may_see_shared(member, author_side=message.author_side,
                                                           state=State(message.state), shared=True):
        raise NotFound()
    if closed_by_request(session, message.id):  # returned or destroyed at the recipient's request
        raise NotFound()
    return message, case, member, share_row


def _may_open(session: Session, svc: Services, case: Case, member: Membership) -> bool:
    """The supporter's own readiness: their consents and their own assessment, and a case not paused
    (what was shared with them stays readable after closure, as for the recipient)."""
    me = session.get(Participant, member.participant_id)
    assert me is not None
    gate = person_gate(session, me, case.label_of(me.side), svc.now())
    return not reading_holds(case.status, gate) and gate.suitable


def _words(session: Session, svc: Services, message: Message) -> str | None:
    if message.kind == "letter":
        return delivered_text(session, svc, message)
    version = session.get(MessageVersion, message.approved_version_id or "")
    if version is None or version.transcript_blob_id is None:
        return None
    return blobs.load_text(session, svc.store, version.transcript_blob_id)


def _item(session: Session, svc: Services, message: Message, case: Case, member: Membership,
          row: SupporterShare, *, with_text: bool) -> SharedItem:
    may_open = _may_open(session, svc, case, member)
    text = _words(session, svc, message) if with_text and row.opened_at and may_open else None
    return SharedItem(message.id, case.id, message.kind, KIND_NAMES.get(message.kind, "message").lower(),
                      case.label_of(message.author_side), row.shared_at, row.opened_at is not None, may_open, text)


def shared_with_me(session: Session, svc: Services, actor: Actor) -> list[SharedItem]:
    """What is shared with me now, newest first; no words are shown in a list."""
    if actor.role != "participant":
        return []
    mine = select(Participant.id).where(Participant.account_id == actor.account_id, Participant.role == "supporter",
                                        Participant.active.is_(True))
    rows = session.scalars(select(SupporterShare).where(SupporterShare.supporter_id.in_(mine),
                                                        SupporterShare.revoked_at.is_(None))
                           .order_by(SupporterShare.shared_at.desc())).all()
    items = []
    for row in rows:
        try:
            message, case, member, share_row = _as_supporter(session, actor, row.message_id)
        except NotFound:
            continue
        items.append(_item(session, svc, message, case, member, share_row, with_text=False))
    return items


def shared_item(session: Session, svc: Services, actor: Actor, message_id: str) -> SharedItem:
    """A shared message as its supporter sees it: the words only once they chose to open it."""
    message, case, member, row = _as_supporter(session, actor, message_id)
    return _item(session, svc, message, case, member, row, with_text=True)


def open_shared(session: Session, svc: Services, actor: Actor, message_id: str) -> SharedItem:
    """The supporter chooses to open it now (the first time is recorded and audited)."""
    message, case, member, row = _as_supporter(session, actor, message_id)
    if not _may_open(session, svc, case, member):
        raise Conflict(N_("This message cannot be opened just now. Your facilitator can tell you more."),
                       code="not_deliverable")
    if row.opened_at is None:
        row.opened_at = svc.now()
        audit.record(session, action="supporter.open", actor_id=actor.account_id, actor_role=actor.role,
                     case_id=case.id, subject_type="message", subject_id=message.id,
                     details={"supporter": member.participant_id}, now=svc.now())
        session.flush()
    return _item(session, svc, message, case, member, row, with_text=True)
