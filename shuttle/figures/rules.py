"""The service's figures: periods, suppression and the arithmetic. Pure: no I/O, no clock of its own.

Suppression (so no figure can point at a person):

- A count under 5 (zero included) is shown as "fewer than 5" ("<5" in the CSV).
- In a table whose counts add up to a total, the total is hidden too ("not shown") when the total
  minus the shown counts would tell what a hidden count is: when exactly one count is hidden, or
  the hidden ones add up to 0 (each would be 0) or to 4 each (each would be 4). Otherwise only the
  sum of two or more hidden counts could be worked out, never one of them.
- A share or a median is shown only when it is computed from 5 or more (else "not enough answers
  to show"); the counts a share is made of are never shown beside it.
"""

from __future__ import annotations

import re
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from shuttle.i18n import N_, Sentence

#: Counts under this are not shown; shares and medians need at least this many.
THRESHOLD = 5
#: The page's words (marked for staff.po, translated where the page shows them); the CSV's stay English.
FEWER = N_("fewer than 5")
FEWER_CSV = "<5"
TOTAL_HIDDEN = N_("not shown")
TOTAL_HIDDEN_CSV = "not shown"
NOT_ENOUGH = N_("not enough answers to show")
NOT_ENOUGH_CSV = "not enough answers to show"
ALL_TIME = "all"

_QUARTER = re.compile(r"^(\d{4})Q([1-4])$")


class BadPeriod(ValueError):
    """Not a quarter like 2026Q4 (nor "all")."""


@dataclass(frozen=True)
class Period:
    """A quarter [start, end) in UTC, or all time (start and end None)."""

    key: str  # '2026Q4' | 'all'
    start: datetime | None
    end: datetime | None

    @property
    def label(self) -> str:
        """"October to December 2026 (quarter 4)": a Sentence, translated where the page shows it."""
        if self.start is None:
            return Sentence(N_("All time"))
        year, number = self.key.split("Q")
        return Sentence(N_("%(months)s %(year)s (quarter %(number)s)"), months=Sentence(_QUARTER_WORDS[int(number)]),
                        year=year, number=number)

    @property
    def last_day(self) -> date | None:
        return None if self.end is None else (self.end - timedelta(days=1)).date()

    def holds(self, moment: datetime | None) -> bool:
        if moment is None:
            return False
        if self.start is None or self.end is None:
            return True
        return self.start <= moment < self.end

    def holds_day(self, day: date) -> bool:
        return self.holds(datetime(day.year, day.month, day.day, tzinfo=UTC))


_QUARTER_WORDS = {1: N_("January to March"), 2: N_("April to June"), 3: N_("July to September"),
                  4: N_("October to December")}


def quarter_key(day: date) -> str:
    """'2026Q4' (the same spelling as the feedback answers' quarter)."""
    return f"{day.year}Q{(day.month - 1) // 3 + 1}"


def quarter(key: str) -> Period:
    found = _QUARTER.match(key)
    if found is None or not 2000 <= int(found.group(1)) <= 2999:
        raise BadPeriod(key)
    year, number = int(found.group(1)), int(found.group(2))
    start = datetime(year, 3 * number - 2, 1, tzinfo=UTC)
    end = datetime(year + 1, 1, 1, tzinfo=UTC) if number == 4 else datetime(year, 3 * number + 1, 1, tzinfo=UTC)
    return Period(key, start, end)


def period(raw: str | None, *, today: date) -> Period:
    """The period a request asks for: a quarter like 2026Q4, "all", or (nothing) the current quarter."""
    text = (raw or "").strip()
    if not text:
        return quarter(quarter_key(today))
    if text == ALL_TIME:
        return Period(ALL_TIME, None, None)
    return quarter(text.upper())


def recent_quarters(today: date, count: int = 8) -> list[str]:
    """The current quarter and the ones before it, newest first (the page's choices)."""
    year, number = today.year, (today.month - 1) // 3 + 1
    keys = []
    for _ in range(count):
        keys.append(f"{year}Q{number}")
        year, number = (year - 1, 4) if number == 1 else (year, number - 1)
    return keys


# --- suppression ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Shown:
    """A figure as the page shows it (`text`) and the CSV writes it (`csv`); `value` only when shown."""

    value: float | None
    text: str
    csv: str

    @property
    def shown(self) -> bool:
        return self.value is not None


def count_cell(n: int) -> Shown:
    if n < THRESHOLD:
        return Shown(None, FEWER, FEWER_CSV)
    return Shown(n, str(n), str(n))


def total_gives_away(hidden: Sequence[int]) -> bool:
    """Whether the total minus the shown counts (the sum of the hidden ones, each 0 to 4) would tell
    what one hidden count is: when only one is hidden, or they add up to 0 (all 0), or to 4 each."""
    return len(hidden) == 1 or (len(hidden) > 1 and sum(hidden) in (0, (THRESHOLD - 1) * len(hidden)))


def counts_with_total(counts: Sequence[int]) -> tuple[list[Shown], Shown]:
    """Each count (hidden under 5) and their total, hidden too when it would give a hidden count away."""
    cells = [count_cell(n) for n in counts]
    total = sum(counts)
    if total >= THRESHOLD and total_gives_away([n for n in counts if n < THRESHOLD]):
        return cells, Shown(None, TOTAL_HIDDEN, TOTAL_HIDDEN_CSV)
    return cells, count_cell(total)


def share_cell(part: int, base: int) -> Shown:
    """part/base as a whole percentage, shown only when base is 5 or more."""
    if base < THRESHOLD:
        return Shown(None, NOT_ENOUGH, NOT_ENOUGH_CSV)
    percent = round(100 * part / base)
    return Shown(percent, f"{percent}%", str(percent))


def median_cell(values: Sequence[float], unit: str) -> Shown:
    """The median (one decimal), shown only when computed from 5 or more values."""
    if len(values) < THRESHOLD:
        return Shown(None, NOT_ENOUGH, NOT_ENOUGH_CSV)
    middle = round(statistics.median(values), 1)
    return Shown(middle, Sentence(N_("%(value)s %(unit)s"), value=f"{middle:g}", unit=Sentence(unit)), f"{middle:g}")
