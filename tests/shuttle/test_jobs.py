"""The job queue against real databases (SQLite and PostgreSQL): invariant 6, "nothing lost"."""

from __future__ import annotations

import random
import threading
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from support import enqueue_job as _enqueue
from support import job_row as _job

from shuttle.db import Database, utcnow
from shuttle.errors import Conflict, NotFound
from shuttle.jobs import queue
from shuttle.jobs.models import Job
from shuttle.jobs.queue import ClaimedJob, LeaseLost

T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


def _count(db: Database) -> int:
    with db.uow() as uow:
        return uow.session.scalar(select(func.count()).select_from(Job)) or 0


# --- backoff: a pure function -------------------------------------------------------------


def test_backoff_is_full_jitter_under_an_exponential_bound_capped_at_ten_minutes() -> None:
    rng = random.Random(7)
    for attempt, bound in [(1, 2), (2, 4), (3, 8), (6, 64), (10, 600), (60, 600), (10_000, 600)]:
        samples = [queue.backoff(attempt, rng) for _ in range(200)]
        assert all(0 <= s <= bound for s in samples), attempt
        assert max(samples) > bound * 0.8  # spreads over the whole range, not just the top
        assert min(samples) < bound * 0.2


def test_backoff_is_deterministic_for_a_seeded_rng() -> None:
    assert queue.backoff(4, random.Random(1)) == queue.backoff(4, random.Random(1))


# --- enqueue: in the caller's transaction ---------------------------------------------------


def test_enqueue_in_a_rolled_back_transaction_leaves_no_job(database: Database) -> None:
    with database.uow() as uow:
        queue.enqueue(uow.session, "process_version", {"version_id": "v1"})
        # no commit: the state change that needed the job did not happen
    assert _count(database) == 0

    job_id = _enqueue(database, payload={"version_id": "v2"})
    job = _job(database, job_id)
    assert (job.state, job.attempts, job.payload) == ("queued", 0, {"version_id": "v2"})


def test_enqueue_refuses_a_payload_that_is_not_json(database: Database) -> None:
    with database.uow() as uow, pytest.raises(TypeError):
        queue.enqueue(uow.session, "k", {"when": utcnow()})


# --- claim -------------------------------------------------------------------------------------


def test_claim_takes_due_jobs_oldest_first_and_not_future_ones(database: Database) -> None:
    late = _enqueue(database, "k", {"n": 3}, run_after=T0 - timedelta(minutes=1))
    early = _enqueue(database, "k", {"n": 1}, run_after=T0 - timedelta(minutes=10))
    middle = _enqueue(database, "k", {"n": 2}, run_after=T0 - timedelta(minutes=5))
    future = _enqueue(database, "k", {"n": 4}, run_after=T0 + timedelta(minutes=5))

    got = [queue.claim(database, "w1", lease_seconds=3600, now=T0) for _ in range(4)]
    assert [j.id if j else None for j in got] == [early, middle, late, None]
    first = got[0]
    assert first is not None
    assert (first.kind, first.payload, first.attempts, first.max_attempts) == ("k", {"n": 1}, 1, 5)

    row = _job(database, early)
    assert row.state == "running"
    assert row.worker_id == "w1"
    assert row.lease_token == first.lease_token
    assert row.lease_expires_at == T0 + timedelta(hours=1)

    later = queue.claim(database, "w1", now=T0 + timedelta(minutes=6))
    assert later is not None and later.id == future


def test_claim_filters_by_kind(database: Database) -> None:
    a = _enqueue(database, "a", {}, run_after=T0 - timedelta(minutes=2))
    b = _enqueue(database, "b", {}, run_after=T0 - timedelta(minutes=1))
    got = queue.claim(database, "w", kinds=["b"], now=T0)
    assert got is not None and got.id == b
    assert queue.claim(database, "w", kinds=["b"], now=T0) is None
    assert queue.claim(database, "w", kinds=[], now=T0) is None
    got = queue.claim(database, "w", kinds={"a", "b"}, now=T0)
    assert got is not None and got.id == a


def test_a_crashed_workers_job_is_claimed_again_and_completes_once(database: Database) -> None:
    job_id = _enqueue(database, run_after=T0)
    first = queue.claim(database, "dies", lease_seconds=30, now=T0)
    assert first is not None
    # Within the lease nobody else may take it.
    assert queue.claim(database, "other", now=T0 + timedelta(seconds=29)) is None

    # The first worker "died": its lease runs out and another worker takes the job.
    second = queue.claim(database, "other", lease_seconds=30, now=T0 + timedelta(seconds=31))
    assert second is not None and second.id == job_id
    assert second.attempts == 2
    assert second.lease_token != first.lease_token

    with database.uow() as uow:
        queue.complete(uow.session, second, {"ok": True})
        uow.commit()
    # The first worker wakes up and tries to finish too: refused.
    with database.uow() as uow, pytest.raises(LeaseLost):
        queue.complete(uow.session, first, {"ok": "twice"})

    job = _job(database, job_id)
    assert (job.state, job.result, job.attempts, job.progress) == ("done", {"ok": True}, 2, 100)
    assert job.finished_at is not None and job.lease_token is None
    assert queue.claim(database, "third", now=T0 + timedelta(days=1)) is None


def test_complete_with_a_stale_token_rolls_back_the_callers_domain_change(
    database: Database,
) -> None:
    job_id = _enqueue(database, run_after=T0)
    stale = queue.claim(database, "slow", lease_seconds=10, now=T0)
    assert stale is not None
    fresh = queue.claim(database, "fast", lease_seconds=10, now=T0 + timedelta(seconds=11))
    assert fresh is not None

    # The slow worker's handler: a domain change (here: enqueuing the follow-up job) and the
    # completion, in one unit of work. LeaseLost aborts it before commit.
    with pytest.raises(LeaseLost), database.uow() as uow:
        queue.enqueue(uow.session, "notify_recipient", {"after": job_id})
        queue.complete(uow.session, stale, {"by": "slow"})
        uow.commit()
    assert _count(database) == 1  # the follow-up job was rolled back with it

    with database.uow() as uow:
        queue.enqueue(uow.session, "notify_recipient", {"after": job_id})
        queue.complete(uow.session, fresh, {"by": "fast"})
        uow.commit()
    assert _count(database) == 2
    assert _job(database, job_id).result == {"by": "fast"}


def test_a_forged_token_cannot_heartbeat_complete_or_fail(database: Database) -> None:
    _enqueue(database, run_after=T0)
    job = queue.claim(database, "w", now=T0)
    assert job is not None
    forged = ClaimedJob(job.id, job.kind, job.payload, job.attempts, job.max_attempts, "0" * 32)
    with pytest.raises(LeaseLost):
        queue.heartbeat(database, forged, lease_seconds=60)
    with pytest.raises(LeaseLost):
        queue.fail(database, forged, "X: y")
    with database.uow() as uow, pytest.raises(LeaseLost):
        queue.complete(uow.session, forged)
    assert _job(database, job.id).state == "running"


def test_heartbeat_extends_the_lease_and_records_progress(database: Database) -> None:
    job_id = _enqueue(database, run_after=T0)
    job = queue.claim(database, "w", lease_seconds=30, now=T0)
    assert job is not None
    queue.heartbeat(
        database,
        job,
        lease_seconds=30,
        progress=40,
        note="encoding video",
        now=T0 + timedelta(seconds=25),
    )
    row = _job(database, job_id)
    assert row.lease_expires_at == T0 + timedelta(seconds=55)
    assert (row.progress, row.progress_note) == (40, "encoding video")
    # Past the original lease, but within the extended one: not claimable.
    assert queue.claim(database, "other", now=T0 + timedelta(seconds=40)) is None
    with pytest.raises(ValueError):
        queue.heartbeat(database, job, lease_seconds=30, progress=101)


def test_failures_back_off_then_the_job_goes_dead(database: Database) -> None:
    job_id = _enqueue(database, run_after=T0, max_attempts=3)
    now = T0
    for attempt in (1, 2):
        job = queue.claim(database, "w", now=now)
        assert job is not None and job.attempts == attempt
        state = queue.fail(
            database, job, f"RuntimeError: boom {attempt}", now=now, rng=random.Random(attempt)
        )
        assert state == "queued"
        row = _job(database, job_id)
        assert row.last_error == f"RuntimeError: boom {attempt}"
        assert row.lease_token is None
        bound = timedelta(seconds=2 * 2 ** (attempt - 1))
        assert now <= row.run_after <= now + bound
        if row.run_after > now:
            assert queue.claim(database, "w", now=now) is None  # not before its time
        now = row.run_after

    job = queue.claim(database, "w", now=now)
    assert job is not None and job.attempts == 3
    assert queue.fail(database, job, "RuntimeError: boom 3", now=now) == "dead"
    row = _job(database, job_id)
    assert (row.state, row.last_error, row.attempts) == ("dead", "RuntimeError: boom 3", 3)
    assert row.finished_at == now
    assert queue.claim(database, "w", now=now + timedelta(days=1)) is None


def test_a_permanent_failure_goes_dead_at_once(database: Database) -> None:
    job_id = _enqueue(database, run_after=T0)
    job = queue.claim(database, "w", now=T0)
    assert job is not None
    assert (
        queue.fail(database, job, "PermanentJobError: not a video", now=T0, retryable=False)
        == "dead"
    )
    assert _job(database, job_id).attempts == 1


def test_an_expired_lease_on_the_last_attempt_goes_dead_instead_of_running_again(
    database: Database,
) -> None:
    poison = _enqueue(database, run_after=T0 - timedelta(minutes=1), max_attempts=2)
    healthy = _enqueue(database, run_after=T0)
    now = T0
    for attempt in (1, 2):
        job = queue.claim(database, f"w{attempt}", kinds=None, lease_seconds=10, now=now)
        assert job is not None and (job.id, job.attempts) == (poison, attempt)
        now += timedelta(seconds=11)  # the worker died with it every time

    # The next claim dead-letters the poison job and hands out the healthy one instead.
    job = queue.claim(database, "w3", now=now)
    assert job is not None and job.id == healthy
    row = _job(database, poison)
    assert row.state == "dead"
    assert row.last_error is not None and "lease expired" in row.last_error
    assert row.lease_token is None


def test_retry_revives_a_dead_job(database: Database) -> None:
    job_id = _enqueue(database, run_after=T0, max_attempts=1)
    job = queue.claim(database, "w", now=T0)
    assert job is not None
    assert queue.fail(database, job, "OSError: disk full", now=T0) == "dead"

    with database.uow() as uow:
        revived = queue.retry(uow.session, job_id)
        assert (revived.state, revived.attempts) == ("queued", 0)
        uow.commit()
    row = _job(database, job_id)
    assert (row.state, row.attempts, row.finished_at) == ("queued", 0, None)
    assert row.last_error == "OSError: disk full"  # history stays visible until the next attempt

    again = queue.claim(database, "w")
    assert again is not None and again.id == job_id and again.attempts == 1
    with database.uow() as uow:
        queue.complete(uow.session, again)
        uow.commit()

    with database.uow() as uow:
        with pytest.raises(Conflict):
            queue.retry(uow.session, job_id)  # done: nothing to retry
        with pytest.raises(NotFound):
            queue.retry(uow.session, "nope")


def test_retry_of_a_running_job_is_a_conflict(database: Database) -> None:
    _enqueue(database, run_after=T0)
    job = queue.claim(database, "w", now=T0)
    assert job is not None
    with database.uow() as uow, pytest.raises(Conflict):
        queue.retry(uow.session, job.id)


# --- many workers at once --------------------------------------------------------------------


@pytest.mark.committing  # several connections at once
def test_concurrent_claimers_never_take_the_same_job(database: Database) -> None:
    """50 jobs, 4 threads (4 connections) claiming as fast as they can: each job once."""
    with database.uow() as uow:
        ids = {queue.enqueue(uow.session, "k", {"n": n}).id for n in range(50)}
        uow.commit()

    claimed: list[str] = []
    errors: list[BaseException] = []
    lock = threading.Lock()
    start = threading.Barrier(4)

    def claimer(name: str) -> None:
        try:
            start.wait()
            while (job := queue.claim(database, name)) is not None:
                with database.uow() as uow:
                    queue.complete(uow.session, job)
                    uow.commit()
                with lock:
                    claimed.append(job.id)
        except BaseException as exc:  # surfaced below, in the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=claimer, args=(f"w{i}",)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    counts = Counter(claimed)
    assert set(counts) == ids
    assert set(counts.values()) == {1}

    with database.uow() as uow:
        states = uow.session.execute(select(Job.state, Job.attempts)).all()
    assert {tuple(s) for s in states} == {("done", 1)}


def test_a_reclaimed_job_starts_without_the_dead_attempts_progress(database: Database) -> None:
    _enqueue(database, run_after=T0)
    first = queue.claim(database, "dies", lease_seconds=30, now=T0)
    assert first is not None
    queue.heartbeat(database, first, lease_seconds=30, progress=40, note="processing", now=T0)
    second = queue.claim(database, "other", lease_seconds=30, now=T0 + timedelta(seconds=61))
    assert second is not None
    row = _job(database, second.id)
    assert (row.progress, row.progress_note) == (None, None)


def test_an_outage_shorter_than_the_budget_never_kills_a_job(database: Database) -> None:
    """Quick tries during an outage do not use up the job's attempts; time does."""
    job_id = _enqueue(database, run_after=T0, max_attempts=5)
    rng = random.Random(3)
    now = T0
    budget = timedelta(seconds=queue.OUTAGE_BUDGET_SECONDS)
    while now < T0 + budget - timedelta(seconds=1):
        job = queue.claim(database, "w", lease_seconds=30, now=now)
        assert job is not None, now
        state = queue.fail(database, job, "StorageError: down", now=now, rng=rng, transient=True)
        assert state == "queued"
        row = _job(database, job_id)
        assert row.run_after - now <= timedelta(seconds=queue.OUTAGE_BACKOFF_CAP_SECONDS)
        now = row.run_after
    assert _job(database, job_id).attempts <= 5
    # The store is back: the job runs and completes.
    job = queue.claim(database, "w", lease_seconds=30, now=now)
    assert job is not None
    with database.uow() as uow:
        queue.complete(uow.session, job, {"ok": True})
        uow.commit()
    assert _job(database, job_id).state == "done"


def test_an_outage_longer_than_the_budget_dead_letters_the_job(database: Database) -> None:
    job_id = _enqueue(database, run_after=T0, max_attempts=5)
    job = queue.claim(database, "w", lease_seconds=30, now=T0)
    assert job is not None
    queue.fail(database, job, "StorageError: down", now=T0, transient=True)
    later = T0 + timedelta(seconds=queue.OUTAGE_BUDGET_SECONDS + 1)
    job = queue.claim(database, "w", lease_seconds=30, now=later)
    assert job is not None
    assert queue.fail(database, job, "StorageError: still down", now=later, transient=True) == "dead"
    assert "still down" in (_job(database, job_id).last_error or "")
