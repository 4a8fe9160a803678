"""How a case's messages are named to staff: "Letter 1", "Video 2". One rule, every page.

Pure. A message gets its number when it is first sent to the facilitators (an unsent draft is
private and has none), in the order messages were first sent, so a number never changes once
given and the case table, the timeline and the review page agree.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from shuttle.i18n import N_, Sentence

#: Marked for staff.po (babel-staff.cfg); pages translate them where they show them.
KIND_NAMES = {"letter": N_("Letter"), "audio": N_("Recording"), "video": N_("Video"),
              "image": N_("Photographed letter")}


@dataclass(frozen=True)
class Numbered:
    id: str
    kind: str
    first_submitted_at: datetime | None
    created_at: datetime


def message_names(messages: Iterable[Numbered]) -> dict[str, str]:
    """Each sent message's name; messages never sent are left out."""
    sent = sorted((m for m in messages if m.first_submitted_at is not None),
                  key=lambda m: (m.first_submitted_at, m.created_at, m.id))
    return {m.id: Sentence(N_("%(kind)s %(number)s"), kind=Sentence(KIND_NAMES.get(m.kind, N_("Message"))), number=n)
            for n, m in enumerate(sent, 1)}
