"""Cases, their facilitators, participants, and the append-only consent and assessment records."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from shuttle.db import Base, UTCDateTime, new_id, utcnow

CASE_STATUSES = ("preparation", "open", "paused", "closed")
SIDES = ("harmed", "responsible")
PARTICIPANT_ROLES = ("principal", "proxy", "supporter")
CONSENT_KINDS = ("take_part", "receive_messages")


def other_side(side: str) -> str:
    return "responsible" if side == "harmed" else "harmed"


class Case(Base):
    __tablename__ = "cases"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    reference: Mapped[str] = mapped_column(String(40), unique=True)
    status: Mapped[str] = mapped_column(String(20), default="preparation")
    label_harmed: Mapped[str] = mapped_column(String(80), default="the person harmed")
    label_responsible: Mapped[str] = mapped_column(String(80), default="the person responsible")
    initiator: Mapped[str] = mapped_column(String(20), default="harmed")  # 'harmed' | 'either'
    responsible_may_reply: Mapped[bool] = mapped_column(Boolean, default=True)
    approvals_required: Mapped[int] = mapped_column(Integer, default=1)
    author_must_accept_edits: Mapped[bool] = mapped_column(Boolean, default=True)
    read_receipts_allowed: Mapped[bool] = mapped_column(Boolean, default=False)
    watchlist: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    row_version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": row_version}

    def label_of(self, side: str) -> str:
        return self.label_harmed if side == "harmed" else self.label_responsible


class CaseFacilitator(Base):
    __tablename__ = "case_facilitators"
    __table_args__ = (UniqueConstraint("case_id", "account_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"), index=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"), index=True)


class Participant(Base):
    __tablename__ = "participants"
    __table_args__ = (UniqueConstraint("case_id", "account_id"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"), index=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"), index=True)
    side: Mapped[str] = mapped_column(String(20))
    role: Mapped[str] = mapped_column(String(20), default="principal")
    acting_for: Mapped[str] = mapped_column(String(120), default="")
    holding_deliveries: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Consent(Base):
    """Append-only: a withdrawal is a new record with granted=False."""

    __tablename__ = "consents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    participant_id: Mapped[str] = mapped_column(ForeignKey("participants.id"), index=True)
    kind: Mapped[str] = mapped_column(String(30))
    granted: Mapped[bool] = mapped_column(Boolean)
    recorded_by: Mapped[str | None] = mapped_column(ForeignKey("accounts.id"), nullable=True)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    note: Mapped[str] = mapped_column(Text, default="")


class Assessment(Base):
    """Append-only: the latest record is the current assessment."""

    __tablename__ = "assessments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    participant_id: Mapped[str] = mapped_column(ForeignKey("participants.id"), index=True)
    outcome: Mapped[str] = mapped_column(String(20))  # 'suitable' | 'not_suitable'
    recorded_by: Mapped[str | None] = mapped_column(ForeignKey("accounts.id"), nullable=True)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
