"""The worker loop: claim a job, run its handler under a heartbeat, record the outcome.

The same loop runs inside the server process (embedded default, `start_in_thread`) and as
N separate worker processes on many machines (`run`), all sharing one database queue.

The handler contract
--------------------
A handler is `handler(job: ClaimedJob, ctx: JobContext) -> None`. It does its work and then,
in ONE unit of work of its own, applies its domain changes and calls
`queue.complete(uow.session, job, result)` before `uow.commit()`:

    def process(job, ctx):
        output = do_the_slow_part(job.payload, ctx)      # no transaction open here
        with ctx.db.uow() as uow:
            apply_domain_change(uow.session, output)
            queue.complete(uow.session, job, {"bytes": len(output)})
            uow.commit()

so the domain change and the job's completion commit together, exactly once. If the lease
was lost (another worker took the job), `complete` raises `LeaseLost` and the domain change
rolls back with it. Also:

- Raise any exception to fail the attempt: the job is retried with backoff until its
  attempts run out, then dead-lettered. Raise `PermanentJobError` to dead-letter at once.
  An outage of a dependency (`StorageUnavailable` from the object store or KMS, a lost
  database connection, a refused or timed-out connection, anywhere in the exception's
  cause chain) does not use up attempts: the job is retried every few seconds to half a
  minute until the outage has lasted `outage_budget` seconds (SHUTTLE_JOB_OUTAGE_BUDGET_SECONDS).
  The stored error is `ExceptionType: message` (shown to staff: keep messages free of
  content); the traceback goes only to the log.
- Call `ctx.report_progress(pct, note)` from time to time for people to see progress; it
  also extends the lease, and raises `LeaseLost` when the job was taken. Do not call it
  while holding an open unit of work on SQLite (one writer: it would wait on yourself).
- Long steps should look at `ctx.lease_lost` (a `threading.Event` the heartbeat thread sets)
  and give up early when it is set: the work would be thrown away.
- Returning without completing the job is a bug; the job is dead-lettered, not re-run.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable, Mapping
from datetime import datetime

from shuttle.db import Database, utcnow
from shuttle.jobs import queue
from shuttle.jobs.models import JobState
from shuttle.jobs.queue import ClaimedJob, LeaseLost, PermanentJobError
from storage.errors import StorageUnavailable


class JobContext:
    """What a handler may use besides the job: the database, progress reports, lease state."""

    def __init__(
        self, db: Database, job: ClaimedJob, *, lease_seconds: float, lease_lost: threading.Event,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.db = db
        self.job = job
        self.lease_lost = lease_lost
        self._lease_seconds = lease_seconds
        self._clock = clock

    def report_progress(self, pct: int, note: str | None = None) -> None:
        """Record progress (0-100) and extend the lease; `LeaseLost` if the job was taken."""
        try:
            queue.heartbeat(
                self.db, self.job, lease_seconds=self._lease_seconds, progress=pct, note=note, now=self._clock()
            )
        except LeaseLost:
            self.lease_lost.set()
            raise


Handler = Callable[[ClaimedJob, JobContext], None]


def default_worker_id() -> str:
    """Host, process and a random suffix: unique across machines, readable in the jobs table."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class _Heartbeat:
    """Extends a job's lease every `interval` seconds while its handler runs, in a thread."""

    def __init__(
        self,
        db: Database,
        job: ClaimedJob,
        *,
        lease_seconds: float,
        interval: float,
        lease_lost: threading.Event,
        log: logging.Logger,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._clock = clock
        self._db = db
        self._job = job
        self._lease_seconds = lease_seconds
        self._interval = interval
        self._lease_lost = lease_lost
        self._log = log
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"heartbeat-{job.id}", daemon=True)

    def __enter__(self) -> _Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._done.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._done.wait(self._interval):
            try:
                queue.heartbeat(self._db, self._job, lease_seconds=self._lease_seconds, now=self._clock())
            except LeaseLost:
                if not self._done.is_set():  # not merely the handler's own completion
                    self._log.warning("job %s: lease lost; another worker has it", self._job.id)
                    self._lease_lost.set()
                return
            except Exception:
                # A database hiccup: keep trying; the lease is long enough to survive a few.
                self._log.exception("job %s: heartbeat failed", self._job.id)


class Worker:
    """Claims and runs jobs one at a time. Never lets a bad job stop the loop."""

    def __init__(
        self,
        db: Database,
        handlers: Mapping[str, Handler],
        *,
        worker_id: str | None = None,
        lease_seconds: float = 60,
        poll_interval: float = 1.0,
        heartbeat_interval: float | None = None,
        only_known_kinds: bool = False,
        clock: Callable[[], datetime] = utcnow,
        outage_budget: float = queue.OUTAGE_BUDGET_SECONDS,
    ) -> None:
        """`only_known_kinds`: claim only kinds this worker has handlers for. Off by default,
        so that a job no worker can handle is dead-lettered where people see it, instead of
        waiting forever; turn it on when different workers handle different kinds."""
        if lease_seconds <= 0:
            raise ValueError("lease_seconds must be positive")
        self.db = db
        self.handlers = dict(handlers)
        self.worker_id = worker_id or default_worker_id()
        self.lease_seconds = lease_seconds
        self.poll_interval = poll_interval
        self.heartbeat_interval = (
            heartbeat_interval if heartbeat_interval is not None else lease_seconds / 3
        )
        self.only_known_kinds = only_known_kinds
        self.clock = clock  # the service's clock (`Services.clock`): leases are measured on it
        self.outage_budget = outage_budget
        self._log = logging.getLogger(__name__)

    def run_once(self) -> bool:
        """Claim one due job and run it; False when there was nothing to do."""
        job = queue.claim(
            self.db,
            self.worker_id,
            kinds=list(self.handlers) if self.only_known_kinds else None,
            lease_seconds=self.lease_seconds,
            now=self.clock(),
        )
        if job is None:
            return False
        try:
            self._run_job(job)
        except Exception:
            # Recording the outcome itself failed (e.g. the database went away): the lease
            # will expire and the job will be claimed again.
            self._log.exception("job %s (%s): could not record the outcome", job.id, job.kind)
        return True

    def run(self, stop: threading.Event) -> None:
        """Run jobs until `stop` is set; sleeps `poll_interval` when the queue is empty."""
        self._log.info("worker %s started", self.worker_id)
        while not stop.is_set():
            try:
                worked = self.run_once()
            except Exception:
                self._log.exception("worker %s: claiming failed", self.worker_id)
                worked = False
            if not worked:
                stop.wait(self.poll_interval)
        self._log.info("worker %s stopped", self.worker_id)

    def start_in_thread(self) -> tuple[threading.Thread, threading.Event]:
        """The in-process worker of the embedded setup: set the event, then join the thread."""
        stop = threading.Event()
        thread = threading.Thread(
            target=self.run, args=(stop,), name=f"worker-{self.worker_id}", daemon=True
        )
        thread.start()
        return thread, stop

    def _run_job(self, job: ClaimedJob) -> None:
        handler = self.handlers.get(job.kind)
        if handler is None:
            self._log.error("job %s: no handler for kind %r", job.id, job.kind)
            self._fail(
                job, f"UnknownJobKind: no handler for job kind {job.kind!r}", retryable=False
            )
            return
        lease_lost = threading.Event()
        ctx = JobContext(self.db, job, lease_seconds=self.lease_seconds, lease_lost=lease_lost, clock=self.clock)
        try:
            with _Heartbeat(
                self.db,
                job,
                lease_seconds=self.lease_seconds,
                interval=self.heartbeat_interval,
                lease_lost=lease_lost,
                log=self._log,
                clock=self.clock,
            ):
                handler(job, ctx)
        except LeaseLost:
            self._log.warning("job %s (%s): lease lost; result discarded", job.id, job.kind)
            return
        except PermanentJobError as exc:
            self._log.warning("job %s (%s): permanent failure: %s", job.id, job.kind, exc)
            self._fail(job, _describe(exc), retryable=False)
            return
        except Exception as exc:
            if is_outage(exc):
                self._log.warning("job %s (%s): a dependency is down (%s); retrying", job.id, job.kind,
                                  type(exc).__name__)
                self._fail(job, _describe(exc), retryable=True, transient=True)
                return
            self._log.exception("job %s (%s): attempt %d failed", job.id, job.kind, job.attempts)
            self._fail(job, _describe(exc), retryable=True)
            return
        self._check_completed(job)

    def _check_completed(self, job: ClaimedJob) -> None:
        """A handler that returned without `queue.complete` would leave the job to be re-run
        on lease expiry, forever in the worst case: dead-letter it so the bug is visible.

        A job seen completed in a committed transaction (`job.completed`) needs no look-up."""
        if job.completed.is_set():
            return
        with self.db.uow() as uow:
            row = queue.get(uow.session, job.id)
            still_ours = (
                row is not None
                and row.state == JobState.RUNNING.value
                and row.lease_token == job.lease_token
            )
        if still_ours:
            self._log.error("job %s (%s): handler returned without completing", job.id, job.kind)
            self._fail(
                job,
                "HandlerError: the handler returned without completing the job",
                retryable=False,
            )

    def _fail(self, job: ClaimedJob, error: str, *, retryable: bool, transient: bool = False) -> None:
        try:
            state = queue.fail(self.db, job, error, retryable=retryable, now=self.clock(), transient=transient,
                               outage_budget=self.outage_budget)
        except LeaseLost:
            self._log.warning("job %s: lease lost before the failure was recorded", job.id)
            return
        self._log.info("job %s (%s) is now %s", job.id, job.kind, state)


def is_outage(exc: BaseException) -> bool:
    """A dependency down (not the job at fault), seen anywhere in the exception's causes."""
    from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

    seen: BaseException | None = exc
    for _ in range(10):
        if seen is None:
            return False
        if isinstance(seen, (StorageUnavailable, ConnectionError, TimeoutError, OperationalError, InterfaceError)):
            return True
        if isinstance(seen, DBAPIError) and seen.connection_invalidated:
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _describe(exc: BaseException) -> str:
    """`Type: message` for staff to see; the traceback stays in the log."""
    message = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    name = type(exc).__name__
    return f"{name}: {message}" if message else name
