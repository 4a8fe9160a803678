"""Tables of the accounts feature: accounts, invitations, server-side sessions, login failures.

Nothing here holds a secret in a form that works if the database leaks: passwords are
argon2id hashes, session tokens and invitation codes are HMAC-SHA256 digests keyed with the
settings' secret key, TOTP secrets are AES-GCM ciphertexts, and throttle keys (usernames
as typed, client addresses) are digests too, so the table of failures is not a log of who
tried from where.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    LargeBinary,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column

from shuttle.db import Base, UTCDateTime, new_id, utcnow

ROLES = ("coordinator", "facilitator", "participant")
STAFF_ROLES = frozenset({"coordinator", "facilitator"})
STAGES = ("totp", "set_password", "full")


def _in(values: tuple[str, ...]) -> str:
    return ", ".join(f"'{value}'" for value in values)


class Account(Base):
    """A person who signs in: staff (coordinator, facilitator) or a participant."""

    __tablename__ = "accounts"
    __table_args__ = (CheckConstraint(f"role IN ({_in(ROLES)})", name="role"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    username: Mapped[str] = mapped_column(String(40), unique=True)
    role: Mapped[str] = mapped_column(String(20))
    display_name: Mapped[str] = mapped_column(String(100))
    # None until a participant redeems an invitation and chooses a password.
    password_hash: Mapped[str | None] = mapped_column(String(255), default=None)
    # AES-GCM(nonce || ciphertext), bound to the account id; see shuttle.accounts.totp.
    totp_secret_enc: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)
    # The last accepted TOTP time-step: a code at or before it is refused (replay).
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger, default=None)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    password_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    deactivated_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    # "en" or "cy" once the person has chosen a language (issue 12); None: the cookie's, else English.
    language: Mapped[str | None] = mapped_column(String(5), default=None)

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF_ROLES

    @property
    def has_totp(self) -> bool:
        return self.totp_secret_enc is not None


class Invitation(Base):
    """A one-time code a facilitator hands a participant for their first sign-in."""

    __tablename__ = "account_invitations"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    # Set when a newer invitation supersedes this one or the account is deactivated.
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)


class AuthSession(Base):
    """A server-side sign-in session; the client holds the token, we hold its digest."""

    __tablename__ = "auth_sessions"
    __table_args__ = (CheckConstraint(f"stage IN ({_in(STAGES)})", name="stage"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    stage: Mapped[str] = mapped_column(String(20))
    # Not a credential on its own (useless without the cookie), so kept as is: the pages
    # need to echo it back in every form.
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)  # idle timeout, sliding
    absolute_expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    user_agent: Mapped[str] = mapped_column(String(200), default="")


class LoginFailure(Base):
    """One failed attempt, counted against a throttle key (a digest of username or address)."""

    __tablename__ = "login_failures"
    __table_args__ = (Index("ix_login_failures_key_at", "key", "at"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    key: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
