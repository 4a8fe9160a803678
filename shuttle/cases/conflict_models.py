"""Conflicts of interest: a facilitator knows someone in a case, so must not be assigned to it.

Only the fact is kept (who, which case, who recorded it, when): what the facilitator knows is
said to the coordinator in person, not stored here.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from shuttle.db import Base, UTCDateTime, new_id, utcnow


class CaseConflict(Base):
    __tablename__ = "case_conflicts"
    __table_args__ = (UniqueConstraint("case_id", "account_id"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"), index=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"), index=True)
    recorded_by: Mapped[str | None] = mapped_column(ForeignKey("accounts.id"), nullable=True)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
