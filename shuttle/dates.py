"""How a date reads on every page, for participants and staff alike: "Tuesday 1 December 2026".

One format for the whole product (issue 12), in the reader's language: "Dydd Mawrth 1 Rhagfyr 2026"
in Welsh (Babel's CLDR names). Times are stored in UTC; the day is the UTC day (the service does not
know where its reader is, and a day is what these sentences name). The language is the one given, or
else the one the page is being rendered in (shuttle.i18n).
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from babel.dates import format_date

from shuttle import i18n

#: Babel (CLDR) locales for the service's languages: British English, Welsh.
BABEL_LOCALES = {"en": "en_GB", "cy": "cy"}


def on_day(value: datetime | date | None, locale: str | None = None) -> str | None:
    """A date in words, "Tuesday 1 December 2026" ("Dydd Mawrth 1 Rhagfyr 2026"); None when there is none."""
    if value is None:
        return None
    if isinstance(value, datetime):
        value = (value.astimezone(UTC) if value.tzinfo is not None else value).date()
    language = i18n.known(locale) or i18n.current()
    return format_date(value, "EEEE d MMMM y", locale=BABEL_LOCALES[language])
