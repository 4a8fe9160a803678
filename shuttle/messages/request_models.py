"""A recipient's request to the facilitators about a message delivered to them:
hold it, return it to its author, or destroy it.

Written once by the recipient; the facilitator's answer (handled_at, handled_by, outcome)
is filled in once and never changed. Notes are encrypted blobs like every other text.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from shuttle.db import Base, UTCDateTime, new_id, utcnow

REQUEST_KINDS = ("hold", "return", "destroy")
REQUEST_OUTCOMES = ("done", "declined")


class RecipientRequest(Base):
    __tablename__ = "recipient_requests"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"), index=True)
    message_id: Mapped[str] = mapped_column(ForeignKey("messages.id"), index=True)
    participant_id: Mapped[str] = mapped_column(ForeignKey("participants.id"))
    requested_by: Mapped[str] = mapped_column(ForeignKey("accounts.id"))
    kind: Mapped[str] = mapped_column(String(20))  # hold | return | destroy
    note_blob_id: Mapped[str | None] = mapped_column(ForeignKey("blobs.id"), nullable=True)
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    handled_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    handled_by: Mapped[str | None] = mapped_column(ForeignKey("accounts.id"), nullable=True)
    outcome: Mapped[str | None] = mapped_column(String(20), nullable=True)  # done | declined
    outcome_note_blob_id: Mapped[str | None] = mapped_column(ForeignKey("blobs.id"), nullable=True)
