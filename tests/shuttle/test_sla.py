"""The review deadline in working days (Monday to Friday): arithmetic over weekends."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from shuttle.messages import sla

DAY = timedelta(days=1)
moments = st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2035, 12, 31)).map(
    lambda d: d.replace(tzinfo=UTC))
spans = st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=60))
days = st.integers(min_value=0, max_value=30)


def brute_working_time(start: datetime, end: datetime) -> timedelta:
    """Walk day by day: the definition, slowly."""
    total = timedelta(0)
    cursor = start
    while cursor < end:
        next_midnight = (cursor + DAY).replace(hour=0, minute=0, second=0, microsecond=0)
        stop = min(next_midnight, end)
        if cursor.weekday() < 5:
            total += stop - cursor
        cursor = stop
    return total


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def test_examples_over_a_weekend() -> None:
    # 2026-11-19 is a Thursday.
    assert sla.due_at(at("2026-11-19T15:00"), 2) == at("2026-11-23T15:00")  # Monday
    assert sla.due_at(at("2026-11-21T10:00"), 2) == at("2026-11-25T00:00")  # sent Saturday: from Monday
    assert sla.due_at(at("2026-11-20T09:30"), 1) == at("2026-11-23T09:30")  # Friday -> Monday
    assert sla.working_time_between(at("2026-11-20T18:00"), at("2026-11-23T06:00")) == timedelta(hours=12)
    assert sla.working_time_between(at("2026-11-21T00:00"), at("2026-11-23T00:00")) == timedelta(0)


def test_status_is_overdue_only_after_the_deadline_and_never_on_a_weekend_alone() -> None:
    sent = at("2026-11-19T15:00")  # Thursday
    assert sla.status(sent, at("2026-11-19T16:00"), 2).state == "ok"
    assert sla.status(sent, at("2026-11-20T15:00"), 2).state == "due_soon"
    assert sla.status(sent, at("2026-11-22T23:59"), 2).state == "due_soon"  # the weekend does not count
    assert sla.status(sent, at("2026-11-23T15:00"), 2).state == "due_soon"  # exactly due
    late = sla.status(sent, at("2026-11-23T15:01"), 2)
    assert late.overdue and late.label == "overdue" and late.due == at("2026-11-23T15:00")
    assert late.waited == at("2026-11-23T15:01") - sent


@given(moments, spans)
@settings(max_examples=300)
def test_working_time_matches_walking_day_by_day(start: datetime, span: timedelta) -> None:
    assert sla.working_time_between(start, start + span) == brute_working_time(start, start + span)


@given(moments, st.integers(min_value=1, max_value=20))
def test_any_whole_number_of_weeks_holds_five_working_days_each(start: datetime, weeks: int) -> None:
    assert sla.working_time_between(start, start + weeks * timedelta(weeks=1)) == weeks * 5 * DAY


@given(moments, spans, spans)
def test_working_time_adds_up_and_never_exceeds_calendar_time(start: datetime, a: timedelta, b: timedelta) -> None:
    middle, end = start + a, start + a + b
    whole = sla.working_time_between(start, end)
    assert whole == sla.working_time_between(start, middle) + sla.working_time_between(middle, end)
    assert timedelta(0) <= whole <= end - start


@given(moments, days)
@settings(max_examples=300)
def test_due_at_is_the_first_moment_the_working_days_have_passed(start: datetime, n: int) -> None:
    due = sla.due_at(start, n)
    assert sla.working_time_between(start, due) == n * DAY
    if n:
        assert sla.working_time_between(start, due - timedelta(microseconds=1)) < n * DAY
        # the deadline ends a stretch of working time: it is on a weekday, or the very end of a Friday
        assert due.weekday() < 5 or (due.weekday() == 5 and due == due.replace(hour=0, minute=0, second=0,
                                                                                microsecond=0))
    # at most two weekend days per started week are skipped
    assert n * DAY <= due - start <= n * DAY + (n // 5 + 1) * 2 * DAY


@given(moments, moments, days)
def test_later_submissions_are_never_due_earlier(a: datetime, b: datetime, n: int) -> None:
    first, second = sorted((a, b))
    assert sla.due_at(first, n) <= sla.due_at(second, n)


@given(moments, spans, st.integers(min_value=1, max_value=10))
def test_status_agrees_with_due_at(start: datetime, span: timedelta, n: int) -> None:
    now = start + span
    status = sla.status(start, now, n)
    assert status.overdue == (now > status.due)
    assert status.waited_working == sla.working_time_between(start, now)


@given(moments, st.integers(min_value=1, max_value=10))
def test_a_message_sent_at_the_weekend_waits_from_monday(start: datetime, n: int) -> None:
    saturday = start + timedelta(days=(5 - start.weekday()) % 7)
    monday = (saturday + 2 * DAY).replace(hour=0, minute=0, second=0, microsecond=0)
    assert sla.due_at(saturday, n) == sla.due_at(monday, n)


def test_wait_in_words() -> None:
    assert sla.describe_wait(timedelta(seconds=20)) == "just now"
    assert sla.describe_wait(timedelta(minutes=12)) == "12 min"
    assert sla.describe_wait(timedelta(hours=5, minutes=59)) == "5 h"
    assert sla.describe_wait(timedelta(days=1)) == "1 day"
    assert sla.describe_wait(timedelta(days=3, hours=2)) == "3 days 2 h"


def test_who_an_overdue_message_is_escalated_to() -> None:
    from shuttle.messages.queries import escalation_targets

    lead, co = "lead", "co"
    assert escalation_targets([lead, co], None) == [co]  # unclaimed: the lead holds it
    assert escalation_targets([lead, co], co) == [lead]  # the co-facilitator claimed it
    assert escalation_targets([lead], None) == []  # nobody else
    assert escalation_targets([lead, co], None, [lead]) == [co]  # the second approval is the co's
    assert escalation_targets([lead, co], None, [co]) == [lead]  # the co approved: only the lead can
    assert escalation_targets([], None) == []
