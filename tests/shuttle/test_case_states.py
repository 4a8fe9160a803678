"""The case's life (shuttle/cases/states.py): every (status, action) pair, no database."""

from __future__ import annotations

import pytest

from shuttle.cases.states import (
    Action,
    Status,
    TransitionNotAllowed,
    action_to,
    allowed_actions,
    describe,
    exchange_possible,
    holds_everything,
    next_status,
    reading_possible,
)

S, A = Status, Action
#: The whole table: every pair not listed here must be refused.
ALLOWED = {
    (S.PREPARATION, A.OPEN): S.OPEN,
    (S.PREPARATION, A.CLOSE): S.CLOSING,
    (S.OPEN, A.PAUSE): S.PAUSED,
    (S.OPEN, A.CLOSE): S.CLOSING,
    (S.PAUSED, A.RESUME): S.OPEN,
    (S.PAUSED, A.CLOSE): S.CLOSING,
    (S.CLOSING, A.FINISH): S.CLOSED,
}


@pytest.mark.parametrize("status", list(Status))
@pytest.mark.parametrize("action", list(Action))
def test_every_status_and_action(status: Status, action: Action) -> None:
    if (status, action) in ALLOWED:
        assert next_status(status, action) is ALLOWED[(status, action)]
        assert action in allowed_actions(status)
    else:
        with pytest.raises(TransitionNotAllowed) as refused:
            next_status(status, action)
        assert str(refused.value).startswith(f"A case that is {describe(status)} cannot be ")
        assert str(refused.value).endswith(".")
        assert action not in allowed_actions(status)


def test_closed_is_the_end() -> None:
    assert allowed_actions(S.CLOSED) == ()


def test_only_an_open_case_exchanges_and_paused_closing_closed_hold_everything() -> None:
    assert [s for s in Status if exchange_possible(s)] == [S.OPEN]
    assert {s for s in Status if holds_everything(s)} == {S.PAUSED, S.CLOSING, S.CLOSED}


def test_only_a_pause_stops_reading_what_was_delivered() -> None:
    """Closing holds what is pending, not what people already have (issue 11)."""
    assert {s for s in Status if not reading_possible(s)} == {S.PAUSED}


@pytest.mark.parametrize("status", list(Status))
@pytest.mark.parametrize("target", list(Status))
def test_targets_name_their_action(status: Status, target: Status) -> None:
    """Pages and the API name the status wanted; exactly the table's moves are possible."""
    reachable = {after: action for (before, action), after in ALLOWED.items() if before is status}
    if target in reachable:
        assert action_to(status, target) is reachable[target]
    else:
        with pytest.raises(TransitionNotAllowed, match=f"cannot become {describe(target)}"):
            action_to(status, target)


def test_every_status_has_words() -> None:
    assert {describe(s) for s in Status} == {"in preparation", "open", "paused", "closing", "closed"}


@pytest.mark.parametrize("status", list(Status))
@pytest.mark.parametrize("takes_part", [True, False])
@pytest.mark.parametrize("receives", [True, False])
def test_reading_holds_are_the_pause_and_the_readers_consents(status: Status, takes_part: bool, receives: bool) -> None:
    from shuttle.messages.gates import PersonGate, reading_holds

    reader = PersonGate(label="the person responsible", takes_part=takes_part, receives=receives, suitable=False)
    holds = reading_holds(status.value, reader)
    assert bool(holds) == (status is S.PAUSED or not takes_part or not receives)
    assert ("the case is paused" in holds) == (status is S.PAUSED)
