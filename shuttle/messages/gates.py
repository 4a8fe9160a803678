"""Release gates and hold reasons: when an approved message may reach the other side.

Pure: the caller gathers the facts (case, approvals, recipients) and asks. Each blocker is
a short sentence a facilitator can act on; an empty list means the gates are open.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class PersonGate:
    """What a gate needs to know about one participant (author or recipient)."""

    label: str
    takes_part: bool
    receives: bool
    suitable: bool
    holding_deliveries: bool = False


@dataclass(frozen=True)
class ReleaseFacts:
    case_status: str
    approvals: int
    approvals_required: int
    edits_pending_acceptance: bool
    recipients: tuple[PersonGate, ...]
    author: PersonGate
    scheduled_at: datetime | None
    now: datetime
    reply_allowed: bool = True
    extra: tuple[str, ...] = field(default=())


def hold_reasons(case_status: str, author: PersonGate, recipients: tuple[PersonGate, ...]) -> list[str]:
    """Why pending messages of a case must be frozen now (invariant 4)."""
    reasons: list[str] = []
    if case_status == "paused":
        reasons.append("the case is paused")
    if case_status == "closed":
        reasons.append("the case is closed")
    if not author.takes_part:
        reasons.append(f"{author.label} withdrew consent to take part")
    for person in recipients:
        if not person.takes_part:
            reasons.append(f"{person.label} withdrew consent to take part")
        elif not person.receives:
            reasons.append(f"{person.label} has no current consent to receive messages")
    return reasons


def release_blockers(facts: ReleaseFacts) -> list[str]:
    """Every reason the message may not be released now; empty means release."""
    blockers = hold_reasons(facts.case_status, facts.author, facts.recipients)
    if facts.case_status == "preparation":
        blockers.append("the case is still in preparation")
    if facts.approvals < facts.approvals_required:
        blockers.append(f"{facts.approvals} of {facts.approvals_required} approvals")
    if facts.edits_pending_acceptance:
        blockers.append("the author has not accepted the facilitator's changes")
    if not facts.recipients:
        blockers.append("nobody on the other side can receive it")
    for person in facts.recipients:
        if not person.suitable:
            blockers.append(f"{person.label} has no current 'suitable' assessment")
        if person.holding_deliveries:
            blockers.append(f"{person.label} asked to hold deliveries for now")
    if not facts.reply_allowed:
        blockers.append("the case does not allow this side to send messages")
    if facts.scheduled_at is not None and facts.now < facts.scheduled_at:
        blockers.append(f"scheduled for {facts.scheduled_at:%Y-%m-%d %H:%M} UTC")
    blockers.extend(facts.extra)
    return blockers
