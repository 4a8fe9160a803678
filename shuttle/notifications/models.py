"""Who wants a digest e-mail, where to (an encrypted blob), and when the next one is due."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Index
from sqlalchemy.orm import Mapped, mapped_column

from shuttle.db import Base, UTCDateTime, utcnow


class NotificationSetting(Base):
    """One row per account that has ever given an address.

    The address itself is an encrypted blob (like every text shuttle keeps): removing it
    shreds the blob. `next_digest_at` is the indexed due time the periodic duty looks for;
    None while no digest is wanted. `told` is what the last digest covered (message ids and
    states, no content), so a digest goes out only when something is new since then.
    """

    __tablename__ = "notification_settings"
    __table_args__ = (Index("ix_notification_settings_next_digest_at", "next_digest_at"),)

    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"), primary_key=True)
    address_blob_id: Mapped[str | None] = mapped_column(ForeignKey("blobs.id"), nullable=True)
    wants_digest: Mapped[bool] = mapped_column(Boolean, default=False)
    next_digest_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_digest_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    told: Mapped[list[str]] = mapped_column(JSON, default=list)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
