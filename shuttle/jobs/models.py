"""The job queue's table.

The queue lives in the application database (DESIGN §7) so that a job is enqueued in the
same transaction as the state change that needs it: it exists iff that change commits.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from shuttle.db import Base, UTCDateTime, new_id, utcnow


class JobState(StrEnum):
    """A job's life: queued -> running -> done, or back to queued (retry), or dead."""

    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    DEAD = "dead"


class Job(Base):
    """One unit of background work, its lease while a worker holds it, and its outcome.

    `lease_token` is fresh for every claim: every write a worker makes about a job is
    conditioned on it, so a worker whose lease expired (and whose job another worker took)
    can no longer touch the job.
    """

    __tablename__ = "jobs"
    __table_args__ = (
        CheckConstraint(
            "state IN ('queued', 'running', 'done', 'dead')",
            name="state",
        ),
        CheckConstraint(
            "progress IS NULL OR (progress >= 0 AND progress <= 100)",
            name="progress_range",
        ),
        # Claiming: due queued jobs in run_after order ...
        Index("ix_jobs_state_run_after", "state", "run_after"),
        # ... and running jobs whose lease has expired (a crashed worker).
        Index("ix_jobs_state_lease_expires_at", "state", "lease_expires_at"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    kind: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    state: Mapped[str] = mapped_column(String(16), default=JobState.QUEUED.value)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer, default=5)
    run_after: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    lease_token: Mapped[str | None] = mapped_column(String(64), default=None)
    lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    worker_id: Mapped[str | None] = mapped_column(String(200), default=None)
    progress: Mapped[int | None] = mapped_column(Integer, default=None)
    progress_note: Mapped[str | None] = mapped_column(String(500), default=None)
    last_error: Mapped[str | None] = mapped_column(Text, default=None)
    # When the current run of transient failures (a dependency down) began; None otherwise.
    outage_since: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    # none_as_null: "no result" is SQL NULL, not the JSON document `null`.
    result: Mapped[Any | None] = mapped_column(JSON(none_as_null=True), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)

    def __repr__(self) -> str:
        return (
            f"<Job {self.id} {self.kind} {self.state} attempt {self.attempts}/{self.max_attempts}>"
        )
