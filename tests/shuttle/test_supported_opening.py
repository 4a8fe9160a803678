"""Receiving with support (issue 12): a recipient asks to open a message with their facilitator,
who arranges a time and starts a session; the message opens only inside that session. On SQLite
and PostgreSQL; the test moves the one clock (`svc.now`)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from support import Clock
from world import World

from shuttle import blobs
from shuttle.audit.models import AuditEvent
from shuttle.errors import BadInput, Conflict, NotFound
from shuttle.messages import delivery, review, supported_opening
from shuttle.messages.models import Message
from shuttle.messages.states import State
from shuttle.messages.supported_models import SupportedOpening
from shuttle.services import Services


def _start(svc: Services) -> tuple[World, Clock]:
    clock = Clock(datetime.now(UTC).replace(microsecond=0))
    svc.clock = clock
    return World(svc), clock


def test_the_message_opens_only_inside_the_facilitators_session(svc: Services) -> None:
    world, clock = _start(svc)
    case_id, p = world.case()
    message_id = world.approved_letter(p, case_id, "Dear Sam, this is hard to write.")

    asked = world.do(supported_opening.ask, p.responsible, message_id, "  I would like Fiona with me.  ")
    with pytest.raises(Conflict):  # one waiting request per message
        world.do(supported_opening.ask, p.responsible, message_id, "")
    with pytest.raises(Conflict) as refused:  # not before a session
        world.do(delivery.open_message, p.responsible, message_id)
    assert refused.value.code == "supported_opening"
    assert "opens only during the session" in refused.value.message

    waiting = world.do(supported_opening.waiting_for_case, p.facilitator, case_id)
    assert [(w.id, w.note, w.active, w.arranged_for) for w in waiting] == [
        (asked.id, "I would like Fiona with me.", False, None)]
    assert [w.id for w in world.do(supported_opening.waiting_for_facilitator, p.facilitator)] == [asked.id]

    at = clock.now + timedelta(days=2)
    with pytest.raises(BadInput):  # not in the past
        world.do(supported_opening.arrange, p.facilitator, asked.id, clock.now - timedelta(minutes=1))
    world.do(supported_opening.arrange, p.facilitator, asked.id, at)
    mine = world.do(supported_opening.mine, p.responsible, message_id)
    assert mine is not None and mine["arranged_for"] == at.isoformat() and mine["active"] is False
    assert supported_opening.at_in_words(at) == f"{at:%A} {at.day} {at:%B %Y} at {at:%H:%M} (UTC)"

    clock.now = at
    with pytest.raises(Conflict):  # the arranged time alone does not open it: the session does
        world.do(delivery.open_message, p.responsible, message_id)
    world.do(supported_opening.start_session, p.facilitator, asked.id)
    clock.now = at + supported_opening.SESSION_LENGTH - timedelta(seconds=1)
    assert world.do(delivery.open_message, p.responsible, message_id).startswith("Dear Sam")

    with svc.db.uow() as uow:
        row = uow.session.get(SupportedOpening, asked.id)
        message = uow.session.get(Message, message_id)
        assert row is not None and message is not None
        assert (row.outcome, row.done_at, message.state) == ("opened", clock.now, State.VIEWED)
        assert row.note_blob_id is not None
        stored = uow.session.get(blobs.Blob, row.note_blob_id)
        assert stored is not None and stored.wrapped_key  # the note is an encrypted blob
        events = [(e.action, str(e.details)) for e in uow.session.scalars(
            select(AuditEvent).where(AuditEvent.subject_id == asked.id).order_by(AuditEvent.seq))]
    assert [action for action, _ in events] == ["supported_opening.request", "supported_opening.arrange",
                                          "supported_opening.start_session", "supported_opening.opened"]
    assert all("Fiona" not in details for _, details in events)  # no content in the audit log
    assert world.do(supported_opening.waiting_for_case, p.facilitator, case_id) == []
    with pytest.raises(Conflict):  # done: no more sessions for it
        world.do(supported_opening.start_session, p.facilitator, asked.id)


def test_a_session_ends_after_its_window_or_when_the_facilitator_ends_it(svc: Services) -> None:
    world, clock = _start(svc)
    case_id, p = world.case(two_facilitators=True)
    message_id = world.approved_letter(p, case_id)
    asked = world.do(supported_opening.ask, p.responsible, message_id)

    world.do(supported_opening.start_session, p.facilitator, asked.id)
    clock.now += supported_opening.SESSION_LENGTH
    with pytest.raises(Conflict):  # the window has passed
        world.do(delivery.open_message, p.responsible, message_id)
    with pytest.raises(Conflict):  # nothing left to end
        world.do(supported_opening.end_session, p.co_facilitator, asked.id)

    world.do(supported_opening.start_session, p.co_facilitator, asked.id)  # any facilitator of the case
    clock.now += timedelta(minutes=5)
    world.do(supported_opening.end_session, p.facilitator, asked.id)
    with pytest.raises(Conflict):  # ended by the facilitator
        world.do(delivery.open_message, p.responsible, message_id)


def test_withdrawing_goes_back_to_open_when_i_choose(svc: Services) -> None:
    world, _ = _start(svc)
    case_id, p = world.case()
    message_id = world.approved_letter(p, case_id)
    asked = world.do(supported_opening.ask, p.responsible, message_id)
    with pytest.raises(Conflict):
        world.do(delivery.open_message, p.responsible, message_id)
    world.do(supported_opening.withdraw, p.responsible, message_id)
    assert world.do(supported_opening.mine, p.responsible, message_id) is None
    with pytest.raises(Conflict):  # nothing left to withdraw, or to start
        world.do(supported_opening.withdraw, p.responsible, message_id)
    with pytest.raises(Conflict):
        world.do(supported_opening.start_session, p.facilitator, asked.id)
    assert world.do(delivery.open_message, p.responsible, message_id).startswith("Dear Sam")
    with pytest.raises(Conflict):  # opened: nothing to ask for any more
        world.do(supported_opening.ask, p.responsible, message_id)


def test_a_recall_still_works_and_the_request_waits_for_the_message_to_come_back(svc: Services) -> None:
    world, _ = _start(svc)
    case_id, p = world.case()
    message_id = world.approved_letter(p, case_id)
    asked = world.do(supported_opening.ask, p.responsible, message_id)
    world.do(review.recall, p.facilitator, message_id, reason="Sent before the support session.")
    with pytest.raises(NotFound):  # the recipient sees no trace of a recalled message
        world.do(delivery.open_message, p.responsible, message_id)
    with pytest.raises(Conflict):  # no session for a message that is not waiting to be opened
        world.do(supported_opening.start_session, p.facilitator, asked.id)


def test_only_the_recipient_side_asks_and_only_the_cases_facilitators_arrange(svc: Services) -> None:
    world, clock = _start(svc)
    case_id, p = world.case()
    _, foreign = world.case()
    message_id = world.approved_letter(p, case_id)
    for actor in (p.harmed, p.harmed_proxy, p.supporter, p.facilitator, p.coordinator, foreign.responsible,
                  foreign.facilitator):
        with pytest.raises(NotFound):
            world.do(supported_opening.ask, actor, message_id, "")
    asked = world.do(supported_opening.ask, p.responsible, message_id)
    for actor in (p.harmed, p.harmed_proxy, p.supporter, p.responsible, p.coordinator, foreign.facilitator):
        with pytest.raises(NotFound):
            world.do(supported_opening.arrange, actor, asked.id, clock.now + timedelta(days=1))
        with pytest.raises(NotFound):
            world.do(supported_opening.start_session, actor, asked.id)
        with pytest.raises(NotFound):
            world.do(supported_opening.waiting_for_case, actor, case_id)
    for actor in (p.harmed, p.harmed_proxy, p.supporter, p.facilitator, foreign.responsible):
        with pytest.raises(NotFound):
            world.do(supported_opening.withdraw, actor, message_id)
    assert world.do(supported_opening.waiting_for_facilitator, foreign.facilitator) == []
    with pytest.raises(NotFound):
        world.do(supported_opening.arrange, p.facilitator, "no-such-request", clock.now + timedelta(days=1))


def test_a_proxy_of_the_recipient_side_asks_for_it(svc: Services) -> None:
    world, _ = _start(svc)
    case_id, p = world.case()
    world.approved_letter(p, case_id)  # the harmed side leads
    reply_id = world.approved_letter(p, case_id, "Dear Jessica, thank you.", author=p.responsible)
    asked = world.do(supported_opening.ask, p.harmed_proxy, reply_id)
    with pytest.raises(Conflict):  # the side's principal too waits for the session
        world.do(delivery.open_message, p.harmed, reply_id)
    world.do(supported_opening.start_session, p.facilitator, asked.id)
    assert world.do(delivery.open_message, p.harmed, reply_id).startswith("Dear Jessica")
