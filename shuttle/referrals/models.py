"""Tables of the referrals feature: referrals, their contact attempts, the per-year case counter,
and the per-address count of referrals sent (rate limit).

Everything a person wrote or a contact detail is in an encrypted blob (one JSON blob per
referral, one per note): the rows hold only codes, times and ids.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from shuttle.db import Base, UTCDateTime, new_id, utcnow

#: Who made the referral (the form's first question).
SOURCES = ("self_harmed", "self_responsible", "police", "victim_services", "youth_offending_team", "probation",
           "prison", "other_agency")
SELF_SOURCES = frozenset({"self_harmed", "self_responsible"})
STATUSES = ("new", "contacted", "accepted", "declined")
CONTACT_METHODS = ("phone", "letter", "email", "in_person", "via_agency")
CONTACT_OUTCOMES = ("reached", "no_answer", "left_message", "wrong_details")
DECLINE_REASONS = ("not_eligible", "declined_by_person", "not_contactable", "court_proceedings", "other")


class Referral(Base):
    __tablename__ = "referrals"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    reference: Mapped[str] = mapped_column(String(20), unique=True)  # REF-7K3Q-9MPD, random
    source: Mapped[str] = mapped_column(String(30))
    side: Mapped[str] = mapped_column(String(20))  # the person referred: harmed | responsible
    channel: Mapped[str] = mapped_column(String(20), default="form")  # form | api
    status: Mapped[str] = mapped_column(String(20), default="new", index=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    details_blob_id: Mapped[str] = mapped_column(ForeignKey("blobs.id"))  # encrypted JSON: the answers
    contacted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)  # first "reached"
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    decided_by: Mapped[str | None] = mapped_column(ForeignKey("accounts.id"), default=None)
    decline_reason: Mapped[str | None] = mapped_column(String(30), default=None)
    decline_note_blob_id: Mapped[str | None] = mapped_column(ForeignKey("blobs.id"), default=None)
    case_id: Mapped[str | None] = mapped_column(ForeignKey("cases.id"), default=None)
    row_version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": row_version}


class ContactAttempt(Base):
    """Append-only: one try at reaching the person referred."""

    __tablename__ = "referral_contact_attempts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    referral_id: Mapped[str] = mapped_column(ForeignKey("referrals.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)  # when it happened
    method: Mapped[str] = mapped_column(String(20))
    outcome: Mapped[str] = mapped_column(String(20))
    note_blob_id: Mapped[str | None] = mapped_column(ForeignKey("blobs.id"), default=None)
    recorded_by: Mapped[str | None] = mapped_column(ForeignKey("accounts.id"), default=None)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CaseCounter(Base):
    """The last case number given in a year: RJ-2026-0043 is (2026, 43). Never goes back, so a
    number is never given twice, even after its case is deleted."""

    __tablename__ = "case_counters"

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last: Mapped[int] = mapped_column(Integer, default=0)


class ReferralSent(Base):
    """One referral sent from an address (a digest, not the address), for the rate limit."""

    __tablename__ = "referral_sends"
    __table_args__ = (Index("ix_referral_sends_key_at", "key", "at"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    key: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
