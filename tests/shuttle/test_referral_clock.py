"""The first-contact clock in working hours (Monday to Friday, all day): a table of cases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from shuttle.referrals import clock


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


# 2026-11-17 is a Tuesday; 2026-11-20 a Friday; 2026-11-21 a Saturday.
DUE = [
    # received              hours  due
    ("2026-11-17T10:00", 48, "2026-11-19T10:00"),  # Tuesday -> Thursday
    ("2026-11-20T15:00", 48, "2026-11-24T15:00"),  # Friday -> Tuesday: the weekend does not count
    ("2026-11-21T11:00", 48, "2026-11-25T00:00"),  # Saturday: the clock starts on Monday 00:00
    ("2026-11-22T23:59", 24, "2026-11-24T00:00"),  # Sunday night, one working day
    ("2026-11-19T00:00", 48, "2026-11-21T00:00"),  # Thursday 00:00: ends exactly at the end of Friday
    ("2026-11-17T10:00", 120, "2026-11-24T10:00"),  # five working days: a calendar week
    ("2026-11-17T10:00", 1, "2026-11-17T11:00"),
]


@pytest.mark.parametrize("received, hours, due", DUE)
def test_due(received: str, hours: int, due: str) -> None:
    assert clock.due_at(at(received), hours) == at(due)


STATES = [
    # received              now                  hours contacted           state        left
    ("2026-11-17T10:00", "2026-11-17T10:00", 48, None, "ok", timedelta(hours=48)),
    ("2026-11-17T10:00", "2026-11-18T21:59", 48, None, "ok", timedelta(hours=12, minutes=1)),
    ("2026-11-17T10:00", "2026-11-18T22:00", 48, None, "due_soon", timedelta(hours=12)),  # the last quarter
    ("2026-11-17T10:00", "2026-11-19T10:00", 48, None, "due_soon", timedelta(0)),  # exactly due
    ("2026-11-17T10:00", "2026-11-19T10:01", 48, None, "overdue", timedelta(0)),
    ("2026-11-20T15:00", "2026-11-22T23:00", 48, None, "ok", timedelta(hours=39)),  # weekend: nothing passes
    ("2026-11-20T15:00", "2026-11-24T03:00", 48, None, "due_soon", timedelta(hours=12)),
    ("2026-11-20T15:00", "2026-11-24T15:01", 48, None, "overdue", timedelta(0)),
    ("2026-11-17T10:00", "2026-11-30T10:00", 48, "2026-11-19T09:00", "met", timedelta(0)),  # stopped in time
    ("2026-11-17T10:00", "2026-11-30T10:00", 48, "2026-11-19T10:00", "met", timedelta(0)),
    ("2026-11-17T10:00", "2026-11-19T12:00", 48, "2026-11-19T11:00", "met_late", timedelta(0)),
]


@pytest.mark.parametrize("received, now, hours, contacted, state, left", STATES)
def test_status(received: str, now: str, hours: int, contacted: str | None, state: str, left: timedelta) -> None:
    found = clock.status(at(received), at(now), hours, contacted_at=at(contacted) if contacted else None)
    assert (found.state, found.left) == (state, left)
    assert found.waiting == (state in {"ok", "due_soon", "overdue"})
    assert found.due == clock.due_at(at(received), hours)


def test_labels_say_where_it_stands() -> None:
    received = at("2026-11-17T10:00")
    assert clock.status(received, at("2026-11-19T11:00"), 48).label == "contact overdue"
    assert clock.status(received, at("2026-11-18T23:00"), 48).left_words == "11 h"
