"""What the author is shown about their own draft before they send it.

The same contact-detail scan the facilitator sees runs on the draft, so the author learns
before sending that "this looks like a phone number; your facilitator will remove it".
The case's watch list is for staff only: its terms (a street, a child's name) are never
revealed to the author, so watch-list hits are not shown here.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from sqlalchemy.orm import Session

from shuttle.messages import authoring
from shuttle.messages.text import describe, scan
from shuttle.services import Actor, Services


def author_flags(text: str) -> list[dict[str, Any]]:
    """Pure: the contact details found in `text`, with a sentence for the author about each."""
    return [{"kind": f.kind, "text": f.text, "start": f.start, "end": f.end, "why": describe(f.kind)}
            for f in scan(text, ()) if f.kind != "watchlist"]


def flags_key(flags: list[dict[str, Any]]) -> str:
    """A short fingerprint of a set of flags: a page sends back the key of the flags it showed,
    so a letter is not sent with a flag its author has not seen."""
    payload = json.dumps(sorted((f["kind"], f["text"]) for f in flags), ensure_ascii=False)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:16]


def draft_flags(session: Session, svc: Services, actor: Actor, message_id: str) -> dict[str, Any]:
    """The author's saved draft (a letter, or a recording's transcript) scanned; 404 for anyone else."""
    flags = author_flags(authoring.read_draft(session, svc, actor, message_id))
    return {"flags": flags, "key": flags_key(flags)}
