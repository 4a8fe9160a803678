"""The letter job survives a dead worker and a failing letter stays visible, never lost."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from world import World

from shuttle.jobs import queue
from shuttle.jobs.models import Job
from shuttle.messages import authoring, queries, review
from shuttle.messages.models import Message, MessageVersion
from shuttle.services import Services
from workers.handlers import build_worker, tick


def _message(svc: Services, message_id: str) -> Message:
    with svc.db.uow() as uow:
        message = uow.session.get(Message, message_id)
        uow.session.expunge(message)
        return message  # type: ignore[return-value]


def test_a_job_whose_worker_died_is_picked_up_again_and_completes_once(svc: Services) -> None:
    world = World(svc)
    case_id, p = world.case()
    draft = world.do(authoring.start_draft, p.harmed, case_id, "Dear Sam")
    world.do(authoring.submit, p.harmed, draft.id)

    dead = queue.claim(svc.db, "crashed-worker", lease_seconds=30)  # claims, then "dies"
    assert dead is not None
    later = svc.now() + timedelta(seconds=31)
    again = queue.claim(svc.db, "second-worker", lease_seconds=30, now=later)
    assert again is not None and again.id == dead.id and again.lease_token != dead.lease_token
    build_worker(svc)._run_job(again)  # the second worker finishes it

    message = _message(svc, draft.id)
    assert message.state == "awaiting_review"
    with svc.db.uow() as uow:
        versions = uow.session.scalars(select(MessageVersion).where(MessageVersion.message_id == draft.id)).all()
        assert len(versions) == 1 and versions[0].processed_blob_id is not None
        processed, version_id = versions[0].processed_blob_id, versions[0].id
    # the crashed worker wakes up and tries to finish too: its lease is gone, nothing changes
    build_worker(svc)._run_job(dead)
    with svc.db.uow() as uow:
        assert uow.session.get(MessageVersion, version_id).processed_blob_id == processed  # type: ignore[union-attr]
        assert uow.session.get(Job, dead.id).state == "done"  # type: ignore[union-attr]


def test_a_letter_that_is_empty_once_cleaned_goes_back_to_its_author(svc: Services) -> None:
    world = World(svc)
    case_id, p = world.case()
    draft = world.do(authoring.start_draft, p.harmed, case_id, "\u200b\u200b\u202e")  # empty once cleaned
    world.do(authoring.submit, p.harmed, draft.id)
    world.run_jobs()
    assert _message(svc, draft.id).state == "changes_requested"
    with svc.db.uow() as uow:
        view = queries.case_messages(uow.session, svc, p.harmed, case_id)[0]
    assert "empty" in view["processing_error"] and "edit_draft" in view["actions"]


def test_a_job_that_keeps_failing_is_dead_lettered_visibly_and_a_facilitator_retries_it(svc: Services) -> None:
    world = World(svc)
    case_id, p = world.case()
    draft = world.do(authoring.start_draft, p.harmed, case_id, "Dear Sam")
    world.do(authoring.submit, p.harmed, draft.id)
    message = _message(svc, draft.id)
    with svc.db.uow() as uow:
        uow.session.get(Job, message.processing_job_id).max_attempts = 1  # type: ignore[union-attr]
        body = uow.session.scalars(select(MessageVersion.body_blob_id)).one()
        uow.commit()
    stored = next(path for path in svc.settings.blob_dir.rglob(body or ""))
    kept = stored.read_bytes()
    stored.unlink()  # the storage lost the object for a while
    world.run_jobs()
    assert _message(svc, draft.id).state == "processing_failed"
    view = world.do(queries.review_queue, p.facilitator)[0]
    assert view["processing"]["state"] == "dead" and "retry_processing" in view["actions"]
    assert "ObjectNotFound" in view["processing"]["error"]
    stored.write_bytes(kept)  # storage is back
    world.do(review.retry_processing, p.facilitator, draft.id)
    assert _message(svc, draft.id).state == "submitted"
    world.run_jobs()
    assert _message(svc, draft.id).state == "awaiting_review"


def test_a_message_whose_job_died_with_its_worker_shows_failed_after_the_tick(svc: Services) -> None:
    world = World(svc)
    case_id, p = world.case()
    draft = world.do(authoring.start_draft, p.harmed, case_id, "Dear Sam")
    world.do(authoring.submit, p.harmed, draft.id)
    with svc.db.uow() as uow:
        job = uow.session.get(Job, _message(svc, draft.id).processing_job_id)
        job.max_attempts = 1  # type: ignore[union-attr]
        uow.commit()
    assert queue.claim(svc.db, "dies", lease_seconds=5) is not None
    assert queue.claim(svc.db, "next", lease_seconds=5, now=svc.now() + timedelta(seconds=6)) is None
    tick(svc)
    assert _message(svc, draft.id).state == "processing_failed"


def test_the_worker_progress_shows_on_the_authors_and_the_facilitators_view(svc: Services) -> None:
    from shuttle.messages import processing

    world = World(svc)
    case_id, p = world.case()
    draft = world.do(authoring.start_draft, p.harmed, case_id, "Dear Sam")
    world.do(authoring.submit, p.harmed, draft.id)
    job = queue.claim(svc.db, "w1", lease_seconds=30)
    assert job is not None
    with svc.db.uow() as uow:
        processing.begin(uow.session, svc, job.payload["version_id"])
        uow.commit()
    queue.heartbeat(svc.db, job, lease_seconds=30, progress=45, note="processing")
    with svc.db.uow() as uow:
        mine = queries.case_messages(uow.session, svc, p.harmed, case_id)[0]
        staff = queries.case_messages(uow.session, svc, p.facilitator, case_id)[0]
    assert mine["processing_progress"] == 45 and staff["processing"]["progress"] == 45


def test_a_store_outage_of_a_minute_loses_no_letter(svc: Services, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The object store is down for 60 s (on a moved clock) while a letter waits to be processed:
    the worker keeps trying, every few seconds, far more often than the job's attempts, and the
    letter is processed once the store is back."""
    from storage.errors import StorageUnavailable

    world = World(svc)
    case_id, p = world.case()
    draft = world.do(authoring.start_draft, p.harmed, case_id, "Dear Sam, a letter for an outage.")
    world.do(authoring.submit, p.harmed, draft.id)
    now = [svc.now()]
    svc.clock = lambda: now[0]
    back_at = now[0] + timedelta(seconds=60)
    backend = svc.store._backend
    read = backend.read

    def flaky(*args, **kwargs):  # type: ignore[no-untyped-def]
        if now[0] < back_at:
            raise StorageUnavailable("S3 read failed: connection refused")
        return read(*args, **kwargs)

    monkeypatch.setattr(backend, "read", flaky)
    worker = build_worker(svc)
    tries = 0
    while _message(svc, draft.id).state != "awaiting_review":
        assert worker.run_once(), "the job must stay claimable, never dead"
        tries += 1
        with svc.db.uow() as uow:
            job = uow.session.get(Job, _message(svc, draft.id).processing_job_id)
            assert job is not None and job.state in ("queued", "done"), job.last_error
            if job.state == "queued":
                now[0] = max(now[0], job.run_after)  # time passes until the retry is due
        assert tries < 100
    assert tries > 5  # more tries than max_attempts: the outage did not use them up
    assert _message(svc, draft.id).state == "awaiting_review"
