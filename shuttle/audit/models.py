"""The audit log's table: append-only, hash-chained (invariant 8).

`seq` is assigned by `shuttle.audit.log.record` as last + 1 while the chain is locked, not by
a database sequence: sequences skip numbers on rolled-back transactions, and a gapless `seq`
is what lets `verify` tell a deleted row from a legitimate gap.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Index, String, event
from sqlalchemy.orm import Mapped, mapped_column

from shuttle.db import Base, UTCDateTime


class AuditEvent(Base):
    """One accounted-for action: who, in what role, did what to what, when; never content."""

    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_events_subject", "subject_type", "subject_id"),)

    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor_id: Mapped[str | None] = mapped_column(String(64))
    actor_role: Mapped[str] = mapped_column(String(32))
    action: Mapped[str] = mapped_column(String(100))
    case_id: Mapped[str | None] = mapped_column(String(64), index=True)
    subject_type: Mapped[str | None] = mapped_column(String(64))
    subject_id: Mapped[str | None] = mapped_column(String(64))
    details: Mapped[dict[str, Any]] = mapped_column(JSON)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)

    def __repr__(self) -> str:
        return f"<AuditEvent {self.seq} {self.action} {self.subject_type}:{self.subject_id}>"


@event.listens_for(AuditEvent, "before_update")
def _refuse_update(_mapper: Any, _connection: Any, target: AuditEvent) -> None:
    """The ORM never rewrites history; raw SQL can, and `verify` catches it."""
    raise RuntimeError(f"audit event {target.seq} is append-only")


@event.listens_for(AuditEvent, "before_delete")
def _refuse_delete(_mapper: Any, _connection: Any, target: AuditEvent) -> None:
    raise RuntimeError(f"audit event {target.seq} is append-only")
