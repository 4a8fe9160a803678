"""The figures counted from plain rows (what `figures.queries` reads): pure, no I/O.

Each function takes the rows of one kind already limited to the period (the queries do that) and
returns plain numbers; `figures.view` turns them into what the page and the CSV show.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from shuttle.messages.sla import working_time_between
from shuttle.referrals.clock import due_at

HOUR = timedelta(hours=1)
SATISFIED = frozenset({4, 5})  # of 1..5


@dataclass(frozen=True)
class ReferralRow:
    source: str
    received_at: datetime
    contacted_at: datetime | None  # the first attempt that reached the person


@dataclass(frozen=True)
class Submission:
    message_id: str
    at: datetime  # an author's version sent to review


@dataclass(frozen=True)
class Decision:
    message_id: str
    at: datetime
    kind: str  # "approved" | "returned"


@dataclass(frozen=True)
class FeedbackRow:
    satisfied: int | None
    recommend: bool | None


@dataclass(frozen=True)
class CheckInRow:
    due_on: date
    done_at: datetime | None


def tally(values: Iterable[str], categories: Sequence[str]) -> list[int]:
    """How many of each category, in the categories' order (a value outside them is not counted)."""
    counted = Counter(values)
    return [counted.get(c, 0) for c in categories]


def working_hours(start: datetime, end: datetime) -> float:
    return working_time_between(start, end) / HOUR


@dataclass(frozen=True)
class FirstContact:
    hours: list[float]  # working hours from receipt to first contact, one per referral contacted
    in_time: int  # contacted within the promise
    judged: int  # contacted, or still not contacted after the promise ran out


def first_contact(rows: Iterable[ReferralRow], *, promise_hours: int, now: datetime) -> FirstContact:
    """Referrals still waiting within their time are not judged yet (they may still be met)."""
    hours, in_time, judged = [], 0, 0
    for row in rows:
        due = due_at(row.received_at, promise_hours)
        if row.contacted_at is not None:
            hours.append(working_hours(row.received_at, row.contacted_at))
            judged += 1
            in_time += row.contacted_at <= due
        elif now > due:
            judged += 1
    return FirstContact(sorted(hours), in_time, judged)


def review_turnaround(submissions: Iterable[Submission], decisions: Iterable[Decision], *,
                      within: tuple[datetime | None, datetime | None] = (None, None)) -> list[tuple[str, float]]:
    """Each review decision (approved, or returned to the author with changes asked) paired with the
    submission it answered: the first decision after a submission and before the next one. Returns
    (kind, working hours) for the decisions made within [start, end) (None: unbounded)."""
    sent: dict[str, list[datetime]] = {}
    for s in submissions:
        sent.setdefault(s.message_id, []).append(s.at)
    decided: dict[str, list[Decision]] = {}
    for d in decisions:
        decided.setdefault(d.message_id, []).append(d)
    start, end = within
    found = []
    for message_id, times in sent.items():
        times.sort()
        answers = sorted(decided.get(message_id, []), key=lambda d: d.at)
        for i, at in enumerate(times):
            until = times[i + 1] if i + 1 < len(times) else None
            first = next((d for d in answers if d.at >= at and (until is None or d.at < until)), None)
            if first is None:
                continue
            if (start is None or first.at >= start) and (end is None or first.at < end):
                found.append((first.kind, working_hours(at, first.at)))
    return found


@dataclass(frozen=True)
class Satisfaction:
    satisfied: int  # answered 4 or 5
    rated: int  # answered the question at all
    recommend: int
    answered_recommend: int
    answers: int


def satisfaction(rows: Iterable[FeedbackRow]) -> Satisfaction:
    rows = list(rows)
    rated = [r.satisfied for r in rows if r.satisfied is not None]
    recommends = [r.recommend for r in rows if r.recommend is not None]
    return Satisfaction(sum(1 for s in rated if s in SATISFIED), len(rated), sum(1 for r in recommends if r),
                        len(recommends), len(rows))


def checkins_on_time(rows: Iterable[CheckInRow], *, today: date) -> tuple[int, int]:
    """(recorded on or before their due day, check-ins due by today). A check-in recorded later, or
    not recorded yet though due, is not on time; one not yet due is not counted."""
    due = [r for r in rows if r.due_on <= today]
    on_time = sum(1 for r in due if r.done_at is not None and r.done_at.date() <= r.due_on)
    return on_time, len(due)
