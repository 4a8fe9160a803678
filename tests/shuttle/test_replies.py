"""Replies (issue 12): a message answers one delivered to its author's side and opened by it, in
the same case; anything else is refused like a missing id. On SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from world import World

from shuttle.errors import NotFound
from shuttle.messages import authoring, delivery, replies
from shuttle.messages.models import Message


def test_a_reply_answers_the_opened_message_it_was_started_from(world: World) -> None:
    case_id, p = world.case()
    letter = world.approved_letter(p, case_id)
    world.do(delivery.open_message, p.responsible, letter)
    reply = world.do(replies.start_reply, p.responsible, case_id, letter, "Dear Jessica, thank you.")
    assert world.in_reply_to(reply.id) == letter
    recording = world.do(replies.start_media_reply, p.responsible, case_id, letter, "audio")
    assert world.in_reply_to(recording.id) == letter
    plain = world.do(authoring.start_draft, p.responsible, case_id, "Dear Jessica,")
    assert world.in_reply_to(plain.id) is None


def test_only_a_message_delivered_to_my_side_and_opened_can_be_answered(world: World) -> None:
    case_id, p = world.case()
    other_case, q = world.case(people=p)
    unopened = world.approved_letter(p, case_id)
    mine = world.do(authoring.start_draft, p.responsible, case_id, "Dear Jessica,")
    draft_of_theirs = world.do(authoring.start_draft, p.harmed, case_id, "Dear Sam,")
    elsewhere = world.approved_letter(q, other_case)
    world.do(delivery.open_message, p.responsible, elsewhere)
    refused = [
        (p.responsible, case_id, unopened),  # delivered, not opened yet
        (p.responsible, case_id, mine.id),  # my own side's
        (p.responsible, case_id, draft_of_theirs.id),  # not sent: I cannot even see it
        (p.responsible, case_id, elsewhere),  # opened, but in another case
        (p.responsible, case_id, "no-such-message"),
        (p.harmed, case_id, unopened),  # the author's side answering its own message
        (p.supporter, case_id, unopened),  # a supporter never writes
        (p.outsider_participant, case_id, unopened),
    ]
    for actor, case, answered in refused:
        with pytest.raises(NotFound):
            world.do(replies.start_reply, actor, case, answered, "Dear reader,")
        with pytest.raises(NotFound):
            world.do(replies.start_media_reply, actor, case, answered, "audio")
    with world.svc.db.uow() as uow:  # nothing was started by any refused reply
        started = uow.session.query(Message).filter(Message.in_reply_to_id.is_not(None)).count()
    assert started == 0
    # Once opened by the responsible side, the same message can be answered.
    world.do(delivery.open_message, p.responsible, unopened)
    reply = world.do(replies.start_reply, p.responsible, case_id, unopened, "Dear Jessica,")
    assert world.in_reply_to(reply.id) == unopened
