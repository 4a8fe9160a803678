"""A facilitator's digest e-mail: counts of their work and the dashboard's address (never a name, a case
or anything of a message), in the language the facilitator chose for their account (issue 12).

Its own module so its words are extracted into the staff catalogue (babel-staff.cfg, staff.po), as a
participant's digest's are into messages.po (mail.py)."""

from __future__ import annotations

from dataclasses import dataclass

from shuttle import i18n
from shuttle.config import Settings
from shuttle.i18n import N_

STAFF_SUBJECT = N_("Your shuttle work today")
#: The body, line by line: marked for the catalogue here, translated when it is composed.
STAFF_LINES = (
    N_("Hello,"),
    "",
    N_("Your work on shuttle today:"),
    N_("- waiting for review in your cases: %(queue)s"),
    N_("- of those, past their review deadline: %(overdue)s"),
    N_("- passed to you because they are overdue with your co-facilitator: %(escalated)s"),
    "",
    N_("Your dashboard: %(dashboard)s"),
    "",
    N_("You can turn these e-mails off on your account page on shuttle."),
)


@dataclass(frozen=True)
class StaffCounts:
    """What a facilitator's digest counts (numbers only, never content)."""

    queue: int
    overdue: int
    escalated: int

    @property
    def anything(self) -> bool:
        return bool(self.queue or self.overdue or self.escalated)


def staff_words(settings: Settings, counts: StaffCounts, language: str | None = None) -> tuple[str, str]:
    """(subject, body) of a facilitator's digest: counts and the dashboard's address. In `language` (the
    account's choice), else in the language being rendered."""
    values = {"queue": counts.queue, "overdue": counts.overdue, "escalated": counts.escalated,
              "dashboard": f"{settings.public_base_url}/staff"}
    with i18n.using(i18n.known(language) or i18n.current()):
        lines = [i18n.gettext(line) % values if line else line for line in STAFF_LINES]
        return i18n.gettext(STAFF_SUBJECT), "\n".join(lines) + "\n"
