"""Release gates and hold reasons: when an approved message may reach the other side.

Pure: the caller gathers the facts (case, approvals, recipients) and asks. Each blocker is
a short sentence a facilitator can act on; an empty list means the gates are open. Each is an
i18n.Sentence: English as text, translated with its names where a page shows it (`| translated`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

from shuttle.cases.states import Status, describe, exchange_possible, holds_everything, reading_possible
from shuttle.i18n import N_, Sentence


@dataclass(frozen=True)
class PersonGate:
    """What a gate needs to know about one participant (author or recipient)."""

    label: str
    takes_part: bool
    receives: bool
    suitable: bool  # a current eligible + suitable assessment whose review date has not passed
    holding_deliveries: bool = False
    active: bool = True  # still a participant of the case (a facilitator may deactivate one)


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
    proceedings_hold: bool = False


def _status(case_status: str) -> Status | None:
    try:
        return Status(case_status)
    except ValueError:
        return None


def hold_reasons(case_status: str, author: PersonGate, recipients: tuple[PersonGate, ...], *,
                 proceedings_hold: bool = False) -> list[str]:
    """Why pending messages of a case must be frozen now (invariant 4): paused, closing and
    closed hold everything, as do court proceedings where the service waits for them."""
    reasons: list[str] = []
    status = _status(case_status)
    if status is not None and holds_everything(status):
        reasons.append(_case_is(status))
    if proceedings_hold:
        reasons.append(Sentence(N_("court proceedings are ongoing")))
    if not author.active:
        reasons.append(Sentence(N_("the author is no longer part of the case")))
    elif not author.takes_part:
        reasons.append(Sentence(N_("%(label)s withdrew consent to take part"), label=author.label))
    for person in recipients:
        reasons.extend(_receiving(person))
    return reasons


#: The reasons a hold gives (stored in its audit event as English text), so a page can say them again.
HOLD_REASONS = (N_("the case is %(status)s"), N_("court proceedings are ongoing"),
                N_("the author is no longer part of the case"), N_("%(label)s withdrew consent to take part"),
                N_("%(label)s has no current consent to receive messages"))


def reason_said(text: str) -> str:
    """A stored hold reason as a Sentence again (translated where shown), when it is one of HOLD_REASONS;
    any other text as it is."""
    for pattern in HOLD_REASONS:
        # the pattern, escaped, with each escaped "%(name)s" as a named group
        found = re.fullmatch(re.sub(r"%\\\((\w+)\\\)s", r"(?P<\1>.+?)", re.escape(pattern)), text)
        if found:
            return Sentence(pattern, **{k: Sentence(v) if k == "status" else v for k, v in found.groupdict().items()})
    return text


def _case_is(status: Status | None, case_status: str = "", suffix: str = "") -> str:
    """"the case is paused" (", not open" with `suffix`): the status in words, or as stored if unknown."""
    words: str = Sentence(describe(status)) if status is not None else case_status
    if suffix:
        return Sentence(N_("the case is %(status)s, not open"), status=words)
    return Sentence(N_("the case is %(status)s"), status=words)


def _receiving(person: PersonGate) -> list[str]:
    if not person.takes_part:
        return [Sentence(N_("%(label)s withdrew consent to take part"), label=person.label)]
    if not person.receives:
        return [Sentence(N_("%(label)s has no current consent to receive messages"), label=person.label)]
    return []


def reading_holds(case_status: str, reader: PersonGate) -> list[str]:
    """Why a recipient may not open or read what was already delivered to them now: a pause and a
    withdrawn consent stop it at once; closing and closed do not, so people keep what was delivered
    to them until retention ends (issue 11), while everything still pending stays held."""
    status = _status(case_status)
    reasons = [] if status is not None and reading_possible(status) else \
        [_case_is(status, case_status)]
    return reasons + _receiving(reader)


def release_blockers(facts: ReleaseFacts) -> list[str]:
    """Every reason the message may not be released now; empty means release."""
    blockers = hold_reasons(facts.case_status, facts.author, facts.recipients,
                            proceedings_hold=facts.proceedings_hold)
    status = _status(facts.case_status)
    if status is None or (not exchange_possible(status) and not holds_everything(status)):
        blockers.append(_case_is(status, facts.case_status, ", not open"))
    if not facts.author.suitable:
        blockers.append(_unassessed(facts.author))
    if facts.approvals < facts.approvals_required:
        blockers.append(Sentence(N_("%(approvals)s of %(required)s approvals"), approvals=facts.approvals,
                                 required=facts.approvals_required))
    if facts.edits_pending_acceptance:
        blockers.append(Sentence(N_("the author has not accepted the facilitator's changes")))
    if not facts.recipients:
        blockers.append(Sentence(N_("nobody on the other side can receive it")))
    for person in facts.recipients:
        if not person.suitable:
            blockers.append(_unassessed(person))
        if person.holding_deliveries:
            blockers.append(Sentence(N_("%(label)s asked to hold deliveries for now"), label=person.label))
    if not facts.reply_allowed:
        blockers.append(Sentence(N_("the case does not allow this side to send messages")))
    if facts.scheduled_at is not None and facts.now < facts.scheduled_at:
        blockers.append(Sentence(N_("scheduled for %(when)s UTC"), when=f"{facts.scheduled_at:%Y-%m-%d %H:%M}"))
    blockers.extend(facts.extra)
    return blockers


def _unassessed(person: PersonGate) -> str:
    return Sentence(N_("%(label)s has no current eligible and suitable assessment"), label=person.label)
