"""The job kinds this worker runs, and the periodic duties it performs between jobs."""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Callable

from shuttle import retention_policy
from shuttle.audit import log as audit
from shuttle.cases.participation import lapse_expired_assessments
from shuttle.messages.authoring import PROCESS_JOB
from shuttle.messages.processing import sync_dead_jobs
from shuttle.messages.queries import escalate_overdue
from shuttle.messages.release import release_due
from shuttle.notifications.service import DIGEST_JOB, enqueue_digests
from shuttle.referrals.service import escalate_first_contact
from shuttle.retention import sweep
from shuttle.services import Services
from workers.digests import send_digest
from workers.loop import Handler, Worker
from workers.media_jobs import MediaJob
from workers.versions import process_version

log = logging.getLogger(__name__)


def handlers(svc: Services, media: MediaJob) -> dict[str, Handler]:
    return {PROCESS_JOB: functools.partial(process_version, svc, media),
            DIGEST_JOB: functools.partial(send_digest, svc)}


def build_worker(svc: Services, *, worker_id: str | None = None) -> Worker:
    """A worker ready to run; first removes plaintext an earlier, crashed worker left in scratch."""
    media = MediaJob(svc)
    wiped = media.wipe_stale_scratch()
    if wiped:
        log.warning("removed %d scratch folder(s) left by a crashed worker", len(wiped))
    return Worker(svc.db, handlers(svc, media), worker_id=worker_id, lease_seconds=svc.settings.job_lease_seconds,
                  clock=svc.now,  # read at each call: a test may move the clock later
                  outage_budget=svc.settings.job_outage_budget_seconds)


#: Periodic duties: each works on what is due now (found by index), in small batches, each batch
#: its own short transaction, so the tick never holds the (SQLite) write lock for long.
DUTIES: tuple[Callable[..., int], ...] = (sync_dead_jobs, release_due, escalate_overdue,
                                          escalate_first_contact, lapse_expired_assessments, enqueue_digests,
                                          *retention_policy.DUTIES)
BATCH = 100
MAX_BATCHES = 50  # per duty and tick: the rest waits for the next tick


def tick(svc: Services) -> None:
    """Scheduled releases, messages whose processing died, reviews past their deadline: none of
    them waits for somebody to open a page."""
    for duty in DUTIES:
        for _ in range(MAX_BATCHES):
            with svc.db.uow() as uow:
                done = duty(uow.session, svc, limit=BATCH)
                uow.commit()
            if done < BATCH:
                break


def publish_audit_head(svc: Services) -> bool:
    """Append the audit chain head to SHUTTLE_AUDIT_HEAD_FILE when it moved (see docs/deployment.md)."""
    if svc.settings.audit_head_file is None:
        return False
    with svc.db.uow() as uow:
        return audit.publish_head(uow.session, svc.settings.audit_head_file) is not None


def run_ticker(svc: Services, stop: threading.Event, interval: float = 15.0, sweep_every: int = 40) -> None:
    """Every `interval` seconds the quick duties; every `sweep_every` rounds the storage sweep."""
    rounds = 0
    while not stop.wait(interval):
        rounds += 1
        try:
            tick(svc)
            publish_audit_head(svc)
            if rounds % sweep_every == 0:
                log.info("storage sweep: %s", sweep(svc))
        except Exception:  # keep ticking; the next round retries
            log.exception("periodic duties failed")
