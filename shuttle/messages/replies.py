"""Replies (issue 12): a message started from the one it answers.

A reply answers a message of the same case that was delivered to the replier's side and opened
by it. Anything else (a message of the replier's own side, one not yet delivered or not yet
opened, one of another case, one the replier may not see) is refused exactly like a missing id:
a 404, so a reply reveals nothing about messages its author has not received.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from shuttle import permissions
from shuttle.access import load_message
from shuttle.cases.models import Case
from shuttle.errors import NotFound
from shuttle.i18n import N_
from shuttle.messages import authoring
from shuttle.messages.models import Message
from shuttle.messages.states import State
from shuttle.permissions import Membership
from shuttle.services import Actor, Services


def may_answer(member: Membership, message: Message) -> bool:
    """Whether `member` may reply to `message`: delivered to their side, opened by it, and they write."""
    return (member.is_participant and permissions.may_write(member)
            and not permissions.is_author_side(member, message.author_side)
            and message.state == State.VIEWED)


def answerable(session: Session, actor: Actor, message_id: str) -> tuple[Message, Case, Membership]:
    """The message the actor may reply to, with its case and their membership; NotFound otherwise."""
    message, case, member = load_message(session, actor, message_id)
    if not may_answer(member, message):
        raise NotFound()
    return message, case, member


#: Why a reply is refused: one sentence for every reason (missing, not delivered to me, not opened,
#: my own side's, another case's), so it says what can be answered and reveals nothing more.
NOT_ANSWERABLE = N_("There is no message you can reply to with that id: you can reply only to a message "
                    "delivered to you and opened.")


def _in_case(session: Session, actor: Actor, case_id: str, answered_id: str) -> Message:
    try:
        answered, case, _ = answerable(session, actor, answered_id)
    except NotFound:
        raise NotFound(NOT_ANSWERABLE) from None
    if case.id != case_id:
        raise NotFound(NOT_ANSWERABLE)
    return answered


def start_reply(session: Session, svc: Services, actor: Actor, case_id: str, answered_id: str,
                text: str) -> Message:
    """A letter answering `answered_id` (`authoring.start_draft`, then linked to what it answers)."""
    answered = _in_case(session, actor, case_id, answered_id)
    message = authoring.start_draft(session, svc, actor, case_id, text)
    message.in_reply_to_id = answered.id
    session.flush()
    return message


def start_media_reply(session: Session, svc: Services, actor: Actor, case_id: str, answered_id: str,
                      kind: str) -> Message:
    """A recording or photographed letter answering `answered_id` (`authoring.start_media`)."""
    answered = _in_case(session, actor, case_id, answered_id)
    message = authoring.start_media(session, svc, actor, case_id, kind)
    message.in_reply_to_id = answered.id
    session.flush()
    return message
