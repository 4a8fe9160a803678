"""What the author is shown about their own draft before they send it.

The same scan the facilitator sees runs on the draft, so the author learns before sending
that "this looks like a phone number; your facilitator will remove it". A watch-list hit is
shown too, but only as the words the author wrote themselves, with a neutral sentence: the
list itself (a street, a child's name) is never shown.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy.orm import Session

from shuttle import permissions
from shuttle.access import load_message
from shuttle.errors import NotFound
from shuttle.messages import authoring
from shuttle.messages.text import describe, scan
from shuttle.services import Actor, Services

WATCHED = ("This may identify a person or a place. Your facilitator will look at it and may remove it "
           "before the letter is passed on.")


def author_flags(text: str, watchlist: Sequence[str] = ()) -> list[dict[str, Any]]:
    """Pure: what the facilitator will see flagged in `text`, with a sentence for the author."""
    return [{"kind": f.kind, "text": f.text, "start": f.start, "end": f.end,
             "why": WATCHED if f.kind == "watchlist" else describe(f.kind)}
            for f in scan(text, tuple(watchlist))]


def text_flags(session: Session, svc: Services, actor: Actor, message_id: str, text: str) -> list[dict[str, Any]]:
    """`author_flags` with the case's watch list, for the message's author side only (404 otherwise)."""
    message, case, member = load_message(session, actor, message_id)
    if not permissions.is_author_side(member, message.author_side):
        raise NotFound()
    return author_flags(text, case.watchlist or ())


def flags_key(flags: list[dict[str, Any]]) -> str:
    """A short fingerprint of a set of flags: a page sends back the key of the flags it showed,
    so a letter is not sent with a flag its author has not seen."""
    payload = json.dumps(sorted((f["kind"], f["text"]) for f in flags), ensure_ascii=False)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:16]


def draft_flags(session: Session, svc: Services, actor: Actor, message_id: str) -> dict[str, Any]:
    """The author's saved draft (a letter, or a recording's transcript) scanned; 404 for anyone else."""
    flags = text_flags(session, svc, actor, message_id, authoring.read_draft(session, svc, actor, message_id))
    return {"flags": flags, "key": flags_key(flags)}
