"""How a date reads on every page, for participants and staff alike: "Tuesday 1 December 2026".

One format for the whole product (issue 12). Pure. Times are stored in UTC; the day is the UTC
day (the service does not know where its reader is, and a day is what these sentences name).
"""

from __future__ import annotations

from datetime import UTC, date, datetime


def on_day(value: datetime | date | None) -> str | None:
    """A date in words, "Tuesday 1 December 2026"; None when there is none."""
    if value is None:
        return None
    if isinstance(value, datetime):
        value = (value.astimezone(UTC) if value.tzinfo is not None else value).date()
    return f"{value:%A} {value.day} {value:%B %Y}"
