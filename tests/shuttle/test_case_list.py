"""The actor's list of cases (/api/v1/me, /api/v1/cases) in one statement, the same cases and
memberships as `access.cases_of` gives."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from world import World

from shuttle.access import cases_of
from shuttle.messages.queries import my_cases
from shuttle.services import Actor, Services


def _expected(svc: Services, actor: Actor) -> list[dict[str, Any]]:
    with svc.db.uow() as uow:
        result = []
        for case, member in cases_of(uow.session, actor):
            entry: dict[str, Any] = {"id": case.id, "reference": case.reference, "status": case.status,
                                     "role": member.kind}
            if member.is_participant:
                entry.update({"side": member.side, "participant_role": member.participant_role,
                              "my_label": case.label_of(member.side or ""),
                              "other_label": case.label_of("responsible" if member.side == "harmed" else "harmed")})
            result.append(entry)
        return result


def test_my_cases_is_one_statement_and_matches_cases_of(svc: Services) -> None:
    world = World(svc)
    _, p = world.case()
    world.case(people=p)  # the same people in a second case
    seen: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        seen.append(statement)

    for person in (p.facilitator, p.harmed, p.responsible):
        actor = Actor(person.account_id, person.role)
        expected = _expected(svc, actor)
        assert len(expected) == 2
        with svc.db.uow() as uow:
            uow.session.connection()
            event.listen(svc.db.engine, "before_cursor_execute", count)
            try:
                got = my_cases(uow.session, actor)
            finally:
                event.remove(svc.db.engine, "before_cursor_execute", count)
        assert got == expected
        assert len(seen) == 1, seen
        seen.clear()
    assert my_cases_for_nobody(svc) == []


def my_cases_for_nobody(svc: Services) -> list[dict[str, Any]]:
    with svc.db.uow() as uow:
        return my_cases(uow.session, Actor(None, "participant")) + my_cases(uow.session, Actor("x" * 32, "coordinator"))
