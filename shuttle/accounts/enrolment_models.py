"""The table of staff enrolment links: a coordinator creates a staff account, the person opens a
one-time link, chooses a password and enrols their authenticator.

Like invitation codes and sessions, the link's token is stored only as an HMAC-SHA256 digest
keyed with the settings' secret key; the authenticator secret waiting to be confirmed is
AES-GCM encrypted and bound to the account (shuttle.accounts.totp), and reaches the account
only once the person has typed a code from it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from shuttle.db import Base, UTCDateTime, new_id, utcnow


class StaffEnrolment(Base):
    """One enrolment link for one staff account; the newest unused one is the only one that works."""

    __tablename__ = "staff_enrolments"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # The authenticator secret shown on the link's page, until confirmed with a code.
    totp_secret_enc: Mapped[bytes] = mapped_column(LargeBinary)
    # "new" (a new account) or "reset" (a lost second factor): said on the page and in the log.
    purpose: Mapped[str] = mapped_column(String(10), default="new")
    created_by: Mapped[str | None] = mapped_column(ForeignKey("accounts.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
