"""Applies the state machine to stored messages: the only code that writes `Message.state`.

Every transition is checked by `states.next_position`, guarded against stale versions, and
written to the audit log in the same transaction.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from shuttle.audit import log as audit
from shuttle.errors import Conflict
from shuttle.i18n import N_
from shuttle.messages.models import Message
from shuttle.messages.states import (
    WAITING_ON_STAFF,
    Action,
    Context,
    Position,
    State,
    TransitionNotAllowed,
    next_position,
)
from shuttle.services import Actor

NO_FACTS = Context()  # the defaults; a frozen dataclass, so one instance serves every call


def position(message: Message) -> Position:
    held_from = State(message.held_from) if message.held_from else None
    return Position(State(message.state), held_from)


def check_fresh(message: Message, expected_version: int | None) -> None:
    """Optimistic concurrency: acting on what you saw, not on what changed since."""
    if expected_version is not None and expected_version != message.row_version:
        raise Conflict(
            N_("This message has changed since you opened it (someone else acted on it). "
               "Reload to see its current state."),
            code="stale",
        )


def transition(
    session: Session,
    message: Message,
    action: Action,
    actor: Actor,
    *,
    ctx: Context = NO_FACTS,
    expected_version: int | None = None,
    now: datetime,
    details: dict[str, Any] | None = None,
) -> Position:
    check_fresh(message, expected_version)
    before = position(message)
    try:
        after = next_position(before, action, ctx)
    except TransitionNotAllowed as exc:
        raise Conflict(str(exc), code="transition_not_allowed") from None
    message.state = after.state.value
    message.held_from = after.held_from.value if after.held_from else None
    message.updated_at = now
    if after.state in WAITING_ON_STAFF and before.state not in WAITING_ON_STAFF:
        message.waiting_since = now  # the review deadline starts again (not on claim, give back, 1st of 2)
    audit.record(
        session,
        action=f"message.{action.value}",
        actor_id=actor.account_id,
        actor_role=actor.role,
        case_id=message.case_id,
        subject_type="message",
        subject_id=message.id,
        details={"from": _label(before), "to": _label(after), **(details or {})},
        now=now,
    )
    session.flush()
    return after


def _label(pos: Position) -> str:
    return f"held({pos.held_from.value})" if pos.held_from else pos.state.value
