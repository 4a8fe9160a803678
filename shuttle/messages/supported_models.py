"""A recipient's request to open a message delivered to them together with their facilitator
(issue 12), and the session in which it opens: the rules are in `supported_opening`.
The note is an encrypted blob like every other text.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from shuttle.db import Base, UTCDateTime, new_id, utcnow

OUTCOMES = ("opened", "withdrawn")


class SupportedOpening(Base):
    """A recipient's request to open a message with their facilitator, and the session for it.

    Waiting while `done_at` is None; a session is active while `session_started_at <= now <
    session_until`. Ended by the facilitator: `session_until` is set to that moment."""

    __tablename__ = "supported_openings"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"), index=True)
    message_id: Mapped[str] = mapped_column(ForeignKey("messages.id"), index=True)
    participant_id: Mapped[str] = mapped_column(ForeignKey("participants.id"))
    requested_by: Mapped[str] = mapped_column(ForeignKey("accounts.id"))
    note_blob_id: Mapped[str | None] = mapped_column(ForeignKey("blobs.id"), nullable=True)
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    arranged_for: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    arranged_by: Mapped[str | None] = mapped_column(ForeignKey("accounts.id"), nullable=True)
    session_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    session_started_by: Mapped[str | None] = mapped_column(ForeignKey("accounts.id"), nullable=True)
    session_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    outcome: Mapped[str | None] = mapped_column(String(20), nullable=True)  # opened | withdrawn
