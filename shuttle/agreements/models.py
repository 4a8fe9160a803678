"""The outcome agreement, its immutable versions and items, the sides' answers, item tracking,
the case's closure reason, and feedback kept apart from who gave it.

No words are stored here in clear: every item's text, every note and every feedback comment
is an encrypted blob (shuttle.blobs), like a message version's body.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from shuttle.db import Base, UTCDateTime, new_id, utcnow


class Agreement(Base):
    """One per case: which version both sides agreed to, and when."""

    __tablename__ = "agreements"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"), unique=True)
    agreed_version_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    agreed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class AgreementVersion(Base):
    """Immutable once written: a change makes a new version."""

    __tablename__ = "agreement_versions"
    __table_args__ = (UniqueConstraint("agreement_id", "number"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    agreement_id: Mapped[str] = mapped_column(ForeignKey("agreements.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    created_by: Mapped[str] = mapped_column(ForeignKey("accounts.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AgreementItem(Base):
    """One item of one version: who does it and by when in clear (for the dashboard), what will be
    done and how it is checked encrypted ({"what": ..., "check": ...} as JSON)."""

    __tablename__ = "agreement_items"
    __table_args__ = (UniqueConstraint("version_id", "number"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    version_id: Mapped[str] = mapped_column(ForeignKey("agreement_versions.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    owner: Mapped[str] = mapped_column(String(20))  # rules.OWNERS
    due_on: Mapped[date | None] = mapped_column(Date, nullable=True, index=True)
    text_blob_id: Mapped[str] = mapped_column(ForeignKey("blobs.id"))


class AgreementAnswer(Base):
    """A side's answer to a version: agree, or ask for a change (with an encrypted note)."""

    __tablename__ = "agreement_answers"
    __table_args__ = (UniqueConstraint("version_id", "side"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    version_id: Mapped[str] = mapped_column(ForeignKey("agreement_versions.id"), index=True)
    side: Mapped[str] = mapped_column(String(20))
    participant_id: Mapped[str] = mapped_column(ForeignKey("participants.id"))
    decision: Mapped[str] = mapped_column(String(20))  # rules.Decision
    note_blob_id: Mapped[str | None] = mapped_column(ForeignKey("blobs.id"), nullable=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ItemUpdate(Base):
    """Append-only: an item marked done, missed or varied, with an encrypted note. The latest counts."""

    __tablename__ = "agreement_item_updates"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    item_id: Mapped[str] = mapped_column(ForeignKey("agreement_items.id"), index=True)
    status: Mapped[str] = mapped_column(String(20))  # rules.ItemStatus
    note_blob_id: Mapped[str | None] = mapped_column(ForeignKey("blobs.id"), nullable=True)
    recorded_by: Mapped[str] = mapped_column(ForeignKey("accounts.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CaseClosure(Base):
    """Why a case closed (states.ClosureReason), given with the close step."""

    __tablename__ = "case_closures"

    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"), primary_key=True)
    reason: Mapped[str] = mapped_column(String(30))
    recorded_by: Mapped[str] = mapped_column(ForeignKey("accounts.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class FeedbackDone(Base):
    """Only that a participant has finished with the questionnaire (answered or declined, not which),
    so they are not asked twice. No time, no link to any answer. A row is made for each participant
    when the case closes, and `done` set later, so the order of rows says nothing either."""

    __tablename__ = "feedback_done"

    participant_id: Mapped[str] = mapped_column(ForeignKey("participants.id"), primary_key=True)
    done: Mapped[bool] = mapped_column(Boolean, default=False)


class FeedbackAnswer(Base):
    """One questionnaire's answers, apart from who gave them: no participant, account, case or time;
    only the quarter the case closed in and the side (for the service's figures). A random id."""

    __tablename__ = "feedback_answers"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    quarter: Mapped[str] = mapped_column(String(7), index=True)  # '2026Q4'
    side: Mapped[str] = mapped_column(String(20))
    satisfied: Mapped[int | None] = mapped_column(Integer, nullable=True)  # 1..5
    recommend: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    comment_blob_id: Mapped[str | None] = mapped_column(ForeignKey("blobs.id"), nullable=True)


class CheckIn(Base):
    """An aftercare check-in with one participant, scheduled when the exchange ends (the service's
    setting, e.g. 3 and 14 days after); once recorded, how the person is and whether they got what
    they wanted are kept encrypted ({"wellbeing": ..., "got_what_wanted": ...} as JSON)."""

    __tablename__ = "aftercare_checkins"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"), index=True)
    participant_id: Mapped[str] = mapped_column(ForeignKey("participants.id"), index=True)
    due_on: Mapped[date] = mapped_column(Date, index=True)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    done_by: Mapped[str | None] = mapped_column(ForeignKey("accounts.id"), nullable=True)
    record_blob_id: Mapped[str | None] = mapped_column(ForeignKey("blobs.id"), nullable=True)


class SupportService(Base):
    """The service's signposting directory (kept by the coordinator): public information, in clear."""

    __tablename__ = "support_services"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(120))
    helps_with: Mapped[str] = mapped_column(String(500))
    how_to_reach: Mapped[str] = mapped_column(String(500))
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class SharedSupport(Base):
    """A directory entry a facilitator shared onto a participant's page."""

    __tablename__ = "shared_support"
    __table_args__ = (UniqueConstraint("participant_id", "service_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    participant_id: Mapped[str] = mapped_column(ForeignKey("participants.id"), index=True)
    service_id: Mapped[str] = mapped_column(ForeignKey("support_services.id"))
    shared_by: Mapped[str] = mapped_column(ForeignKey("accounts.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
