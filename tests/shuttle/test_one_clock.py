"""One clock (issue 9, point 5): `Services.now` reaches sessions, throttling and the job queue.

The test moves the injected clock, never the wall clock, and watches a session expire and a
job's lease lapse; both used to be measured on the wall clock, so neither moved.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from support import Clock
from world import World

from shuttle.jobs import queue
from shuttle.jobs.models import Job, JobState
from shuttle.services import Services
from shuttle.web.app import build_app
from workers.handlers import build_worker
from workers.loop import Worker

#: Far from the wall clock, so anything still measured on the wall clock shows.
START = datetime(2031, 3, 3, 9, 0, tzinfo=UTC)


def test_a_session_expires_when_the_service_clock_moves(sqlite_svc: Services) -> None:
    clock = sqlite_svc.clock = Clock(START)
    world = World(sqlite_svc)
    _, people = world.case()
    client = world.sign_in(build_app(sqlite_svc, check_schema=False), people.harmed)
    assert client.get("/api/v1/me").status_code == 200
    clock.now += timedelta(seconds=sqlite_svc.settings.limits.session_idle_seconds - 60)
    assert client.get("/api/v1/me").status_code == 200  # still in use: the idle time starts again
    clock.now += timedelta(seconds=sqlite_svc.settings.limits.session_idle_seconds + 1)
    assert client.get("/api/v1/me").status_code == 401


def test_a_lease_lapses_when_the_service_clock_moves(sqlite_svc: Services) -> None:
    clock = sqlite_svc.clock = Clock(START)
    with sqlite_svc.db.uow() as uow:
        job_id = queue.enqueue(uow.session, "test.clock", {}, now=sqlite_svc.now()).id
        uow.commit()
    first = queue.claim(sqlite_svc.db, "crashed-worker", lease_seconds=60, now=sqlite_svc.now())
    assert first is not None and first.id == job_id
    done: list[str] = []

    def handler(job: queue.ClaimedJob, _ctx: object) -> None:
        with sqlite_svc.db.uow() as uow:
            queue.complete(uow.session, job, now=sqlite_svc.now())
            uow.commit()
        done.append(job.id)

    second = Worker(sqlite_svc.db, {"test.clock": handler}, worker_id="second", lease_seconds=60,
                    clock=sqlite_svc.now)
    assert not second.run_once()  # the first worker's lease still holds
    clock.now += timedelta(seconds=61)
    assert second.run_once() and done == [job_id]
    with sqlite_svc.db.uow() as uow:
        job = uow.session.get(Job, job_id)
        assert job is not None and job.state == JobState.DONE.value
        assert job.finished_at == START + timedelta(seconds=61) and job.attempts == 2


def test_the_services_worker_reads_the_clock_it_is_given(sqlite_svc: Services) -> None:
    worker = build_worker(sqlite_svc, worker_id="w")
    sqlite_svc.clock = Clock(START)
    assert worker.clock() == START
