"""One unit of work per request, the session looked up once, and reads that never take SQLite's
write lock (issue 14, target 3): counted on the real app, with a second connection holding the
write lock while pages are read."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import delete, event, func, select
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from world import World, web_client

from shuttle.accounts.models import AuthSession
from shuttle.audit import log as audit
from shuttle.audit.models import AuditEvent
from shuttle.db import UnitOfWork, WriteInReadOnly
from shuttle.services import Actor, Services
from shuttle.web import http
from shuttle.web.app import build_app


@pytest.fixture
def world(sqlite_svc: Services) -> World:
    return World(sqlite_svc)


@contextmanager
def counted(svc: Services) -> Iterator[dict[str, int]]:
    """Units of work opened and statements that read the sessions table, while the block runs."""
    seen = {"units": 0, "lookups": 0}
    make = svc.db.uow

    def counting_uow(**kwargs: Any) -> UnitOfWork:
        seen["units"] += 1
        return make(**kwargs)

    def on_statement(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if "FROM auth_sessions" in statement:
            seen["lookups"] += 1

    svc.db.uow = counting_uow  # type: ignore[method-assign]
    event.listen(svc.db.engine, "before_cursor_execute", on_statement)
    try:
        yield seen
    finally:
        event.remove(svc.db.engine, "before_cursor_execute", on_statement)
        del svc.db.uow


@contextmanager
def write_lock_held(svc: Services) -> Iterator[None]:
    """Another connection holds SQLite's write lock (BEGIN IMMEDIATE) for the block's length."""
    other = sqlite3.connect(svc.db.engine.url.database or "", isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")
    try:
        yield
    finally:
        other.execute("ROLLBACK")
        other.close()


def test_a_page_and_an_api_read_are_one_unit_of_work_with_one_session_lookup(world: World) -> None:
    case_id, p = world.case()
    app = build_app(world.svc, check_schema=False)
    with world.sign_in(app, p.facilitator) as staff:
        for path in ("/staff", f"/staff/cases/{case_id}", "/api/v1/me", f"/api/v1/cases/{case_id}/messages"):
            with counted(world.svc) as seen:
                assert staff.get(path).status_code == 200, path
            assert seen == {"units": 1, "lookups": 1}, path
        with counted(world.svc) as seen:  # a change then a view of it: two units of work, one lookup
            assert staff.delete("/api/v1/me/notifications").status_code == 200
        assert seen == {"units": 2, "lookups": 1}


def test_reads_answer_while_another_connection_holds_the_write_lock(world: World) -> None:
    case_id, p = world.case()
    app = build_app(world.svc, check_schema=False)
    with world.sign_in(app, p.facilitator) as staff, world.sign_in(app, p.harmed) as harmed:
        staff.get("/staff")  # warm: connections opened before the lock is taken
        with write_lock_held(world.svc):
            started = time.monotonic()
            for client, path in ((staff, "/staff"), (staff, f"/staff/cases/{case_id}"), (staff, "/api/v1/me"),
                                 (harmed, "/"), (harmed, f"/api/v1/cases/{case_id}/messages")):
                assert client.get(path).status_code == 200, path
            assert time.monotonic() - started < 10  # the busy timeout is 30 s: none of them waited for it


def test_a_write_in_a_read_only_unit_of_work_raises(world: World) -> None:
    svc = world.svc
    with svc.db.uow(readonly=True) as uow:
        uow.session.add(AuditEvent(seq=10**9, at=svc.now(), action="test.write", actor_role="system", details={},
                                    prev_hash="", hash="x"))
        with pytest.raises(WriteInReadOnly):
            uow.session.flush()
        assert uow.write_refused
    with svc.db.uow(readonly=True) as uow, pytest.raises(WriteInReadOnly):
        uow.session.execute(delete(AuditEvent))
    with svc.db.uow(readonly=True) as uow:  # reading is what it is for
        assert uow.session.scalar(select(func.count()).select_from(AuditEvent)) is not None


def test_rows_read_in_a_read_only_unit_of_work_stay_readable_after_it(world: World) -> None:
    world.case()
    with world.svc.db.uow(readonly=True) as uow:
        event = uow.session.scalars(select(AuditEvent).order_by(AuditEvent.seq)).first()
        uow.commit()
    assert event is not None and event.action  # as after a commit: not expired by a rollback


def _writing_get(svc: Services) -> Starlette:
    """A bare app on the same services with one GET that writes an audit row (as audited views do)."""

    def audited_view(session: Any, _svc: Services, actor: Actor) -> str:
        audit.record(session, action="message.view_content", actor_id=actor.account_id, actor_role=actor.role)
        return "seen"

    async def endpoint(request: Request) -> Response:
        return JSONResponse({"result": await http.run(request, audited_view)})

    app = Starlette(routes=[Route("/write", endpoint)])
    app.state.services = svc
    app.add_middleware(http.OneUnitOfWork)
    app.state.audited_view = audited_view
    return app


def test_a_get_that_writes_is_redone_ready_to_write_and_remembered(world: World) -> None:
    _, p = world.case()
    real = build_app(world.svc, check_schema=False)
    with world.sign_in(real, p.facilitator) as staff:
        cookie = staff.cookies.get(http.SESSION_COOKIE)
    app = _writing_get(world.svc)
    client = web_client(app)
    client.cookies.set(http.SESSION_COOKIE, cookie or "")

    def audited() -> int:
        with world.svc.db.uow() as uow:
            return uow.session.scalar(select(func.count()).select_from(AuditEvent)
                                      .where(AuditEvent.action == "message.view_content")) or 0

    before = audited()
    with counted(world.svc) as seen:
        assert client.get("/write").json() == {"result": "seen"}
    assert audited() == before + 1
    assert seen["units"] == 2  # read-only first, refused at the write, redone once
    assert app.state.audited_view.__code__ in http._WRITES_ON_READ
    with counted(world.svc) as seen:
        assert client.get("/write").status_code == 200
    assert audited() == before + 2 and seen["units"] == 1  # remembered: begins ready to write


def test_the_idle_expiry_still_slides_on_reads(world: World) -> None:
    _, p = world.case()
    app = build_app(world.svc, check_schema=False)
    with world.sign_in(app, p.facilitator) as staff:
        def last_seen() -> Any:
            with world.svc.db.uow() as uow:
                return uow.session.scalars(select(AuthSession.last_seen_at)
                                           .where(AuthSession.account_id == p.facilitator.account_id)
                                           .order_by(AuthSession.last_seen_at.desc())).first()

        signed_in_at = last_seen()
        assert staff.get("/api/v1/me").status_code == 200
        assert last_seen() == signed_in_at  # within the minute: nothing written
        later = world.svc.now() + timedelta(minutes=5)
        world.svc.clock = lambda: later
        assert staff.get("/staff").status_code == 200
        assert last_seen() == later  # slid, in a unit of work that may write
        with write_lock_held(world.svc):  # and the next reads need no lock again
            done = threading.Event()

            def read() -> None:
                assert staff.get("/api/v1/me").status_code == 200
                done.set()

            reader = threading.Thread(target=read)
            reader.start()
            reader.join(timeout=10)
            assert done.is_set()
