"""Cases, their facilitators, participants, and the append-only consent and assessment records."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from shuttle.db import Base, UTCDateTime, new_id, utcnow
from shuttle.i18n import N_, Sentence

CASE_STATUSES = ("preparation", "open", "paused", "closing", "closed")  # the life: shuttle/cases/states.py
SIDES = ("harmed", "responsible")
PARTICIPANT_ROLES = ("principal", "proxy", "supporter")
CONSENT_KINDS = ("take_part", "share_information", "receive_messages")
#: How a consent (or its withdrawal) was given; 'online' is the participant on their own page.
CONSENT_METHODS = ("in_person", "phone", "signed_form", "online")
#: Each judgement and the outcomes it may have (DESIGN.md section 1: assessment).
ASSESSMENT_OUTCOMES = {
    "eligibility": ("eligible", "not_eligible"),
    "suitability": ("suitable", "not_suitable"),
    "risk": ("low", "medium", "high"),
}


#: What each side is called until a facilitator names it: stored in English, like any label, and said
#: in the reader's language where shown (`Case.label_of`). A label a facilitator typed is shown as typed.
DEFAULT_LABELS = {"harmed": N_("the person harmed"), "responsible": N_("the person responsible")}


def other_side(side: str) -> str:
    return "responsible" if side == "harmed" else "harmed"


class Case(Base):
    __tablename__ = "cases"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    reference: Mapped[str] = mapped_column(String(40), unique=True)
    status: Mapped[str] = mapped_column(String(20), default="preparation")
    label_harmed: Mapped[str] = mapped_column(String(80), default=DEFAULT_LABELS["harmed"])
    label_responsible: Mapped[str] = mapped_column(String(80), default=DEFAULT_LABELS["responsible"])
    initiator: Mapped[str] = mapped_column(String(20), default="harmed")  # 'harmed' | 'either'
    responsible_may_reply: Mapped[bool] = mapped_column(Boolean, default=True)
    approvals_required: Mapped[int] = mapped_column(Integer, default=1)
    author_must_accept_edits: Mapped[bool] = mapped_column(Boolean, default=True)
    read_receipts_allowed: Mapped[bool] = mapped_column(Boolean, default=False)
    watchlist: Mapped[list[str]] = mapped_column(JSON, default=list)
    #: Court proceedings ongoing: whether that holds the exchange is a service setting.
    proceedings_ongoing: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    row_version: Mapped[int] = mapped_column(Integer, default=1)
    #: Retention (shuttle/retention.py): when the case was closed, and when its content is to be
    #: crypto-shredded (set by the periodic tick once it is closed; cleared once shredded).
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    destroy_after: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True, index=True)
    shredded_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    #: A legal hold (placed by the coordinator, with its reason): the case is never destroyed while held.
    legal_hold_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    legal_hold_since: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    __mapper_args__ = {"version_id_col": row_version}
    __table_args__ = (Index("ix_cases_status_closed_at", "status", "closed_at"),)  # closed, not yet scheduled

    def label_of(self, side: str) -> str:
        """What `side` is called, to show: a default label is a Sentence (English as text, Welsh where a
        page shows it, alone or inside another Sentence); a typed one is the words as typed."""
        return shown_label(self.label_harmed if side == "harmed" else self.label_responsible)


def shown_label(label: str) -> str:
    """`label` as a page shows it: one of DEFAULT_LABELS as a Sentence, so it is translated; else as typed."""
    return Sentence(label) if label in DEFAULT_LABELS.values() else label


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
    #: For share_information: the partner organisation named on the form.
    organisation_id: Mapped[str | None] = mapped_column(ForeignKey("organisations.id"), nullable=True, index=True)
    method: Mapped[str] = mapped_column(String(20), default="in_person", server_default="in_person")
    given_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    #: A scanned signed form, stored encrypted.
    scan_blob_id: Mapped[str | None] = mapped_column(ForeignKey("blobs.id"), nullable=True)


class Assessment(Base):
    """Append-only: per kind, the latest record is the current judgement."""

    __tablename__ = "assessments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    participant_id: Mapped[str] = mapped_column(ForeignKey("participants.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20), default="suitability",
                                      server_default="suitability")  # ASSESSMENT_OUTCOMES
    outcome: Mapped[str] = mapped_column(String(20))
    recorded_by: Mapped[str | None] = mapped_column(ForeignKey("accounts.id"), nullable=True)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    reasons_blob_id: Mapped[str | None] = mapped_column(ForeignKey("blobs.id"), nullable=True)
    review_by: Mapped[date | None] = mapped_column(Date, nullable=True)
    #: When the periodic tick found the review date passed and closed the gates (the judgement itself is unchanged).
    lapsed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
