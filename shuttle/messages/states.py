"""The message state machine: the one place that says which transition is allowed.

Pure: no I/O. `shuttle.messages.lifecycle` applies it to stored messages and writes the
audit log; routes, the worker and the CLI all go through there (DESIGN.md section 3).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache


def N_(message: str) -> str:  # noqa: N802 (gettext's own name: Babel extracts N_("...") into staff.po)
    """As shuttle.i18n.N_: marks a word for the catalogue. Here so this pure module imports nothing of
    shuttle's (shuttle.i18n's extractor of the author's words imports it)."""
    return message


class State(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    PROCESSING = "processing"
    PROCESSING_FAILED = "processing_failed"
    AWAITING_REVIEW = "awaiting_review"
    IN_REVIEW = "in_review"
    CHANGES_REQUESTED = "changes_requested"
    AWAITING_AUTHOR = "awaiting_author"
    REJECTED = "rejected"
    APPROVED = "approved"
    RELEASED = "released"
    VIEWED = "viewed"
    WITHDRAWN = "withdrawn"
    HELD = "held"


class Action(StrEnum):
    SUBMIT = "submit"
    START_PROCESSING = "start_processing"
    PROCESSED = "processed"
    PROCESSING_FAILED = "processing_failed"
    REFUSE = "refuse"  # the worker refused the content itself (not a file it can use): back to the author
    RETRY_PROCESSING = "retry_processing"
    CLAIM = "claim"
    UNCLAIM = "unclaim"
    REQUEST_CHANGES = "request_changes"
    PROPOSE_EDIT = "propose_edit"
    ACCEPT_EDIT = "accept_edit"
    DECLINE_EDIT = "decline_edit"
    REJECT = "reject"
    APPROVE = "approve"
    RELEASE = "release"
    OPEN = "open"
    WITHDRAW = "withdraw"
    HOLD = "hold"
    LIFT_HOLD = "lift_hold"
    RECALL = "recall"  # a facilitator calls a released, unopened message back to review
    RECOUNT = "recount"  # the case's approvals rule changed: move to where the approvals now put it


#: States after which nothing can change any more.
FINAL = frozenset({State.REJECTED, State.VIEWED, State.WITHDRAWN})
#: The recipient may learn a message exists only in these states.
DELIVERED = frozenset({State.RELEASED, State.VIEWED})
#: Pending states a pause or a consent withdrawal freezes. Drafts stay editable.
HOLDABLE = frozenset(
    {
        State.SUBMITTED,
        State.PROCESSING,
        State.PROCESSING_FAILED,
        State.AWAITING_REVIEW,
        State.IN_REVIEW,
        State.CHANGES_REQUESTED,
        State.AWAITING_AUTHOR,
        State.APPROVED,
    }
)
#: The author may withdraw any message not yet released.
WITHDRAWABLE = HOLDABLE | {State.DRAFT, State.HELD}
#: Events from the worker, and a recount of approvals: while a message is held they update
#: where it will return to.
WORKER_ACTIONS = frozenset({Action.START_PROCESSING, Action.PROCESSED, Action.PROCESSING_FAILED, Action.REFUSE})
BACKGROUND_ACTIONS = WORKER_ACTIONS | {Action.RECOUNT}
#: Waiting on a facilitator's decision about the current version.
IN_REVIEW_STATES = frozenset({State.AWAITING_REVIEW, State.IN_REVIEW})
#: Waiting on its facilitators: the review deadline runs (a failed processing needs them too).
WAITING_ON_STAFF = IN_REVIEW_STATES | {State.PROCESSING_FAILED}
#: The author may change the draft (words, upload) only in these states.
EDITABLE = frozenset({State.DRAFT, State.CHANGES_REQUESTED})
#: Sent and on its way to review: the worker is preparing the current version.
PREPARING = frozenset({State.SUBMITTED, State.PROCESSING})


class TransitionNotAllowed(Exception):
    def __init__(self, state: State, action: Action, why: str = "") -> None:
        self.state, self.action = state, action
        text = why or f"'{action.value}' is not possible while the message is {describe(state)}"
        super().__init__(text)


@dataclass(frozen=True)
class Context:
    """Facts a transition depends on, gathered by the caller.

    `version_origin` is who made the version being processed ('author' or 'facilitator');
    `approvals` counts distinct facilitators approving the current version, this one included.
    """

    version_origin: str = "author"
    author_must_accept: bool = True
    approvals: int = 0
    approvals_required: int = 1


_SIMPLE: dict[tuple[State, Action], State] = {
    (State.DRAFT, Action.SUBMIT): State.SUBMITTED,
    (State.CHANGES_REQUESTED, Action.SUBMIT): State.SUBMITTED,
    (State.SUBMITTED, Action.START_PROCESSING): State.PROCESSING,
    (State.PROCESSING, Action.START_PROCESSING): State.PROCESSING,  # retried after a crash
    (State.SUBMITTED, Action.PROCESSING_FAILED): State.PROCESSING_FAILED,
    (State.PROCESSING, Action.PROCESSING_FAILED): State.PROCESSING_FAILED,
    (State.PROCESSING_FAILED, Action.RETRY_PROCESSING): State.SUBMITTED,
    (State.SUBMITTED, Action.REFUSE): State.CHANGES_REQUESTED,
    (State.PROCESSING, Action.REFUSE): State.CHANGES_REQUESTED,
    (State.AWAITING_REVIEW, Action.CLAIM): State.IN_REVIEW,
    (State.IN_REVIEW, Action.CLAIM): State.IN_REVIEW,  # taking over a claim
    (State.IN_REVIEW, Action.UNCLAIM): State.AWAITING_REVIEW,
    (State.IN_REVIEW, Action.REQUEST_CHANGES): State.CHANGES_REQUESTED,
    (State.IN_REVIEW, Action.PROPOSE_EDIT): State.SUBMITTED,  # the edit is processed too
    (State.AWAITING_AUTHOR, Action.ACCEPT_EDIT): State.IN_REVIEW,
    (State.AWAITING_AUTHOR, Action.DECLINE_EDIT): State.CHANGES_REQUESTED,
    (State.IN_REVIEW, Action.REJECT): State.REJECTED,
    (State.APPROVED, Action.RELEASE): State.RELEASED,
    (State.RELEASED, Action.OPEN): State.VIEWED,
    (State.RELEASED, Action.RECALL): State.IN_REVIEW,  # only before it is opened: VIEWED cannot be recalled
}


def _processed(ctx: Context) -> State:
    if ctx.version_origin == "facilitator":
        return State.AWAITING_AUTHOR if ctx.author_must_accept else State.IN_REVIEW
    return State.AWAITING_REVIEW


def _approve(ctx: Context) -> State:
    if ctx.approvals >= ctx.approvals_required:
        return State.APPROVED
    return State.AWAITING_REVIEW  # back to the queue for a second, different facilitator


def _recount(state: State, ctx: Context) -> State:
    """After the number of approvals a case needs changed (or approvals were revoked).

    An approved message short of approvals goes back to the queue for another facilitator; a
    message in review that already has enough approvals is approved. Anything else is
    unchanged, which is not a transition.
    """
    if state is State.APPROVED and ctx.approvals < ctx.approvals_required:
        return State.AWAITING_REVIEW
    if state in IN_REVIEW_STATES and 0 < ctx.approvals_required <= ctx.approvals:
        return State.APPROVED
    raise TransitionNotAllowed(state, Action.RECOUNT, "the approvals already match the case's rule")


def _step(state: State, action: Action, ctx: Context) -> State:
    if action is Action.RECOUNT:
        return _recount(state, ctx)
    if action is Action.WITHDRAW:
        if state in WITHDRAWABLE:
            return State.WITHDRAWN
        raise TransitionNotAllowed(state, action, "a message can only be withdrawn before it is delivered")
    if action is Action.HOLD and state in HOLDABLE:
        return State.HELD
    if state is State.PROCESSING and action is Action.PROCESSED:
        return _processed(ctx)
    if state is State.IN_REVIEW and action is Action.APPROVE:
        return _approve(ctx)
    try:
        return _SIMPLE[(state, action)]
    except KeyError:
        raise TransitionNotAllowed(state, action) from None


@dataclass(frozen=True)
class Position:
    """Where a message is: its state, and for a held message where it returns to."""

    state: State
    held_from: State | None = None


def next_position(pos: Position, action: Action, ctx: Context = Context()) -> Position:
    """The position after `action`, or TransitionNotAllowed.

    A held message only leaves `held` by lifting the hold or by withdrawal; the worker may
    still finish processing it meanwhile, which moves where it will return to.
    """
    if pos.state is State.HELD:
        assert pos.held_from is not None
        if action is Action.LIFT_HOLD:
            return Position(pos.held_from)
        if action is Action.WITHDRAW:
            return Position(State.WITHDRAWN)
        if action is Action.HOLD:
            return pos
        if action in BACKGROUND_ACTIONS:
            return Position(State.HELD, _step(pos.held_from, action, ctx))
        raise TransitionNotAllowed(pos.state, action,
                                   "the message is on hold while the case is paused or consent is withdrawn")
    new_state = _step(pos.state, action, ctx)
    return Position(new_state, pos.state if new_state is State.HELD else None)


@lru_cache(maxsize=1024)
def allowed_actions(pos: Position, ctx: Context = Context()) -> frozenset[Action]:
    """Every action the state allows now (pages show only these buttons).

    Pure, so remembered per (position, context), the last 1,024: a handful of distinct keys in practice (a
    position is a state and where it is held from; the context a few small numbers), and a page
    listing fifty messages walks the machine once per distinct one, not once per message."""
    allowed = set()
    for action in Action:
        try:
            next_position(pos, action, ctx)
        except TransitionNotAllowed:
            continue
        allowed.add(action)
    return frozenset(allowed)


_WORDS = {
    State.DRAFT: N_("a draft"),
    State.SUBMITTED: N_("sent to your facilitator"),
    State.PROCESSING: N_("being prepared"),
    State.PROCESSING_FAILED: N_("stuck in preparation"),
    State.AWAITING_REVIEW: N_("waiting for a facilitator"),
    State.IN_REVIEW: N_("with a facilitator"),
    State.CHANGES_REQUESTED: N_("back with the author for changes"),
    State.AWAITING_AUTHOR: N_("waiting for the author to look at suggested changes"),
    State.REJECTED: N_("not passed on"),
    State.APPROVED: N_("approved, waiting to be delivered"),
    State.RELEASED: N_("delivered, not yet opened"),
    State.VIEWED: N_("delivered and opened"),
    State.WITHDRAWN: N_("withdrawn"),
    State.HELD: N_("on hold"),
}


def describe(state: State) -> str:
    """A state in a facilitator's words, marked for staff.po (babel-staff.cfg) and translated where a page
    shows it (`| translated`); the author's words are AUTHOR_WORDS."""
    return _WORDS[state]


#: The author's own message in their words: (short status, what it means for them).
AUTHOR_WORDS: dict[State, tuple[str, str]] = {
    State.DRAFT: ("Draft", "This is a draft. Only you can see it until you send it to your facilitator."),
    State.SUBMITTED: ("With your facilitator",
                      "It has been sent to your facilitator and is being prepared for them."),
    State.PROCESSING: ("With your facilitator",
                       "It has been sent to your facilitator and is being prepared for them."),
    State.PROCESSING_FAILED: ("With your facilitator",
                              "There was a problem preparing it. Your facilitator knows and will sort it out."),
    State.AWAITING_REVIEW: ("With your facilitator",
                            "It has been sent to your facilitator, who will read it and get back to you."),
    State.IN_REVIEW: ("With your facilitator", "Your facilitator is reading it."),
    State.CHANGES_REQUESTED: ("Your facilitator asked for changes",
                              "Your facilitator asked you to change something. See what they said below."),
    State.AWAITING_AUTHOR: ("Your facilitator suggested changes — see them",
                            "Your facilitator suggested some changes. Look at them below and say if you agree."),
    State.REJECTED: ("Not passed on", "Your facilitator decided not to pass this on."),
    State.APPROVED: ("Approved, waiting to be delivered",
                     "Your facilitator approved it. It will be delivered when the time is right."),
    State.RELEASED: ("Delivered", "It has been delivered. They can open it when they choose to."),
    State.VIEWED: ("Delivered and opened", "It has been delivered, and they have opened it."),
    State.WITHDRAWN: ("Withdrawn", "You withdrew it. It will not be passed on."),
    State.HELD: ("On hold", "Everything is on hold for now. Your facilitator will tell you more."),
}
#: A released message called back to review, in the author's words (not a state of its own).
AUTHOR_WORDS_RECALLED = ("Called back by your facilitator",
                         "Your facilitator called this message back before it was opened, to look at it again. "
                         "It is with them now.")
#: Where each state sits on the author's timeline: written, with facilitator, approved, delivered,
#: opened. Rejected, withdrawn and held messages are off it (held ones sit where they were held).
AUTHOR_STEP: dict[State, int] = {
    State.DRAFT: 0, State.SUBMITTED: 1, State.PROCESSING: 1, State.PROCESSING_FAILED: 1, State.AWAITING_REVIEW: 1,
    State.IN_REVIEW: 1, State.CHANGES_REQUESTED: 1, State.AWAITING_AUTHOR: 1, State.APPROVED: 2,
    State.RELEASED: 3, State.VIEWED: 4,
}
#: Each group by the name templates use for it (`m.state in PREPARING`, `m.state == State.VIEWED`).
TEMPLATE_NAMES = {"State": State, "DELIVERED": DELIVERED, "FINAL": FINAL, "EDITABLE": EDITABLE,
                  "PREPARING": PREPARING, "IN_REVIEW_STATES": IN_REVIEW_STATES, "WAITING_ON_STAFF": WAITING_ON_STAFF}
