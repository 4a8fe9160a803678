"""The pure rules of issue 10's casework (shuttle/permissions.py), as tables."""

from __future__ import annotations

import pytest

from shuttle import permissions
from shuttle.messages.states import State
from shuttle.permissions import Membership

FACILITATOR = Membership("facilitator")
COORDINATOR = Membership("coordinator")
NOBODY = permissions.NO_MEMBERSHIP
HARMED = Membership("participant", "harmed", "principal", "p1")
HARMED_PROXY = Membership("participant", "harmed", "proxy", "p2")
HARMED_SUPPORTER = Membership("participant", "harmed", "supporter", "p3")
RESPONSIBLE = Membership("participant", "responsible", "principal", "p4")
RESPONSIBLE_SUPPORTER = Membership("participant", "responsible", "supporter", "p5")


@pytest.mark.parametrize("member, allowed", [
    (FACILITATOR, True), (COORDINATOR, False), (NOBODY, False), (HARMED, False), (HARMED_PROXY, False),
    (HARMED_SUPPORTER, False), (RESPONSIBLE, False),
])
def test_private_notes_are_the_facilitators_only(member: Membership, allowed: bool) -> None:
    assert permissions.may_keep_private_notes(member) is allowed


@pytest.mark.parametrize("member, for_role, allowed", [
    (FACILITATOR, "principal", True), (FACILITATOR, "proxy", True), (FACILITATOR, "supporter", False),
    (FACILITATOR, None, False), (COORDINATOR, "principal", False), (HARMED, "principal", False),
    (HARMED_PROXY, "principal", False), (NOBODY, "principal", False),
])
def test_who_writes_on_whose_behalf(member: Membership, for_role: str | None, allowed: bool) -> None:
    assert permissions.may_write_on_behalf(member, for_role=for_role) is allowed


@pytest.mark.parametrize("actor, written_by, facilitators, another_approved, allowed", [
    ("fiona", "fiona", 2, False, False),  # she entered it: Frank approves it
    ("fiona", "fiona", 2, True, True),  # a case needing two approvals: hers may be the second
    ("frank", "fiona", 2, False, True),
    ("fiona", "fiona", 1, False, True),  # the only facilitator may (the page says so)
    ("fiona", "jessica", 2, False, True),  # the person wrote it themselves
    ("fiona", "jessica", 1, False, True),
    (None, "fiona", 2, False, True),  # not a person: the other rules refuse it
])
def test_the_facilitator_who_entered_a_message_does_not_approve_it_alone(
        actor: str | None, written_by: str, facilitators: int, another_approved: bool, allowed: bool) -> None:
    assert permissions.may_approve_as(actor, written_by=written_by, author_account_id="jessica",
                                      facilitators=facilitators, approved_by_another=another_approved) is allowed


@pytest.mark.parametrize("member, state, allowed", [
    (HARMED, State.VIEWED, True), (HARMED_PROXY, State.VIEWED, True),
    (HARMED, State.RELEASED, False),  # opened by them first
    (HARMED, State.APPROVED, False), (HARMED_SUPPORTER, State.VIEWED, False),
    (RESPONSIBLE, State.VIEWED, False),  # the author side does not share the other's reading
    (FACILITATOR, State.VIEWED, False), (COORDINATOR, State.VIEWED, False),
])
def test_the_recipient_side_shares_what_it_has_opened(member: Membership, state: State, allowed: bool) -> None:
    assert permissions.may_share_with_supporter(member, author_side="responsible", state=state) is allowed


@pytest.mark.parametrize("member, state, shared, allowed", [
    (HARMED_SUPPORTER, State.VIEWED, True, True),
    (HARMED_SUPPORTER, State.RELEASED, True, True),
    (HARMED_SUPPORTER, State.VIEWED, False, False),  # not shared (or no longer): nothing
    (HARMED_SUPPORTER, State.IN_REVIEW, True, False),
    (HARMED_SUPPORTER, State.HELD, True, False),
    (RESPONSIBLE_SUPPORTER, State.VIEWED, True, False),  # the author's side's supporter
    (HARMED, State.VIEWED, True, False),  # not through this rule
    (FACILITATOR, State.VIEWED, True, False), (COORDINATOR, State.VIEWED, True, False),
])
def test_a_supporter_sees_a_delivered_message_only_while_shared(member: Membership, state: State, shared: bool,
                                                                 allowed: bool) -> None:
    assert permissions.may_see_shared(member, author_side="responsible", state=state, shared=shared) is allowed


def test_a_supporter_never_writes() -> None:
    assert not permissions.may_write(HARMED_SUPPORTER)
    assert not permissions.may_start_message(HARMED_SUPPORTER, initiator="either", responsible_may_reply=True,
                                             harmed_side_has_sent=True)
