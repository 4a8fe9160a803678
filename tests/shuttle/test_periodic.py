"""The periodic tick (issue 14, no stalls): it works on what is due now, found by index, in small
batches each in its own transaction; its cost does not grow with all messages."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import pytest
from sqlalchemy import event, select
from world import World

from shuttle.cases import service as cases
from shuttle.messages import authoring, review
from shuttle.messages.models import Message
from shuttle.services import Services
from workers import handlers


@contextmanager
def statements(svc: Services) -> Iterator[list[str]]:
    seen: list[str] = []

    def count(conn, cursor, statement, *args):  # type: ignore[no-untyped-def]
        seen.append(statement)

    event.listen(svc.db.engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(svc.db.engine, "before_cursor_execute", count)


def _approved(world: World, p, case_id: str, at=None) -> str:  # type: ignore[no-untyped-def]
    draft = world.do(authoring.start_draft, p.harmed, case_id, "Dear Sam, I am sorry.")
    world.do(authoring.submit, p.harmed, draft.id)
    world.run_jobs()
    if at is not None:
        world.do(review.schedule_release, p.facilitator, draft.id, at)
    world.do(review.claim, p.facilitator, draft.id)
    world.do(review.approve, p.facilitator, draft.id)
    return str(draft.id)


def _states(world: World) -> dict[str, str]:
    with world.svc.db.uow() as uow:
        return {m.id: m.state for m in uow.session.scalars(select(Message))}



def test_scheduled_releases_go_in_batches_and_a_blocked_one_never_starves_the_rest(
        world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    soon = world.svc.now() + timedelta(minutes=5)
    held_case, p = world.case()
    blocked = [_approved(world, p, held_case, soon) for _ in range(3)]
    world.do(cases.set_holding, p.responsible, held_case, True)  # Sam is not ready
    open_case, q = world.case()
    waiting = [_approved(world, q, open_case, soon) for _ in range(3)]
    assert set(_states(world).values()) == {"approved"}

    monkeypatch.setattr(handlers, "BATCH", 2)
    world.svc.now = lambda: soon + timedelta(seconds=1)  # type: ignore[method-assign]
    handlers.tick(world.svc)
    states = _states(world)
    assert [states[m] for m in waiting] == ["released"] * 3  # past the blocked ones, batch after batch
    assert [states[m] for m in blocked] == ["approved"] * 3
    with statements(world.svc) as seen:
        handlers.tick(world.svc)  # nothing is due any more: a query per duty, no per-message work
    assert not [q for q in seen if q.startswith(("UPDATE", "INSERT")) or "WHERE messages.id =" in q], seen
    world.do(cases.set_holding, p.responsible, held_case, False)  # the fact changes: reconciled at once
    assert {_states(world)[m] for m in blocked} == {"released"}


def test_the_ticks_cost_grows_with_what_is_due_not_with_all_messages(world: World) -> None:
    case_id, p = world.case()
    _approved(world, p, case_id, world.svc.now() + timedelta(days=30))  # scheduled far ahead
    with statements(world.svc) as few:
        handlers.tick(world.svc)
    for _ in range(10):
        _approved(world, p, case_id, world.svc.now() + timedelta(days=30))
    with statements(world.svc) as many:
        handlers.tick(world.svc)
    assert len(many) == len(few)
