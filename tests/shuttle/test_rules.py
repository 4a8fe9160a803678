"""The pure rules, as tables, without a database: the message state machine (every state and
action), the release gates (every blocker) and the permissions (every membership kind).

The tables are written out by hand, not derived from the code: adding a state, an action, a
gate or a permission fails here until the table says what it should do.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from shuttle import permissions as perm
from shuttle.messages.gates import PersonGate, ReleaseFacts, hold_reasons, release_blockers
from shuttle.messages.states import (
    Action,
    Context,
    Position,
    State,
    TransitionNotAllowed,
    allowed_actions,
    describe,
    next_position,
)

S, A = State, Action
PENDING_ACTIONS = {A.WITHDRAW: S.WITHDRAWN, A.HOLD: S.HELD}

# --- the state machine ---------------------------------------------------------------------------

#: With the default Context (an author's version, one approval needed, none given yet): every
#: action each state allows and where it leads. Every pair not listed is refused.
NEXT: dict[State, dict[Action, State]] = {
    S.DRAFT: {A.SUBMIT: S.SUBMITTED, A.WITHDRAW: S.WITHDRAWN},
    S.SUBMITTED: {A.START_PROCESSING: S.PROCESSING, A.PROCESSING_FAILED: S.PROCESSING_FAILED,
                  A.REFUSE: S.CHANGES_REQUESTED, **PENDING_ACTIONS},
    S.PROCESSING: {A.START_PROCESSING: S.PROCESSING, A.PROCESSED: S.AWAITING_REVIEW,
                   A.PROCESSING_FAILED: S.PROCESSING_FAILED, A.REFUSE: S.CHANGES_REQUESTED, **PENDING_ACTIONS},
    S.PROCESSING_FAILED: {A.RETRY_PROCESSING: S.SUBMITTED, **PENDING_ACTIONS},
    S.AWAITING_REVIEW: {A.CLAIM: S.IN_REVIEW, **PENDING_ACTIONS},
    S.IN_REVIEW: {A.CLAIM: S.IN_REVIEW, A.UNCLAIM: S.AWAITING_REVIEW, A.REQUEST_CHANGES: S.CHANGES_REQUESTED,
                  A.PROPOSE_EDIT: S.SUBMITTED, A.REJECT: S.REJECTED, A.APPROVE: S.AWAITING_REVIEW,
                  **PENDING_ACTIONS},
    S.CHANGES_REQUESTED: {A.SUBMIT: S.SUBMITTED, **PENDING_ACTIONS},
    S.AWAITING_AUTHOR: {A.ACCEPT_EDIT: S.IN_REVIEW, A.DECLINE_EDIT: S.CHANGES_REQUESTED, **PENDING_ACTIONS},
    S.REJECTED: {},
    S.APPROVED: {A.RELEASE: S.RELEASED, A.RECOUNT: S.AWAITING_REVIEW, **PENDING_ACTIONS},
    S.RELEASED: {A.OPEN: S.VIEWED, A.RECALL: S.IN_REVIEW},
    S.VIEWED: {},
    S.WITHDRAWN: {},
}
UNHELD = [state for state in State if state is not S.HELD]


def test_the_table_names_every_state_but_held_which_has_its_own() -> None:
    assert set(NEXT) == set(UNHELD)


@pytest.mark.parametrize("action", list(Action), ids=str)
@pytest.mark.parametrize("state", UNHELD, ids=str)
def test_every_state_and_action(state: State, action: Action) -> None:
    expected = NEXT[state].get(action)
    if expected is None:
        with pytest.raises(TransitionNotAllowed) as refused:
            next_position(Position(state), action)
        assert (refused.value.state, refused.value.action) == (state, action)
        assert str(refused.value)
        return
    after = next_position(Position(state), action)
    assert after.state is expected
    assert after.held_from == (state if expected is S.HELD else None)


@pytest.mark.parametrize("state", UNHELD, ids=str)
def test_allowed_actions_are_the_tables_row(state: State) -> None:
    assert allowed_actions(Position(state)) == frozenset(NEXT[state])


#: On hold (from each state a hold can come from): where the message goes for each action the
#: hold lets through; the worker's events and a recount move where it will return to.
HELD_FROM: dict[State, dict[Action, Position]] = {
    held_from: {
        A.LIFT_HOLD: Position(held_from),
        A.WITHDRAW: Position(S.WITHDRAWN),
        A.HOLD: Position(S.HELD, held_from),
        **{action: Position(S.HELD, NEXT[held_from][action])
           for action in (A.START_PROCESSING, A.PROCESSED, A.PROCESSING_FAILED, A.REFUSE, A.RECOUNT)
           if action in NEXT[held_from]},
    }
    for held_from in (S.SUBMITTED, S.PROCESSING, S.PROCESSING_FAILED, S.AWAITING_REVIEW, S.IN_REVIEW,
                      S.CHANGES_REQUESTED, S.AWAITING_AUTHOR, S.APPROVED)
}


def test_a_hold_comes_from_exactly_the_pending_states() -> None:
    assert {state for state in UNHELD if A.HOLD in NEXT[state]} == set(HELD_FROM)


@pytest.mark.parametrize("action", list(Action), ids=str)
@pytest.mark.parametrize("held_from", list(HELD_FROM), ids=str)
def test_every_action_on_a_held_message(held_from: State, action: Action) -> None:
    held = Position(S.HELD, held_from)
    expected = HELD_FROM[held_from].get(action)
    if expected is None:
        with pytest.raises(TransitionNotAllowed):
            next_position(held, action)
        return
    assert next_position(held, action) == expected


def test_held_examples_spelled_out() -> None:
    """Two rows of the held table, written without the table's help."""
    assert next_position(Position(S.HELD, S.PROCESSING), A.PROCESSED) == Position(S.HELD, S.AWAITING_REVIEW)
    assert next_position(Position(S.HELD, S.APPROVED), A.RECOUNT) == Position(S.HELD, S.AWAITING_REVIEW)
    with pytest.raises(TransitionNotAllowed, match="on hold"):
        next_position(Position(S.HELD, S.IN_REVIEW), A.APPROVE)


#: Processing done: where a version goes depends on who made it and whether the author must accept.
PROCESSED = [
    (Context(version_origin="author", author_must_accept=True), S.AWAITING_REVIEW),
    (Context(version_origin="author", author_must_accept=False), S.AWAITING_REVIEW),
    (Context(version_origin="facilitator", author_must_accept=True), S.AWAITING_AUTHOR),
    (Context(version_origin="facilitator", author_must_accept=False), S.IN_REVIEW),
]


@pytest.mark.parametrize(("ctx", "expected"), PROCESSED)
def test_processed_goes_where_the_versions_maker_says(ctx: Context, expected: State) -> None:
    assert next_position(Position(S.PROCESSING), A.PROCESSED, ctx).state is expected


#: (approvals given, this one included; approvals the case needs) -> after APPROVE in review.
APPROVE = [((1, 1), S.APPROVED), ((1, 2), S.AWAITING_REVIEW), ((2, 2), S.APPROVED), ((3, 2), S.APPROVED)]


@pytest.mark.parametrize(("counts", "expected"), APPROVE)
def test_approve_needs_enough_approvals(counts: tuple[int, int], expected: State) -> None:
    ctx = Context(approvals=counts[0], approvals_required=counts[1])
    assert next_position(Position(S.IN_REVIEW), A.APPROVE, ctx).state is expected


#: (state, approvals, approvals required) -> after RECOUNT, or None for "already matches: refused".
RECOUNT = [
    (S.APPROVED, 1, 1, None), (S.APPROVED, 1, 2, S.AWAITING_REVIEW), (S.APPROVED, 0, 1, S.AWAITING_REVIEW),
    (S.APPROVED, 2, 2, None), (S.APPROVED, 0, 0, None),
    (S.AWAITING_REVIEW, 2, 2, S.APPROVED), (S.AWAITING_REVIEW, 1, 2, None), (S.AWAITING_REVIEW, 1, 1, S.APPROVED),
    (S.AWAITING_REVIEW, 0, 0, None), (S.IN_REVIEW, 1, 1, S.APPROVED), (S.IN_REVIEW, 0, 1, None),
    *((state, 1, 1, None) for state in UNHELD if state not in {S.APPROVED, S.AWAITING_REVIEW, S.IN_REVIEW}),
    *((state, 1, 2, None) for state in UNHELD if state not in {S.APPROVED, S.AWAITING_REVIEW, S.IN_REVIEW}),
]


@pytest.mark.parametrize(("state", "approvals", "required", "expected"), RECOUNT)
def test_recount_moves_only_what_the_new_rule_moves(state: State, approvals: int, required: int,
                                                   expected: State | None) -> None:
    ctx = Context(approvals=approvals, approvals_required=required)
    if expected is None:
        with pytest.raises(TransitionNotAllowed):
            next_position(Position(state), A.RECOUNT, ctx)
    else:
        assert next_position(Position(state), A.RECOUNT, ctx).state is expected


def test_recall_only_before_the_message_is_opened() -> None:
    assert next_position(Position(S.RELEASED), A.RECALL).state is S.IN_REVIEW
    with pytest.raises(TransitionNotAllowed):
        next_position(Position(S.VIEWED), A.RECALL)


def test_withdrawing_a_delivered_message_says_why_not() -> None:
    with pytest.raises(TransitionNotAllowed, match="only be withdrawn before it is delivered"):
        next_position(Position(S.RELEASED), A.WITHDRAW)


@pytest.mark.parametrize("state", list(State), ids=str)
def test_every_state_has_words(state: State) -> None:
    assert describe(state).strip()


# --- the release gates ---------------------------------------------------------------------------

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
JESS = PersonGate(label="Jessica", takes_part=True, receives=True, suitable=True)
SAM = PersonGate(label="Sam", takes_part=True, receives=True, suitable=True)
OPEN_GATES = ReleaseFacts(case_status="open", approvals=1, approvals_required=1, edits_pending_acceptance=False,
                          recipients=(JESS,), author=SAM, scheduled_at=None, now=NOW)


def test_everything_in_order_opens_the_gates() -> None:
    assert release_blockers(OPEN_GATES) == []
    assert hold_reasons("open", SAM, (JESS,)) == []


#: One fact changed from OPEN_GATES -> the blockers it causes, and the hold reasons among them.
GATES: list[tuple[str, ReleaseFacts, list[str], list[str]]] = [
    ("case in preparation", replace(OPEN_GATES, case_status="preparation"),
     ["the case is in preparation, not open"], []),
    ("case paused", replace(OPEN_GATES, case_status="paused"), ["the case is paused"], ["the case is paused"]),
    ("case closing", replace(OPEN_GATES, case_status="closing"), ["the case is closing"], ["the case is closing"]),
    ("case closed", replace(OPEN_GATES, case_status="closed"), ["the case is closed"], ["the case is closed"]),
    ("unknown status", replace(OPEN_GATES, case_status="archived"), ["the case is archived, not open"], []),
    ("proceedings", replace(OPEN_GATES, proceedings_hold=True),
     ["court proceedings are ongoing"], ["court proceedings are ongoing"]),
    ("author left", replace(OPEN_GATES, author=replace(SAM, active=False)),
     ["the author is no longer part of the case"], ["the author is no longer part of the case"]),
    ("author left and withdrew", replace(OPEN_GATES, author=replace(SAM, active=False, takes_part=False)),
     ["the author is no longer part of the case"], ["the author is no longer part of the case"]),
    ("author withdrew consent", replace(OPEN_GATES, author=replace(SAM, takes_part=False)),
     ["Sam withdrew consent to take part"], ["Sam withdrew consent to take part"]),
    ("author not suitable", replace(OPEN_GATES, author=replace(SAM, suitable=False)),
     ["Sam has no current eligible and suitable assessment"], []),
    ("recipient withdrew consent", replace(OPEN_GATES, recipients=(replace(JESS, takes_part=False),)),
     ["Jessica withdrew consent to take part"], ["Jessica withdrew consent to take part"]),
    ("recipient withdrew both consents",
     replace(OPEN_GATES, recipients=(replace(JESS, takes_part=False, receives=False),)),
     ["Jessica withdrew consent to take part"], ["Jessica withdrew consent to take part"]),
    ("recipient does not receive", replace(OPEN_GATES, recipients=(replace(JESS, receives=False),)),
     ["Jessica has no current consent to receive messages"], ["Jessica has no current consent to receive messages"]),
    ("recipient not suitable", replace(OPEN_GATES, recipients=(replace(JESS, suitable=False),)),
     ["Jessica has no current eligible and suitable assessment"], []),
    ("recipient holds deliveries", replace(OPEN_GATES, recipients=(replace(JESS, holding_deliveries=True),)),
     ["Jessica asked to hold deliveries for now"], []),
    ("too few approvals", replace(OPEN_GATES, approvals=1, approvals_required=2), ["1 of 2 approvals"], []),
    ("no approval", replace(OPEN_GATES, approvals=0), ["0 of 1 approvals"], []),
    ("edits pending", replace(OPEN_GATES, edits_pending_acceptance=True),
     ["the author has not accepted the facilitator's changes"], []),
    ("nobody to receive", replace(OPEN_GATES, recipients=()), ["nobody on the other side can receive it"], []),
    ("replies not allowed", replace(OPEN_GATES, reply_allowed=False),
     ["the case does not allow this side to send messages"], []),
    ("scheduled later", replace(OPEN_GATES, scheduled_at=NOW + timedelta(minutes=1)),
     ["scheduled for 2026-03-02 09:01 UTC"], []),
    ("scheduled now", replace(OPEN_GATES, scheduled_at=NOW), [], []),
    ("scheduled earlier", replace(OPEN_GATES, scheduled_at=NOW - timedelta(days=1)), [], []),
    ("extra reason", replace(OPEN_GATES, extra=("a flag is still open",)), ["a flag is still open"], []),
]


@pytest.mark.parametrize(("facts", "blockers", "holds"), [g[1:] for g in GATES], ids=[g[0] for g in GATES])
def test_each_blocker_appears_exactly_when_its_fact_says_so(facts: ReleaseFacts, blockers: list[str],
                                                           holds: list[str]) -> None:
    assert release_blockers(facts) == blockers
    assert hold_reasons(facts.case_status, facts.author, facts.recipients,
                        proceedings_hold=facts.proceedings_hold) == holds


def test_every_recipient_is_named_and_blockers_add_up() -> None:
    facts = replace(OPEN_GATES, approvals=0, recipients=(
        replace(JESS, suitable=False), PersonGate(label="Mum", takes_part=True, receives=False, suitable=True,
                                                  holding_deliveries=True)))
    assert release_blockers(facts) == [
        "Mum has no current consent to receive messages",
        "0 of 1 approvals",
        "Jessica has no current eligible and suitable assessment",
        "Mum asked to hold deliveries for now",
    ]


# --- the permissions ------------------------------------------------------------------------------

#: Every kind of membership of a case where the harmed side writes the message.
M = perm.Membership
KINDS: dict[str, perm.Membership] = {
    "facilitator": M("facilitator"),
    "coordinator": M("coordinator"),
    "none": perm.NO_MEMBERSHIP,
    "author principal": M("participant", side="harmed", participant_role="principal", participant_id="p1"),
    "author proxy": M("participant", side="harmed", participant_role="proxy", participant_id="p2"),
    "author supporter": M("participant", side="harmed", participant_role="supporter", participant_id="p3"),
    "recipient principal": M("participant", side="responsible", participant_role="principal", participant_id="p4"),
    "recipient proxy": M("participant", side="responsible", participant_role="proxy", participant_id="p5"),
    "recipient supporter": M("participant", side="responsible", participant_role="supporter", participant_id="p6"),
}
AUTHOR_SIDE = "harmed"

#: Which kinds each question says yes to (the rest: no). Message questions are asked about a
#: delivered (released) message that has been submitted.
YES: dict[str, set[str]] = {
    "may_see_case": {"facilitator", "author principal", "author proxy", "author supporter", "recipient principal",
                     "recipient proxy", "recipient supporter"},
    "may_manage_case": {"facilitator"},
    "may_write": {"author principal", "author proxy", "recipient principal", "recipient proxy"},
    "is_author_side": {"author principal", "author proxy"},
    "is_recipient_side": {"recipient principal", "recipient proxy"},
    "may_see_message": {"facilitator", "author principal", "author proxy", "recipient principal", "recipient proxy"},
    "may_read_draft": {"author principal", "author proxy"},
    "may_change_message": {"author principal"},  # a message the principal (p1) started
    "may_review": {"facilitator"},
    "may_open": {"recipient principal", "recipient proxy"},
    "may_keep_private_notes": {"facilitator"},
    "may_record_own_conflict": {"facilitator"},
    "may_write_on_behalf": {"facilitator"},
    "may_share_with_supporter": set(),  # released, not yet opened: nothing to share
    "may_see_shared": {"recipient supporter"},
    "may_start_message": {"author principal", "author proxy"},  # the harmed side leads
    "may_see_agreement": {"facilitator", "author principal", "author proxy", "recipient principal", "recipient proxy"},
    "may_draft_agreement": {"facilitator"},
    "may_answer_agreement": {"author principal", "author proxy", "recipient principal", "recipient proxy"},
    # asked for someone who wants to hear how the agreement is kept (without that wish: staff only)
    "may_see_item_statuses": {"facilitator", "author principal", "author proxy", "recipient principal",
                              "recipient proxy"},
    "may_give_feedback": {"author principal", "author proxy", "author supporter", "recipient principal",
                          "recipient proxy", "recipient supporter"},
    "may_export_case": {"facilitator", "coordinator"},
    # issue 12: opening a released message with the facilitator
    "may_ask_supported_opening": {"recipient principal", "recipient proxy"},
    "may_arrange_supported_opening": {"facilitator"},
}

ASK: dict[str, Callable[[perm.Membership], bool]] = {
    "may_see_case": perm.may_see_case,
    "may_manage_case": perm.may_manage_case,
    "may_write": perm.may_write,
    "is_author_side": lambda m: perm.is_author_side(m, AUTHOR_SIDE),
    "is_recipient_side": lambda m: perm.is_recipient_side(m, AUTHOR_SIDE),
    "may_see_message": lambda m: perm.may_see_message(m, author_side=AUTHOR_SIDE, state=S.RELEASED, submitted=True,
                                                      author_participant_id="p1"),
    "may_read_draft": lambda m: perm.may_read_draft(m, author_side=AUTHOR_SIDE),
    "may_change_message": lambda m: perm.may_change_message(m, author_side=AUTHOR_SIDE, author_participant_id="p1"),
    "may_review": perm.may_review,
    "may_open": lambda m: perm.may_open(m, author_side=AUTHOR_SIDE, state=S.RELEASED),
    "may_keep_private_notes": perm.may_keep_private_notes,
    "may_record_own_conflict": perm.may_record_own_conflict,
    "may_write_on_behalf": lambda m: perm.may_write_on_behalf(m, for_role="principal"),
    "may_share_with_supporter": lambda m: perm.may_share_with_supporter(m, author_side=AUTHOR_SIDE, state=S.RELEASED),
    "may_see_shared": lambda m: perm.may_see_shared(m, author_side=AUTHOR_SIDE, state=S.RELEASED, shared=True),
    "may_start_message": lambda m: perm.may_start_message(m, initiator="harmed", responsible_may_reply=True,
                                                          harmed_side_has_sent=False),
    "may_see_agreement": perm.may_see_agreement,
    "may_draft_agreement": perm.may_draft_agreement,
    "may_answer_agreement": perm.may_answer_agreement,
    "may_see_item_statuses": lambda m: perm.may_see_item_statuses(m, wants_outcome_news=True),
    "may_give_feedback": perm.may_give_feedback,
    "may_export_case": perm.may_export_case,
    "may_ask_supported_opening": lambda m: perm.may_ask_supported_opening(m, author_side=AUTHOR_SIDE,
                                                                          state=S.RELEASED),
    "may_arrange_supported_opening": perm.may_arrange_supported_opening,
}


def test_every_permission_function_has_a_row() -> None:
    """A new permission in permissions.py fails here until its row says who may."""
    functions = {name for name in dir(perm) if name.startswith(("may_", "is_")) and callable(getattr(perm, name))}
    assert functions - {"may_approve_as", "may_run_service", "may_see_figures"} == set(YES) == set(ASK)


def test_item_statuses_without_the_wish_to_hear_are_for_staff_only() -> None:
    assert {kind for kind, m in KINDS.items() if perm.may_see_item_statuses(m, wants_outcome_news=False)} \
        == {"facilitator"}


@pytest.mark.parametrize("question", [perm.may_run_service, perm.may_see_figures])
def test_the_service_wide_pages_are_the_coordinators_alone(question: Callable[[str], bool]) -> None:
    assert [role for role in ("coordinator", "facilitator", "participant", "") if question(role)] == ["coordinator"]


@pytest.mark.parametrize("kind", list(KINDS))
@pytest.mark.parametrize("question", list(YES))
def test_every_permission_for_every_membership(question: str, kind: str) -> None:
    assert ASK[question](KINDS[kind]) is (kind in YES[question])


#: Message visibility by state, for the kinds whose answer depends on it (submitted messages).
DELIVERED_STATES = {S.RELEASED, S.VIEWED}


@pytest.mark.parametrize("state", list(State), ids=str)
@pytest.mark.parametrize("kind", list(KINDS))
def test_seeing_and_opening_a_message_in_every_state(kind: str, state: State) -> None:
    m = KINDS[kind]
    author_side = kind in {"author principal", "author proxy"}
    recipient = kind in {"recipient principal", "recipient proxy"}
    assert perm.may_see_message(m, author_side=AUTHOR_SIDE, state=state, submitted=True,
                                author_participant_id="p1") is (
        author_side or kind == "facilitator" or (recipient and state in DELIVERED_STATES))
    assert perm.may_open(m, author_side=AUTHOR_SIDE, state=state) is (recipient and state in DELIVERED_STATES)
    assert perm.may_share_with_supporter(m, author_side=AUTHOR_SIDE, state=state) is (recipient and state is S.VIEWED)
    assert perm.may_ask_supported_opening(m, author_side=AUTHOR_SIDE, state=state) is (
        recipient and state is S.RELEASED)  # opened already: nothing left to open together
    for shared in (True, False):
        assert perm.may_see_shared(m, author_side=AUTHOR_SIDE, state=state, shared=shared) is (
            kind == "recipient supporter" and shared and state in DELIVERED_STATES)


@pytest.mark.parametrize("kind", list(KINDS))
def test_an_unsent_draft_is_its_writers_alone(kind: str) -> None:
    """Not staff's, and (issue 13) not the proxy's when the principal (p1) started it: once sent,
    the whole side sees it."""
    sees = perm.may_see_message(KINDS[kind], author_side=AUTHOR_SIDE, state=S.DRAFT, submitted=False,
                                author_participant_id="p1")
    assert sees is (kind == "author principal")
    sent = perm.may_see_message(KINDS[kind], author_side=AUTHOR_SIDE, state=S.CHANGES_REQUESTED, submitted=True,
                                author_participant_id="p1")
    assert sent is (kind in {"author principal", "author proxy", "facilitator"})


#: (initiator, responsible may reply, harmed side has sent) -> may the responsible principal start?
RESPONSIBLE_STARTS = [
    ("harmed", True, False, False), ("harmed", True, True, True), ("harmed", False, True, False),
    ("either", True, False, True), ("either", False, False, False), ("either", False, True, False),
]


@pytest.mark.parametrize(("initiator", "may_reply", "harmed_sent", "expected"), RESPONSIBLE_STARTS)
def test_the_responsible_side_starts_only_as_the_case_allows(initiator: str, may_reply: bool, harmed_sent: bool,
                                                            expected: bool) -> None:
    for kind in ("recipient principal", "recipient proxy"):
        assert perm.may_start_message(KINDS[kind], initiator=initiator, responsible_may_reply=may_reply,
                                      harmed_side_has_sent=harmed_sent) is expected
    assert not perm.may_start_message(KINDS["recipient supporter"], initiator=initiator,
                                      responsible_may_reply=may_reply, harmed_side_has_sent=harmed_sent)
    assert perm.may_start_message(KINDS["author principal"], initiator=initiator, responsible_may_reply=may_reply,
                                  harmed_side_has_sent=harmed_sent)


@pytest.mark.parametrize(("for_role", "expected"), [("principal", True), ("proxy", True), ("supporter", False),
                                                    (None, False)])
def test_writing_on_behalf_only_for_those_who_write(for_role: str | None, expected: bool) -> None:
    assert perm.may_write_on_behalf(KINDS["facilitator"], for_role=for_role) is expected
    assert not perm.may_write_on_behalf(KINDS["author principal"], for_role=for_role)


#: (approver, written by, facilitators on the case, another approved first) -> may approve?
#: "author" wrote it themselves; "fiona" (a facilitator) entered it on their behalf.
APPROVE_AS = [
    ("fiona", "author", 2, False, True), ("frank", "author", 2, False, True),
    ("fiona", "fiona", 2, False, False), ("fiona", "fiona", 2, True, True), ("frank", "fiona", 2, False, True),
    ("fiona", "fiona", 1, False, True), (None, "fiona", 2, False, True),
]


@pytest.mark.parametrize(("actor", "written_by", "facilitators", "other_first", "expected"), APPROVE_AS)
def test_four_eyes_on_words_a_facilitator_entered(actor: str | None, written_by: str, facilitators: int,
                                                  other_first: bool, expected: bool) -> None:
    assert perm.may_approve_as(actor, written_by=written_by, author_account_id="author", facilitators=facilitators,
                               approved_by_another=other_first) is expected


@pytest.mark.parametrize(("role", "expected"), [("coordinator", True), ("facilitator", False),
                                                ("participant", False), ("", False)])
def test_only_the_coordinator_runs_the_service(role: str, expected: bool) -> None:
    assert perm.may_run_service(role) is expected
