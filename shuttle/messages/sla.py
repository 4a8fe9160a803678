"""How long a message has waited on its facilitators, counted in working days (Monday to Friday).

Pure: no I/O, no clock. The review queue asks `status(waiting_since, now, days)` for each
message; an overdue message is escalated to the case's co-facilitator (never rejected: the
SLA is a promise to the author, not a rule about the message).

Working time is the part of an interval that falls on a Monday to Friday, measured in the
time zone of the datetimes given (the service passes UTC). A message sent on a Saturday
starts its clock on Monday at midnight; two working days after Thursday 15:00 is Monday 15:00.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from shuttle.i18n import N_, Sentence

DAY = timedelta(days=1)
WEEK = timedelta(days=7)
WORKING_DAYS_PER_WEEK = 5


def is_working_day(moment: datetime) -> bool:
    return moment.weekday() < WORKING_DAYS_PER_WEEK


def _midnight(moment: datetime) -> datetime:
    return moment.replace(hour=0, minute=0, second=0, microsecond=0)


def _working_since_monday(moment: datetime) -> timedelta:
    """Working time between the Monday 00:00 of `moment`'s week and `moment`."""
    day = moment.weekday()
    if day >= WORKING_DAYS_PER_WEEK:
        return WORKING_DAYS_PER_WEEK * DAY
    return day * DAY + (moment - _midnight(moment))


def _monday(moment: datetime) -> datetime:
    return _midnight(moment) - moment.weekday() * DAY


def working_time_between(start: datetime, end: datetime) -> timedelta:
    """The part of [start, end) that falls on working days; zero when end <= start."""
    if end <= start:
        return timedelta(0)
    weeks = (_monday(end) - _monday(start)) // WEEK
    return weeks * WORKING_DAYS_PER_WEEK * DAY + _working_since_monday(end) - _working_since_monday(start)


def add_working_time(start: datetime, amount: timedelta) -> datetime:
    """The earliest moment at which `amount` of working time has passed since `start`."""
    if amount <= timedelta(0):
        return start
    monday = _monday(start)
    total = _working_since_monday(start) + amount  # working time to cover from that Monday
    weeks, rest = divmod(total, WORKING_DAYS_PER_WEEK * DAY)
    if rest == timedelta(0):  # lands exactly at the end of a Friday
        weeks, rest = weeks - 1, WORKING_DAYS_PER_WEEK * DAY
    return monday + weeks * WEEK + rest


def due_at(start: datetime, working_days: int) -> datetime:
    return add_working_time(start, working_days * DAY)


@dataclass(frozen=True)
class SlaStatus:
    """Where a waiting message stands against the promise of `working_days`."""

    waiting_since: datetime
    due: datetime
    waited: timedelta  # calendar time
    waited_working: timedelta  # working time
    state: str  # "ok" | "due_soon" | "overdue"

    @property
    def overdue(self) -> bool:
        return self.state == "overdue"

    @property
    def label(self) -> str:
        return {"ok": "on time", "due_soon": "due soon", "overdue": "overdue"}[self.state]


def status(waiting_since: datetime, now: datetime, working_days: int) -> SlaStatus:
    """Overdue once the deadline has passed; due soon in the second half of the working time."""
    waited_working = working_time_between(waiting_since, now)
    limit = working_days * DAY
    due = due_at(waiting_since, working_days)
    if now > due:
        state = "overdue"
    elif waited_working * 2 >= limit:
        state = "due_soon"
    else:
        state = "ok"
    return SlaStatus(waiting_since, due, max(now - waiting_since, timedelta(0)), waited_working, state)


def describe_wait(waited: timedelta) -> str:
    """'12 min', '5 h', '3 days 2 h': how long, in words a facilitator reads at a glance (a Sentence:
    English as text, translated where a page shows it)."""
    minutes = int(waited.total_seconds() // 60)
    if minutes < 1:
        return Sentence(N_("just now"))
    if minutes < 60:
        return Sentence(N_("%(minutes)s min"), minutes=minutes)
    hours = minutes // 60
    if hours < 24:
        return Sentence(N_("%(hours)s h"), hours=hours)
    days, hours = divmod(hours, 24)
    if hours:
        return Sentence(N_("%(days)s day %(hours)s h") if days == 1 else N_("%(days)s days %(hours)s h"),
                        days=days, hours=hours)
    return Sentence(N_("%(days)s day") if days == 1 else N_("%(days)s days"), days=days)
