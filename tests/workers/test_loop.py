"""The worker loop on real databases: handlers, failures, heartbeats and stolen leases."""

from __future__ import annotations

import logging
import threading
import time
from datetime import datetime, timedelta
from typing import Any

import pytest
from support import enqueue_job as _enqueue
from support import job_row as _job

from shuttle.db import Database, utcnow
from shuttle.jobs import queue
from shuttle.jobs.queue import ClaimedJob, LeaseLost, PermanentJobError
from workers.loop import Handler, JobContext, Worker


def _lease_expiry(db: Database, job_id: str) -> datetime:
    expiry = _job(db, job_id).lease_expires_at
    assert expiry is not None
    return expiry


def _completing(result: dict[str, Any] | None = None) -> Handler:
    """A well-behaved handler: domain change + completion in one unit of work."""

    def handler(job: ClaimedJob, ctx: JobContext) -> None:
        with ctx.db.uow() as uow:
            queue.enqueue(uow.session, "follow_up", {"after": job.id})
            queue.complete(uow.session, job, result)
            uow.commit()

    return handler


def test_run_once_runs_a_job_and_reports_whether_there_was_one(database: Database) -> None:
    seen: list[dict[str, Any]] = []

    def handler(job: ClaimedJob, ctx: JobContext) -> None:
        seen.append(job.payload)
        ctx.report_progress(50, "half way")
        _completing({"ok": True})(job, ctx)

    job_id = _enqueue(database, "greet", {"name": "x"})
    worker = Worker(database, {"greet": handler}, worker_id="w1", only_known_kinds=True)
    assert worker.run_once() is True
    assert worker.run_once() is False  # the follow-up job's kind is not ours
    assert seen == [{"name": "x"}]
    row = _job(database, job_id)
    assert (row.state, row.result, row.progress, row.worker_id) == ("done", {"ok": True}, 100, "w1")
    assert row.progress_note == "half way"


def test_a_handler_exception_requeues_the_job_with_the_error_recorded(
    database: Database, caplog: pytest.LogCaptureFixture
) -> None:
    def handler(job: ClaimedJob, ctx: JobContext) -> None:
        raise ValueError("cannot decode stream 0\nsecret detail on the next line")

    job_id = _enqueue(database, "transcode")
    before = utcnow()
    with caplog.at_level(logging.ERROR, logger="workers.loop"):
        assert Worker(database, {"transcode": handler}).run_once() is True
    row = _job(database, job_id)
    assert row.state == "queued"
    assert row.attempts == 1
    assert row.last_error == "ValueError: cannot decode stream 0"  # no traceback, first line
    assert before <= row.run_after <= utcnow() + timedelta(seconds=2)
    assert row.lease_token is None
    assert "Traceback" in caplog.text  # ... the traceback went to the log instead


def test_a_permanent_error_dead_letters_at_once(database: Database) -> None:
    def handler(job: ClaimedJob, ctx: JobContext) -> None:
        raise PermanentJobError("not a media file")

    job_id = _enqueue(database, "transcode")
    Worker(database, {"transcode": handler}).run_once()
    row = _job(database, job_id)
    assert (row.state, row.attempts, row.last_error) == (
        "dead",
        1,
        "PermanentJobError: not a media file",
    )


def test_an_unknown_kind_is_dead_lettered_with_a_clear_error(database: Database) -> None:
    job_id = _enqueue(database, "mystery")
    worker = Worker(database, {"transcode": _completing()})
    assert worker.run_once() is True
    row = _job(database, job_id)
    assert row.state == "dead"
    assert row.last_error is not None and "'mystery'" in row.last_error


def test_a_handler_that_forgets_to_complete_dead_letters_the_job(database: Database) -> None:
    job_id = _enqueue(database, "lazy")
    Worker(database, {"lazy": lambda job, ctx: None}).run_once()
    row = _job(database, job_id)
    assert row.state == "dead"
    assert row.last_error is not None and "without completing" in row.last_error


def test_one_bad_job_does_not_stop_the_loop(database: Database) -> None:
    def bad(job: ClaimedJob, ctx: JobContext) -> None:
        raise RuntimeError("boom")

    bad_id = _enqueue(database, "bad", max_attempts=1)
    good_id = _enqueue(database, "good")
    worker = Worker(database, {"bad": bad, "good": _completing()}, poll_interval=0.05)
    thread, stop = worker.start_in_thread()
    try:
        deadline = time.monotonic() + 30
        while _job(database, good_id).state != "done" and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        stop.set()
        thread.join(timeout=30)
    assert not thread.is_alive()
    assert _job(database, bad_id).state == "dead"
    assert _job(database, good_id).state == "done"


def test_the_heartbeat_keeps_the_lease_while_a_slow_handler_runs(database: Database) -> None:
    lease_seconds = 1.0
    stolen: list[ClaimedJob | None] = []
    leases: list[datetime] = []

    def slow(job: ClaimedJob, ctx: JobContext) -> None:
        leases.append(_lease_expiry(database, job.id))
        for _ in range(5):  # 2.5 s: more than twice the lease
            time.sleep(0.5)
            stolen.append(queue.claim(database, "thief"))  # real time: lease kept alive
        leases.append(_lease_expiry(database, job.id))
        assert not ctx.lease_lost.is_set()
        _completing({"slow": True})(job, ctx)

    job_id = _enqueue(database, "slow")
    worker = Worker(
        database,
        {"slow": slow},
        lease_seconds=lease_seconds,
        heartbeat_interval=0.1,
        only_known_kinds=True,
    )
    worker.run_once()
    assert stolen == [None] * 5
    assert leases[1] > leases[0] + timedelta(seconds=1.5)
    row = _job(database, job_id)
    assert (row.state, row.attempts, row.result) == ("done", 1, {"slow": True})


def test_lease_lost_is_set_when_another_worker_steals_the_job(database: Database) -> None:
    started = threading.Event()
    stolen = threading.Event()
    outcome: dict[str, object] = {}

    def handler(job: ClaimedJob, ctx: JobContext) -> None:
        started.set()
        stolen.wait(10)
        outcome["lease_lost"] = ctx.lease_lost.wait(10)
        try:
            _completing({"by": "first"})(job, ctx)
        except LeaseLost:
            outcome["complete"] = "LeaseLost"
            raise

    job_id = _enqueue(database, "slow")
    first = Worker(
        database, {"slow": handler}, worker_id="first", lease_seconds=30, heartbeat_interval=0.1
    )
    thread = threading.Thread(target=first.run_once)
    thread.start()
    try:
        assert started.wait(10)
        # As if the first worker had stalled past its lease: another one takes the job.
        thief = queue.claim(database, "second", now=utcnow() + timedelta(seconds=31))
        assert thief is not None and thief.id == job_id
    finally:
        stolen.set()
        thread.join(timeout=30)

    assert outcome == {"lease_lost": True, "complete": "LeaseLost"}
    row = _job(database, job_id)
    # Nothing the first worker did stuck: not completed, not failed, the thief holds it.
    assert (row.state, row.worker_id, row.lease_token, row.attempts) == (
        "running",
        "second",
        thief.lease_token,
        2,
    )
    with database.uow() as uow:
        queue.complete(uow.session, thief, {"by": "second"})
        uow.commit()
    assert _job(database, job_id).result == {"by": "second"}


def test_report_progress_raises_lease_lost_once_the_job_is_taken(database: Database) -> None:
    outcome: dict[str, object] = {}

    def handler(job: ClaimedJob, ctx: JobContext) -> None:
        queue.claim(database, "thief", now=utcnow() + timedelta(minutes=5))
        try:
            ctx.report_progress(10)
        except LeaseLost:
            outcome["raised"] = True
            outcome["flag"] = ctx.lease_lost.is_set()
            raise

    job_id = _enqueue(database, "k")
    Worker(database, {"k": handler}, heartbeat_interval=30).run_once()
    assert outcome == {"raised": True, "flag": True}
    assert _job(database, job_id).worker_id == "thief"


def test_worker_rejects_a_nonsensical_lease(database: Database) -> None:
    with pytest.raises(ValueError):
        Worker(database, {}, lease_seconds=0)


def _due_now(db: Database, job_id: str) -> None:
    """Move the clock past the backoff: make the queued job due at once."""
    with db.uow() as uow:
        row = queue.get(uow.session, job_id)
        assert row is not None
        row.run_after = utcnow() - timedelta(seconds=1)
        uow.commit()


def test_a_store_outage_does_not_use_up_a_jobs_attempts(database: Database) -> None:
    """Ten quick tries while the object store is down (more than max_attempts): the job waits
    for the store instead of dying; when the store is back it completes."""
    from storage.errors import StorageUnavailable

    store_up = False

    def handler(job: ClaimedJob, ctx: JobContext) -> None:
        if not store_up:
            try:
                raise ConnectionRefusedError("connection refused")
            except ConnectionRefusedError as cause:
                raise StorageUnavailable("S3 read of 'x' failed: connection refused") from cause
        _completing()(job, ctx)

    job_id = _enqueue(database, "k", max_attempts=3)
    worker = Worker(database, {"k": handler, "follow_up": _completing()}, lease_seconds=30, outage_budget=600)
    for _ in range(10):
        _due_now(database, job_id)
        assert worker.run_once()
        row = _job(database, job_id)
        assert row.state == "queued", row.last_error
        assert row.run_after - utcnow() <= timedelta(seconds=queue.OUTAGE_BACKOFF_CAP_SECONDS)
    store_up = True
    _due_now(database, job_id)
    assert worker.run_once()
    assert _job(database, job_id).state == "done"


def test_a_bug_still_uses_up_attempts(database: Database) -> None:
    def handler(job: ClaimedJob, ctx: JobContext) -> None:
        raise ValueError("a bug, not an outage")

    job_id = _enqueue(database, "k", max_attempts=2)
    worker = Worker(database, {"k": handler}, lease_seconds=30)
    for _ in range(2):
        _due_now(database, job_id)
        worker.run_once()
    assert _job(database, job_id).state == "dead"
