"""The outcome agreement's rules, and the feedback questionnaire's: pure, no I/O.

An agreement is a series of immutable versions drafted by a facilitator. Each side (the
principal or a proxy of that side) agrees to the current version or asks for a change with
a note. A version is agreed when both sides agreed to it; a change asked for means the
facilitators draft a new version, which both sides must agree to again. Once agreed, its
items are tracked: each is marked done, missed or varied, with a note.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from shuttle.cases.states import Status
from shuttle.errors import BadInput, Conflict
from shuttle.i18n import N_

SIDES = ("harmed", "responsible")
#: Who does an item: one side, both, or the service (the facilitators).
OWNERS = ("harmed", "responsible", "both", "service")
MAX_ITEMS = 30
MAX_WHAT_CHARS = 2_000
MAX_CHECK_CHARS = 1_000
MAX_NOTE_CHARS = 2_000
#: The dashboard shows items due within this many days (and those overdue).
DUE_SOON_DAYS = 7


class Decision(StrEnum):
    AGREE = "agree"
    CHANGE = "change"


class ItemStatus(StrEnum):
    DONE = "done"
    MISSED = "missed"
    VARIED = "varied"


ITEM_WORDS = {None: "not yet due or not yet marked", ItemStatus.DONE: "done", ItemStatus.MISSED: "not done",
              ItemStatus.VARIED: "changed by agreement"}
#: Marked done or missed: nothing more is expected of the item. A varied item goes on.
SETTLED = frozenset({ItemStatus.DONE, ItemStatus.MISSED})


class VersionState(StrEnum):
    AWAITING = "awaiting"  # one side or both have not answered
    CHANGE_ASKED = "change_asked"  # a side asked for a change: a new version is needed
    AGREED = "agreed"  # both sides agreed


class RuleBroken(Exception):
    """A sentence for the person who tried, and the form field it is about (if one)."""

    def __init__(self, message: str, field: str = "") -> None:
        super().__init__(message)
        self.message, self.field = message, field


def refused(exc: RuleBroken) -> BadInput | Conflict:
    """A broken rule about a field is bad input (the form again, the field named); else a conflict."""
    if exc.field:
        return BadInput(exc.message, details={"field": exc.field})
    return Conflict(exc.message, code="agreement")


@dataclass(frozen=True)
class Item:
    what: str
    owner: str
    due_on: date | None
    check: str


def check_items(items: list[Item], *, today: date) -> list[Item]:
    """The items of a new version, cleaned; RuleBroken names the first problem (and its item)."""
    if not items:
        raise RuleBroken("An agreement has at least one item: say what will be done.", "item-1-what")
    if len(items) > MAX_ITEMS:
        raise RuleBroken(f"An agreement has at most {MAX_ITEMS} items.")
    cleaned = []
    for number, item in enumerate(items, start=1):
        what, check = item.what.strip(), item.check.strip()
        if not what:
            raise RuleBroken(f"Item {number}: say what will be done.", f"item-{number}-what")
        if len(what) > MAX_WHAT_CHARS or len(check) > MAX_CHECK_CHARS:
            raise RuleBroken(f"Item {number} is too long (what: up to {MAX_WHAT_CHARS} characters, "
                             f"how it is checked: up to {MAX_CHECK_CHARS}).",
                             f"item-{number}-{'what' if len(what) > MAX_WHAT_CHARS else 'check'}")
        if item.owner not in OWNERS:
            raise RuleBroken(f"Item {number}: say who will do it.", f"item-{number}-owner")
        if item.due_on is not None and item.due_on < today:
            raise RuleBroken(f"Item {number}: the date it is due by cannot be in the past.", f"item-{number}-due")
        if not check:
            raise RuleBroken(f"Item {number}: say how it will be checked.", f"item-{number}-check")
        cleaned.append(Item(what, item.owner, item.due_on, check))
    return cleaned


def version_state(answers: Mapping[str, Decision]) -> VersionState:
    """A version's state from each side's answer to it (a side that has not answered is absent)."""
    if Decision.CHANGE in answers.values():
        return VersionState.CHANGE_ASKED
    if all(answers.get(side) is Decision.AGREE for side in SIDES):
        return VersionState.AGREED
    return VersionState.AWAITING


def agreement_open(status: Status) -> bool:
    """Drafting, answering and tracking happen once the exchange has begun, until the case is closed."""
    return status in {Status.OPEN, Status.PAUSED, Status.CLOSING}


def may_draft(status: Status, *, agreed: bool) -> None:
    if not agreement_open(status):
        raise RuleBroken("The outcome agreement is drafted after the exchange has opened and before the case "
                         "is closed.")
    if agreed:
        raise RuleBroken("Both sides have agreed to the agreement: it is not changed any more. Mark its items "
                         "as done, missed or varied instead.")


def may_answer(status: Status, *, latest: bool, answers: Mapping[str, Decision], side: str,
               decision: Decision, note: str) -> None:
    """A side answers the latest version once, while no side has asked for a change to it."""
    if not agreement_open(status):
        raise RuleBroken(N_("The agreement can no longer be answered: the case is closed."))
    if not latest:
        raise RuleBroken(N_("There is a newer version of the agreement: read it first, then answer."))
    if side in answers:
        raise RuleBroken(N_("Your side has already answered this version."))
    if version_state(answers) is VersionState.CHANGE_ASKED:
        raise RuleBroken(N_("A change was asked for: your facilitator will write a new version for both sides."))
    if decision is Decision.CHANGE and not note.strip():
        raise RuleBroken(N_("Say what you would like changed."), "note")
    if len(note) > MAX_NOTE_CHARS:
        raise RuleBroken(f"The note can be up to {MAX_NOTE_CHARS} characters.", "note")


def may_mark(status: Status, *, agreed: bool, item_status: ItemStatus, note: str) -> None:
    if not agreed:
        raise RuleBroken("Items are marked once both sides have agreed to the agreement.")
    if status is Status.CLOSED:
        raise RuleBroken("The case is closed: its items are no longer marked.")
    if item_status is ItemStatus.VARIED and not note.strip():
        raise RuleBroken("Say how the item was varied.", "note")
    if len(note) > MAX_NOTE_CHARS:
        raise RuleBroken(f"The note can be up to {MAX_NOTE_CHARS} characters.", "note")


def is_due(due_on: date | None, status: ItemStatus | None, *, today: date) -> bool:
    """On the facilitators' dashboard: not settled, and due within DUE_SOON_DAYS (or overdue)."""
    if due_on is None or status in SETTLED:
        return False
    return (due_on - today).days <= DUE_SOON_DAYS


# --- feedback ------------------------------------------------------------------------------------

MAX_COMMENT_CHARS = 2_000


@dataclass(frozen=True)
class Answers:
    satisfied: int | None  # 1 (not at all) .. 5 (very)
    recommend: bool | None
    comment: str


def check_answers(answers: Answers) -> Answers:
    if answers.satisfied is not None and not 1 <= answers.satisfied <= 5:
        raise RuleBroken("How satisfied you are is a number from 1 to 5.", "satisfied")
    if len(answers.comment) > MAX_COMMENT_CHARS:
        raise RuleBroken(f"What you add can be up to {MAX_COMMENT_CHARS} characters.", "comment")
    if answers.satisfied is None and answers.recommend is None and not answers.comment.strip():
        raise RuleBroken("Answer at least one question, or choose 'No, thank you'.", "satisfied")
    return Answers(answers.satisfied, answers.recommend, answers.comment.strip())


def feedback_offered(status: Status) -> bool:
    """Offered once the case is closing (and still when it is closed)."""
    return status in {Status.CLOSING, Status.CLOSED}


def quarter(day: date) -> str:
    """'2026Q4': the only time kept with a feedback answer (figures are by quarter)."""
    return f"{day.year}Q{(day.month - 1) // 3 + 1}"


# --- aftercare -----------------------------------------------------------------------------------

GOT_WHAT_WANTED = ("yes", "partly", "no", "not_asked")
MAX_WELLBEING_CHARS = 5_000


def checkin_offsets(setting: str) -> list[int]:
    """The service setting '3d,14d' as days after the exchange ends: [3, 14] ('' : no check-ins)."""
    days = []
    for part in (p.strip() for p in setting.split(",")):
        if not part:
            continue
        if not (part.endswith("d") and part[:-1].isascii() and part[:-1].isdigit() and len(part) <= 4):
            raise ValueError(f"a check-in is a number of days like 3d, not {part!r}")
        days.append(int(part[:-1]))
    return sorted(set(days))


def check_checkin(wellbeing: str, got_what_wanted: str) -> None:
    if not wellbeing.strip():
        raise RuleBroken("Say how the person is.", "wellbeing")
    if len(wellbeing) > MAX_WELLBEING_CHARS:
        raise RuleBroken(f"How the person is can be up to {MAX_WELLBEING_CHARS} characters.", "wellbeing")
    if got_what_wanted not in GOT_WHAT_WANTED:
        raise RuleBroken("Say whether they got what they wanted from the process.", "got_what_wanted")


def check_support_entry(name: str, helps_with: str, how_to_reach: str) -> None:
    entries = ((name, "name", "its name", 120), (helps_with, "helps_with", "what it helps with", 500),
               (how_to_reach, "how_to_reach", "how to reach it", 500))
    for value, field, words, most in entries:
        if not value.strip():
            raise RuleBroken(f"Give {words}.", field)
        if len(value) > most:
            raise RuleBroken(f"{words.capitalize()} can be up to {most} characters.", field)
