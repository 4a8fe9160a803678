"""The case state machine: the one place that says how a case moves through its life.

Pure: no I/O. `shuttle.cases.service.set_status` applies it to a stored case and writes the
audit log (DESIGN.md section 3b). The exchange is possible only while a case is open;
paused, closing and closed hold everything pending; only a pause also stops what was already
delivered from being opened or read (after closure people keep what was delivered to them).

    preparation --open--> open --pause--> paused --resume--> open
    preparation / open / paused --close (with a ClosureReason)--> closing --finish--> closed
"""

from __future__ import annotations

from enum import StrEnum

from shuttle.i18n import N_


class Status(StrEnum):
    PREPARATION = "preparation"
    OPEN = "open"
    PAUSED = "paused"
    CLOSING = "closing"
    CLOSED = "closed"


class Action(StrEnum):
    OPEN = "open"
    PAUSE = "pause"
    RESUME = "resume"
    CLOSE = "close"  # -> closing: the outcome agreement, aftercare and feedback; everything pending is held
    FINISH = "finish"  # closing -> closed


#: Statuses in which pending messages are frozen (invariant 4).
HOLDING = frozenset({Status.PAUSED, Status.CLOSING, Status.CLOSED})
#: The only status in which anything may be sent or released.
EXCHANGE = Status.OPEN
#: Statuses in which what was already delivered may not be opened or read: a pause stops even that at
#: once; closing and closed do not (issue 11: people keep what was delivered to them until retention ends).
READING_STOPPED = frozenset({Status.PAUSED})


class TransitionNotAllowed(Exception):
    def __init__(self, status: Status, action: Action, why: str = "") -> None:
        self.status, self.action = status, action
        text = why or f"A case that is {describe(status)} cannot be {_DONE[action]}."
        super().__init__(text)


_MOVES: dict[tuple[Status, Action], Status] = {
    (Status.PREPARATION, Action.OPEN): Status.OPEN,
    (Status.OPEN, Action.PAUSE): Status.PAUSED,
    (Status.PAUSED, Action.RESUME): Status.OPEN,
    (Status.PREPARATION, Action.CLOSE): Status.CLOSING,
    (Status.OPEN, Action.CLOSE): Status.CLOSING,
    (Status.PAUSED, Action.CLOSE): Status.CLOSING,
    (Status.CLOSING, Action.FINISH): Status.CLOSED,
}

_DONE = {
    Action.OPEN: "opened for the exchange",
    Action.PAUSE: "paused",
    Action.RESUME: "resumed",
    Action.CLOSE: "closed",
    Action.FINISH: "finished",
}


def next_status(status: Status, action: Action) -> Status:
    """The status after `action`, or TransitionNotAllowed with a sentence."""
    try:
        return _MOVES[(status, action)]
    except KeyError:
        raise TransitionNotAllowed(status, action) from None


def allowed_actions(status: Status) -> tuple[Action, ...]:
    """The actions a case page may offer now, in a stable order."""
    return tuple(action for action in Action if (status, action) in _MOVES)


def action_to(status: Status, target: Status) -> Action:
    """The action that takes a case from `status` to `target` (pages and the API name targets)."""
    for action in Action:
        if _MOVES.get((status, action)) is target:
            return action
    raise TransitionNotAllowed(status, Action.OPEN,
                               f"A case that is {describe(status)} cannot become {describe(target)}.")


class ClosureReason(StrEnum):
    """Why a case closes: given with the close step (preparation / open / paused -> closing)."""

    COMPLETED = "completed"
    WITHDRAWN_HARMED = "withdrawn_harmed"
    WITHDRAWN_RESPONSIBLE = "withdrawn_responsible"
    NOT_SUITABLE = "not_suitable"
    NOT_CONTACTED = "not_contacted"


CLOSURE_WORDS = {
    ClosureReason.COMPLETED: N_("completed"),
    ClosureReason.WITHDRAWN_HARMED: N_("withdrawn by the person harmed's side"),
    ClosureReason.WITHDRAWN_RESPONSIBLE: N_("withdrawn by the person responsible's side"),
    ClosureReason.NOT_SUITABLE: N_("not suitable"),
    ClosureReason.NOT_CONTACTED: N_("could not be contacted"),
}


def closure_reason(action: Action, raw: str | None) -> ClosureReason:
    """The close step needs one of the closure reasons; no other step takes one."""
    if action is not Action.CLOSE:
        raise TransitionNotAllowed(Status.CLOSING, action, "Only closing a case takes a closure reason.")
    try:
        return ClosureReason(raw or "")
    except ValueError:
        raise TransitionNotAllowed(Status.CLOSING, action, "Say why the case closes: completed, withdrawn by "
                                   "either side, not suitable, or could not be contacted.") from None


def holds_everything(status: Status) -> bool:
    """Whether pending messages of a case in this status must be held."""
    return status in HOLDING


def reading_possible(status: Status) -> bool:
    """Whether a recipient may open or read, watch, listen to what was delivered to them."""
    return status not in READING_STOPPED


def exchange_possible(status: Status) -> bool:
    return status is EXCHANGE


def writing_possible(status: Status) -> bool:
    """Whether anything new may be written into the case (a draft started or saved, an upload begun).
    Until it is closed, yes: a draft waits out a pause or a closing. Once closed, no: nothing written
    then could ever be sent, and nothing would destroy it with the case."""
    return status is not Status.CLOSED


_WORDS = {
    Status.PREPARATION: N_("in preparation"),
    Status.OPEN: N_("open"),
    Status.PAUSED: N_("paused"),
    Status.CLOSING: N_("closing"),
    Status.CLOSED: N_("closed"),
}


def describe(status: Status) -> str:
    """A status in words, marked for staff.po (babel-staff.cfg); translated where a page shows it."""
    return _WORDS[status]
