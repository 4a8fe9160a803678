"""The job that processes a message version: letters here, media in `media_jobs`.

Only what this job produces can ever reach a recipient (invariant 2).
"""

from __future__ import annotations

from shuttle.jobs import queue
from shuttle.jobs.queue import ClaimedJob, PermanentJobError
from shuttle.messages import processing
from shuttle.services import Services
from workers import letters
from workers.loop import JobContext, is_outage
from workers.media_jobs import MediaJob
from workers.preload import preload


def process_version(svc: Services, media: MediaJob, job: ClaimedJob, ctx: JobContext) -> None:
    """Start (one transaction), do the work outside any transaction, finish (one transaction)."""
    version_id = str(job.payload["version_id"])
    with svc.db.uow() as uow:
        rows = preload(uow.session, version_id)
        wanted = processing.begin(uow.session, svc, version_id)  # its audit event: last, so the chain lock is brief
        if wanted is None:
            queue.complete(uow.session, job, {"skipped": "the version is no longer waiting for processing"},
                           now=svc.now())
        uow.commit()
    if wanted is None:
        return
    try:
        if wanted.kind == "letter":
            letters.process(svc, job, wanted, rows.body if rows else None)
        else:
            media(job, ctx, wanted)
    except PermanentJobError:
        raise
    except Exception as exc:
        if job.attempts >= job.max_attempts and not is_outage(exc):  # dead-lettered: say so on the message now
            _failed(svc, version_id, f"{type(exc).__name__}: {exc}")
        raise


def _failed(svc: Services, version_id: str, error: str) -> None:
    with svc.db.uow() as uow:
        processing.fail(uow.session, svc, version_id, error[:300])
        uow.commit()
