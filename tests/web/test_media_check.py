"""The permission and gate check of a media range (delivery.media_ref) is one statement for staff,
the author side and the recipient, re-run for every range: a pause, or a return or destruction done
at the recipient's request, stops their playback at once."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import event, text
from world import World

from shuttle.cases import service as cases
from shuttle.errors import Conflict, NotFound
from shuttle.messages import delivery, requests, review
from shuttle.messages.delivery import media_ref
from shuttle.services import Actor, Services
from shuttle.web.app import build_app

PLAY = os.urandom(200_000)
POSTER = os.urandom(2_000)


class Statements:
    def __init__(self, svc: Services) -> None:
        self.engine = svc.db.engine
        self.seen: list[str] = []

    def _count(self, _conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        self.seen.append(statement)

    def __enter__(self) -> Statements:
        event.listen(self.engine, "before_cursor_execute", self._count)
        return self

    def __exit__(self, *_: object) -> None:
        event.remove(self.engine, "before_cursor_execute", self._count)


@pytest.fixture
def video(svc: Services) -> Iterator[tuple[World, Any, str, str]]:
    world = World(svc)
    case_id, p = world.case()
    message_id = world.processed_video(p, case_id, PLAY, poster=POSTER, report='{"flags": [], "removed": ["gps"]}')
    yield world, p, case_id, message_id


def _actor(world: World, person: Any) -> Actor:
    return Actor(person.account_id, person.role)


def test_staff_and_author_checks_run_one_statement(svc: Services, video: tuple[World, Any, str, str]) -> None:
    world, p, _, message_id = video
    for person, rendition in ((p.facilitator, "media"), (p.facilitator, "poster"), (p.harmed, "media")):
        with svc.db.uow() as uow:
            uow.session.execute(text("SELECT 1"))  # the transaction has begun
            with Statements(svc) as counted:
                ref = media_ref(uow.session, svc, _actor(world, person), message_id, rendition=rendition,
                                audit_view=False)
            assert len(counted.seen) == 1, counted.seen
            assert ref.size == len(PLAY if rendition == "media" else POSTER)


def test_the_check_still_refuses_what_it_refused(svc: Services, video: tuple[World, Any, str, str]) -> None:
    world, p, case_id, message_id = video
    with svc.db.uow() as uow:
        with pytest.raises(NotFound):  # not released, not opened: the recipient learns nothing
            media_ref(uow.session, svc, _actor(world, p.responsible), message_id)
        with pytest.raises(NotFound):
            media_ref(uow.session, svc, _actor(world, p.facilitator), "0" * 32)
        with pytest.raises(NotFound):  # a version of no such message
            media_ref(uow.session, svc, _actor(world, p.facilitator), message_id, version_id="1" * 32)
        with pytest.raises(NotFound):
            media_ref(uow.session, svc, Actor(None, "participant"), message_id)
    other_case, other = world.case()
    with svc.db.uow() as uow, pytest.raises(NotFound):  # someone else's facilitator
        media_ref(uow.session, svc, _actor(world, other.facilitator), message_id)


def test_a_pause_stops_the_recipients_playback_at_once(svc: Services, video: tuple[World, Any, str, str]) -> None:
    world, p, case_id, message_id = video
    world.do(review.claim, p.facilitator, message_id)
    world.do(review.approve, p.facilitator, message_id)
    app = build_app(svc, check_schema=False)
    url = f"/api/v1/messages/{message_id}/media"
    with world.sign_in(app, p.responsible) as recipient:
        assert recipient.post(f"/api/v1/messages/{message_id}/open", json={}).status_code == 200
        part = recipient.get(url, headers={"Range": "bytes=100-199"})
        assert part.status_code == 206 and part.content == PLAY[100:200]
        world.do(cases.set_status, p.facilitator, case_id, "paused")
        refused = recipient.get(url, headers={"Range": "bytes=200-299"})
        assert refused.status_code == 409 and refused.json()["error"] == "not_deliverable"
        with svc.db.uow() as uow, pytest.raises(Conflict):
            media_ref(uow.session, svc, _actor(world, p.responsible), message_id)
        world.do(cases.set_status, p.facilitator, case_id, "open")
        again = recipient.get(url, headers={"Range": "bytes=200-299"})
        assert again.status_code == 206 and again.content == PLAY[200:300]


def _check(svc: Services, actor: Actor, message_id: str) -> tuple[list[str], Any]:
    """The statements one recipient's check ran, and its answer (or the Conflict it raised)."""
    with svc.db.uow() as uow:
        uow.session.execute(text("SELECT 1"))  # the transaction has begun
        with Statements(svc) as counted:
            try:
                answer: Any = media_ref(uow.session, svc, actor, message_id, audit_view=False)
            except Conflict as refused:
                answer = refused
    return counted.seen, answer


def test_the_recipients_check_is_one_statement_and_refuses_once_returned_at_their_request(
        svc: Services, video: tuple[World, Any, str, str]) -> None:
    world, p, _, message_id = video
    world.do(review.claim, p.facilitator, message_id)
    world.do(review.approve, p.facilitator, message_id)
    world.do(delivery.open_message, p.responsible, message_id)
    recipient = _actor(world, p.responsible)
    seen, ref = _check(svc, recipient, message_id)
    assert len(seen) == 1, seen
    assert ref.size == len(PLAY)
    declined = world.do(requests.request, p.responsible, message_id, "return", "")
    world.do(requests.handle, p.facilitator, declined.id, "declined", "Let us talk first.")
    asked = world.do(requests.request, p.responsible, message_id, "return", "")
    assert _check(svc, recipient, message_id)[1].size == len(PLAY)  # asked, declined before: still theirs
    world.do(requests.handle, p.facilitator, asked.id, "done", "")
    seen, refused = _check(svc, recipient, message_id)
    assert len(seen) == 1, seen
    assert isinstance(refused, Conflict) and refused.code == "closed_by_request"
    assert "returned" in str(refused)
    assert _check(svc, _actor(world, p.facilitator), message_id)[1].size == len(PLAY)  # staff still see it
