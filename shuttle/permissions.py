"""Who may do what (DESIGN.md section 8): pure rules, no I/O.

`shuttle.access` gathers an actor's membership of a case and asks these functions; a "no"
for something the actor may not even know exists becomes a 404 there (invariant 7).
"""

from __future__ import annotations

from dataclasses import dataclass

from shuttle.messages.states import DELIVERED, State

AUTHORING_ROLES = frozenset({"principal", "proxy"})


@dataclass(frozen=True)
class Membership:
    """An actor's standing in one case."""

    kind: str  # 'facilitator' | 'participant' | 'coordinator' | 'none'
    side: str | None = None
    participant_role: str | None = None
    participant_id: str | None = None

    @property
    def is_facilitator(self) -> bool:
        return self.kind == "facilitator"

    @property
    def is_participant(self) -> bool:
        return self.kind == "participant"


NO_MEMBERSHIP = Membership("none")


def may_see_case(m: Membership) -> bool:
    return m.is_facilitator or m.is_participant


def may_manage_case(m: Membership) -> bool:
    """Consent, assessment, case settings, pause and close: the case's facilitators only."""
    return m.is_facilitator


def may_write(m: Membership) -> bool:
    """Principals and proxies write for their side; supporters never do."""
    return m.is_participant and m.participant_role in AUTHORING_ROLES


def is_author_side(m: Membership, author_side: str) -> bool:
    return may_write(m) and m.side == author_side


def is_recipient_side(m: Membership, author_side: str) -> bool:
    return may_write(m) and m.side is not None and m.side != author_side


def may_see_message(m: Membership, *, author_side: str, state: State, submitted: bool) -> bool:
    """The author side sees its own; facilitators see a message of their case once it has been
    sent to them (an unsent draft is the author's private work: not listed, counted or shown);
    the other side learns of a message only once it is delivered."""
    if is_author_side(m, author_side):
        return True
    if m.is_facilitator:
        return submitted
    return is_recipient_side(m, author_side) and state in DELIVERED


def may_read_draft(m: Membership, *, author_side: str) -> bool:
    """A draft is the author's private work (an apology written over weeks): staff do not read it."""
    return is_author_side(m, author_side)


def may_review(m: Membership) -> bool:
    return m.is_facilitator


def may_open(m: Membership, *, author_side: str, state: State) -> bool:
    return is_recipient_side(m, author_side) and state in DELIVERED


def may_start_message(
    m: Membership, *, initiator: str, responsible_may_reply: bool, harmed_side_has_sent: bool
) -> bool:
    """The harmed side leads (invariant 4): whether the responsible side may write at all is
    its choice (`responsible_may_reply`), and unless the case lets either side begin, the
    responsible side writes only after the harmed side has sent something."""
    if not may_write(m):
        return False
    if m.side == "harmed":
        return True
    return responsible_may_reply and (initiator == "either" or harmed_side_has_sent)
