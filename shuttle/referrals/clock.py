"""The first-contact clock: how long a referral has waited for someone to reach the person.

Pure: no I/O, no clock of its own. The service aims to make contact within
SHUTTLE_FIRST_CONTACT_WORKING_HOURS (48 by default) *working hours*: hours that fall on a
Monday to Friday, all 24 of them, in the time zone of the datetimes given (the service passes
UTC). Weekends do not count, working days count in full, so "48 hours" keeps the meaning a
person gives it on a working day: a referral on Tuesday 10:00 is due on Thursday 10:00, one on
Friday 15:00 on Tuesday 15:00, one on Saturday on Tuesday 00:00. (Not 09:00-17:00 office
hours: 48 of those would be six working days, and the form promises two. Bank holidays count
as working days: the promise is kept early rather than late.) The same working-time arithmetic
as the review deadline (`shuttle.messages.sla`), in hours instead of days.

Due soon in the last quarter of the time (the last 12 of 48 hours); overdue once the deadline
has passed. The clock stops at the first contact attempt whose outcome is "reached".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from shuttle.messages.sla import add_working_time, describe_wait, working_time_between

HOUR = timedelta(hours=1)
#: The clock is "due soon" once this share of the time (or less) is left.
DUE_SOON_SHARE = 4  # a quarter


def due_at(received_at: datetime, hours: int) -> datetime:
    return add_working_time(received_at, hours * HOUR)


@dataclass(frozen=True)
class Clock:
    """Where a referral stands against the first-contact promise."""

    received_at: datetime
    due: datetime
    state: str  # "ok" | "due_soon" | "overdue" | "met" | "met_late"
    left: timedelta  # working time left before the deadline (0 when past or met)

    @property
    def waiting(self) -> bool:
        return self.state in {"ok", "due_soon", "overdue"}

    @property
    def label(self) -> str:
        return {"ok": "on time", "due_soon": "contact due soon", "overdue": "contact overdue",
                "met": "contacted in time", "met_late": "contacted late"}[self.state]

    @property
    def left_words(self) -> str:
        return describe_wait(self.left)


def status(received_at: datetime, now: datetime, hours: int, *, contacted_at: datetime | None = None) -> Clock:
    """The clock at `now`; with `contacted_at` (the first "reached" attempt) it has stopped."""
    due = due_at(received_at, hours)
    if contacted_at is not None:
        return Clock(received_at, due, "met" if contacted_at <= due else "met_late", timedelta(0))
    limit = hours * HOUR
    left = max(limit - working_time_between(received_at, now), timedelta(0))
    if now > due:
        state = "overdue"
    elif left * DUE_SOON_SHARE <= limit:
        state = "due_soon"
    else:
        state = "ok"
    return Clock(received_at, due, state, left if state != "overdue" else timedelta(0))
