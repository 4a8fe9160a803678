"""The job queue: enqueue, claim with a lease, heartbeat, complete, fail, retry.

Why a table and not a broker: a job must exist iff the state change that needs it commits
(invariant 6), so `enqueue` and `complete` run in the caller's transaction. Workers on many
machines share one PostgreSQL and claim with `FOR UPDATE SKIP LOCKED`, so no two of them
ever take the same job; on SQLite every transaction begins with BEGIN IMMEDIATE (one
writer), which gives the same guarantee.

Every write a worker makes about a job it holds is conditioned on the lease token it got
when it claimed the job. A worker that stalled past its lease, and whose job another worker
took, therefore cannot complete, fail or heartbeat it any more: it gets `LeaseLost`.
"""

from __future__ import annotations

import json
import random
import secrets
import threading
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, and_, event, or_, select, update
from sqlalchemy.orm import Session

from shuttle.db import Database, new_id, utcnow
from shuttle.errors import Conflict, NotFound
from shuttle.jobs.models import Job, JobState

BACKOFF_BASE_SECONDS = 2.0
BACKOFF_CAP_SECONDS = 600.0
# A dependency down (object store, KMS, database): retried on a budget of time, not of tries.
OUTAGE_BUDGET_SECONDS = 900.0
OUTAGE_BACKOFF_CAP_SECONDS = 30.0
MAX_ERROR_CHARS = 2000
MAX_NOTE_CHARS = 500


class LeaseLost(Exception):
    """The worker no longer holds the job: its lease expired and/or another worker took it.

    Whatever the worker was about to write about the job must not happen; when raised by
    `complete`, the caller's transaction (with the handler's domain changes) rolls back.
    """


class PermanentJobError(Exception):
    """Raised by a handler for a failure that retrying cannot fix: the job goes dead at once.

    The message is stored on the job and shown to staff, so keep it free of content.
    """


@dataclass(frozen=True)
class ClaimedJob:
    """What a worker holds while it runs a job: the job's identity and its lease token."""

    id: str
    kind: str
    payload: dict[str, Any]
    attempts: int
    max_attempts: int
    lease_token: str
    # Set once a transaction in which `complete` marked this job done has committed: the worker
    # then knows the handler completed it without reading the job again.
    completed: threading.Event = field(default_factory=threading.Event, compare=False, repr=False)


def backoff(attempt: int, rng: random.Random) -> float:
    """Seconds to wait before the next try after `attempt` failed tries (full jitter).

    Exponential, base 2 s, capped at 10 minutes; "full jitter" (uniform between 0 and the
    exponential bound) spreads retries of jobs that failed together, e.g. during an outage.
    """
    if attempt < 1:
        attempt = 1
    exponent = min(attempt - 1, 32)  # 2 s * 2**32 is far past the cap; avoids huge floats
    bound = min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * (2.0**exponent))
    return rng.uniform(0.0, bound)


def enqueue(
    session: Session,
    kind: str,
    payload: dict[str, Any],
    *,
    max_attempts: int = 5,
    run_after: datetime | None = None,
    now: datetime | None = None,
) -> Job:
    """Add a job to the caller's transaction (no commit): it exists iff that transaction commits.

    `now` is the caller's clock (`Services.now`); the wall clock only for callers without one."""
    if not kind or len(kind) > 64:
        raise ValueError("a job needs a kind of 1 to 64 characters")
    if max_attempts < 1:
        raise ValueError("max_attempts must be at least 1")
    # Fail here, in the caller's code, rather than at flush time far away.
    json.dumps(payload, allow_nan=False)
    now = now or utcnow()
    job = Job(
        id=new_id(),
        kind=kind,
        payload=payload,
        state=JobState.QUEUED.value,
        attempts=0,
        max_attempts=max_attempts,
        run_after=run_after if run_after is not None else now,
        created_at=now,
        updated_at=now,
    )
    session.add(job)
    return job


def _claimable(now: datetime, kinds: Collection[str] | None) -> Any:
    due = or_(
        and_(Job.state == JobState.QUEUED.value, Job.run_after <= now),
        and_(Job.state == JobState.RUNNING.value, Job.lease_expires_at <= now),
    )
    if kinds is not None:
        return and_(due, Job.kind.in_(list(kinds)))
    return due


def claim(
    db: Database,
    worker_id: str,
    *,
    kinds: Collection[str] | None = None,
    lease_seconds: float = 60,
    now: datetime | None = None,
) -> ClaimedJob | None:
    """Take the oldest due job (or one whose worker's lease expired) in a transaction of its own.

    A running job whose lease expired after its last allowed attempt is dead-lettered here
    instead of being run again: a job that keeps killing its worker must not loop forever.
    """
    if kinds is not None and not kinds:
        return None
    now = now or utcnow()
    stmt = (
        select(Job)
        .where(_claimable(now, kinds))
        .order_by(Job.run_after, Job.created_at, Job.id)
        .limit(1)
        .with_for_update(skip_locked=True)  # rendered on PostgreSQL, ignored by SQLite
    )
    with db.uow() as uow:
        session = uow.session
        while True:
            job = session.scalars(stmt).first()
            if job is None:
                uow.commit()  # keeps the dead-letterings made on the way, if any
                return None
            if job.state == JobState.RUNNING.value and job.attempts >= job.max_attempts:
                job.state = JobState.DEAD.value
                job.last_error = (
                    f"lease expired during attempt {job.attempts} of {job.max_attempts}: "
                    "the worker stopped (crash or timeout)"
                )
                job.lease_token = None
                job.lease_expires_at = None
                job.finished_at = now
                job.updated_at = now
                session.flush()
                continue
            job.state = JobState.RUNNING.value
            job.progress = None  # a dead attempt's "40 %" is not this attempt's
            job.progress_note = None
            job.lease_token = secrets.token_hex(16)
            job.lease_expires_at = now + timedelta(seconds=lease_seconds)
            job.attempts += 1
            job.worker_id = worker_id
            job.updated_at = now
            claimed = ClaimedJob(
                id=job.id,
                kind=job.kind,
                payload=dict(job.payload or {}),
                attempts=job.attempts,
                max_attempts=job.max_attempts,
                lease_token=job.lease_token,
            )
            uow.commit()
            return claimed


def _held(job: ClaimedJob) -> Any:
    return and_(
        Job.id == job.id,
        Job.lease_token == job.lease_token,
        Job.state == JobState.RUNNING.value,
    )


def heartbeat(
    db: Database,
    job: ClaimedJob,
    *,
    lease_seconds: float,
    progress: int | None = None,
    note: str | None = None,
    now: datetime | None = None,
) -> None:
    """Extend the lease (and record progress) in a transaction of its own.

    Raises `LeaseLost` when the job is no longer held with this token.
    """
    if progress is not None and not 0 <= progress <= 100:
        raise ValueError("progress is a percentage, 0 to 100")
    now = now or utcnow()
    values: dict[str, Any] = {
        "lease_expires_at": now + timedelta(seconds=lease_seconds),
        "updated_at": now,
    }
    if progress is not None:
        values["progress"] = progress
    if note is not None:
        values["progress_note"] = note[:MAX_NOTE_CHARS]
    with db.uow() as uow:
        result = cast(
            CursorResult[Any],
            uow.session.execute(
                update(Job).where(_held(job)).values(**values),
                execution_options={"synchronize_session": False},
            ),
        )
        if result.rowcount != 1:
            raise LeaseLost(job.id)
        uow.commit()


def complete(session: Session, job: ClaimedJob, result: Any = None, *, now: datetime | None = None) -> None:
    """Mark the job done in the CALLER's transaction, together with the handler's domain changes.

    Conditioned on the lease token: if another worker took the job, nothing is written and
    `LeaseLost` is raised, so the caller's transaction rolls back and the work is applied
    exactly once, by the worker that still holds the lease.
    """
    if result is not None:
        json.dumps(result, allow_nan=False)
    now = now or utcnow()
    outcome = cast(
        CursorResult[Any],
        session.execute(
            update(Job)
            .where(_held(job))
            .values(
                state=JobState.DONE.value,
                result=result,
                progress=100,
                lease_token=None,
                lease_expires_at=None,
                finished_at=now,
                updated_at=now,
            ),
            execution_options={"synchronize_session": "evaluate"},
        ),
    )
    if outcome.rowcount != 1:
        raise LeaseLost(job.id)
    session.info.setdefault(_COMPLETING, []).append(job)


_COMPLETING = "shuttle.jobs.completing"  # session.info: jobs completed in its open transaction


@event.listens_for(Session, "after_commit")
def _completed(session: Session) -> None:
    for job in session.info.pop(_COMPLETING, ()):
        job.completed.set()


@event.listens_for(Session, "after_soft_rollback")
def _not_completed(session: Session, _previous: Any) -> None:
    # Any rollback, a savepoint's included: forgetting is safe (the worker then reads the job).
    session.info.pop(_COMPLETING, None)


def fail(
    db: Database,
    job: ClaimedJob,
    error: str,
    *,
    now: datetime | None = None,
    retryable: bool = True,
    rng: random.Random | None = None,
    transient: bool = False,
    outage_budget: float = OUTAGE_BUDGET_SECONDS,
) -> str:
    """Record a failed attempt in a transaction of its own; returns the job's new state.

    Retryable with attempts left: back to queued after `backoff`. Otherwise: dead, visible
    to staff, who may `retry` it. `error` is shown to staff: pass `type: message`, never a
    traceback or content.

    `transient` (a dependency was down, not the job at fault): the attempt is not counted;
    the job is retried every few seconds (jittered, at most `OUTAGE_BACKOFF_CAP_SECONDS`)
    until the outage has lasted `outage_budget` seconds, and only then goes dead.
    """
    now = now or utcnow()
    rng = rng or random.SystemRandom()
    with db.uow() as uow:
        row = uow.session.scalars(select(Job).where(_held(job)).with_for_update()).first()
        if row is None:
            raise LeaseLost(job.id)
        row.last_error = error[:MAX_ERROR_CHARS]
        row.lease_token = None
        row.lease_expires_at = None
        row.updated_at = now
        if retryable and transient:
            _outage(row, now, outage_budget, rng)
        elif retryable and row.attempts < row.max_attempts:
            row.outage_since = None
            row.state = JobState.QUEUED.value
            row.run_after = now + timedelta(seconds=backoff(row.attempts, rng))
        else:
            row.state = JobState.DEAD.value
            row.finished_at = now
        state = row.state
        uow.commit()
        return state


def _outage(row: Job, now: datetime, budget: float, rng: random.Random) -> None:
    """A try that met an outage: not counted; again soon, until the outage outlasts `budget`."""
    since = row.outage_since or now
    row.outage_since = since
    row.attempts = max(0, row.attempts - 1)
    if (now - since).total_seconds() >= budget:
        row.state = JobState.DEAD.value
        row.finished_at = now
        return
    row.state = JobState.QUEUED.value
    # Waits grow with the outage (half of its length so far, at least 2 s, at most the cap),
    # jittered so jobs that failed together do not all come back together.
    bound = min(OUTAGE_BACKOFF_CAP_SECONDS, max(2.0, (now - since).total_seconds() / 2))
    row.run_after = now + timedelta(seconds=rng.uniform(bound / 2, bound))


def retry(session: Session, job_id: str, *, now: datetime | None = None) -> Job:
    """Put a dead (or waiting-to-retry) job back in the queue now, attempts reset.

    For the "retry" button staff see on a dead job; runs in the caller's transaction so the
    audit record of the click commits with it. A running or done job is a `Conflict`.
    """
    job = session.get(Job, job_id, with_for_update=True)
    if job is None:
        raise NotFound()
    if job.state not in (JobState.DEAD.value, JobState.QUEUED.value):
        raise Conflict(f"A {job.state} job cannot be retried.")
    now = now or utcnow()
    job.state = JobState.QUEUED.value
    job.attempts = 0
    job.run_after = now
    job.lease_token = None
    job.lease_expires_at = None
    job.progress = None
    job.progress_note = None
    job.outage_since = None
    job.result = None
    job.finished_at = None
    job.updated_at = now
    session.flush()
    return job


def get(session: Session, job_id: str) -> Job | None:
    """The job, or None: jobs are internal, so callers decide how a missing one answers."""
    return session.get(Job, job_id)
