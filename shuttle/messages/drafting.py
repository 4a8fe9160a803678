"""What the author is shown about their own draft before they send it.

The same contact-detail scan the facilitator sees runs on the draft, so the author learns
before sending that "this looks like a phone number". Only flags computed from the author's
own words alone are shown (phone numbers, e-mail addresses, links, postcodes, handles): they
reveal nothing the author does not know.

The case's watch list (the victim's street, school, new name) is never used here. If the
author's answer changed when their words contained a watch-list term, a responsible person
could probe the list one draft at a time (invariant 10). Watch-list hits are found by the
worker and shown to staff only.

Flag checks through the API are also rate-limited per person (`FLAG_CHECKS`), so that the
endpoint cannot be used as a fast scanning service either.
"""

from __future__ import annotations

import hashlib
import json
import math
import threading
from collections import deque
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from shuttle import permissions
from shuttle.access import load_message
from shuttle.errors import NotFound, TooManyRequests
from shuttle.messages import authoring
from shuttle.messages.text import describe, scan
from shuttle.messages.views import for_member
from shuttle.services import Actor, Services
from storage.store import StoredObject


def author_flags(text: str) -> list[dict[str, Any]]:
    """Pure: the contact details in `text`, each with a sentence for the author. Never the watch list."""
    return [{"kind": f.kind, "text": f.text, "start": f.start, "end": f.end, "why": describe(f.kind)}
            for f in scan(text)]


def text_flags(session: Session, svc: Services, actor: Actor, message_id: str, text: str) -> list[dict[str, Any]]:
    """`author_flags`, for the person who writes the message only (404 otherwise)."""
    message, _, member = load_message(session, actor, message_id)
    if not permissions.may_change_message(member, author_side=message.author_side,
                                          author_participant_id=message.author_participant_id):
        raise NotFound()
    return author_flags(text)


def flags_key(flags: list[dict[str, Any]]) -> str:
    """A short fingerprint of a set of flags: a page sends back the key of the flags it showed,
    so a letter is not sent with a flag its author has not seen."""
    payload = json.dumps(sorted((f["kind"], f["text"]) for f in flags), ensure_ascii=False)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:16]


# --- rate limit ------------------------------------------------------------------------------------


class TooManyChecks(TooManyRequests):
    """Checked too often; `retry_after` whole seconds until the next check is allowed."""

    def __init__(self, retry_after: int) -> None:
        minutes = max(1, math.ceil(retry_after / 60))
        super().__init__(f"You have checked for contact details very often. Your words are saved; "
                         f"they can be checked again in {minutes} minute{'' if minutes == 1 else 's'}.")
        self.retry_after = retry_after


class Throttle:
    """At most `limit` events per key in any `window`, counted in this process.

    In memory rather than in the database: a flag check is a GET, and a GET never writes.
    With several web processes each counts on its own, which still bounds every person.
    """

    MAX_KEYS = 10_000

    def __init__(self, *, limit: int, window: timedelta) -> None:
        self.limit, self.window = limit, window
        self._seen: dict[str, deque[datetime]] = {}
        self._lock = threading.Lock()

    def take(self, key: str, now: datetime) -> None:
        """Count one event for `key`, or raise TooManyChecks without counting it."""
        with self._lock:
            if len(self._seen) > self.MAX_KEYS:
                self._forget_idle(now)
            times = self._seen.setdefault(key, deque())
            while times and times[0] <= now - self.window:
                times.popleft()
            if len(times) >= self.limit:
                free_at = times[len(times) - self.limit] + self.window
                raise TooManyChecks(max(1, math.ceil((free_at - now).total_seconds())))
            times.append(now)

    def _forget_idle(self, now: datetime) -> None:
        for key in [k for k, times in self._seen.items() if not times or times[-1] <= now - self.window]:
            del self._seen[key]


#: Autosave checks a few seconds after typing stops: 30 a minute is more than anyone types.
FLAG_CHECKS = Throttle(limit=30, window=timedelta(minutes=1))


def draft_flags(session: Session, svc: Services, actor: Actor, message_id: str) -> dict[str, Any]:
    """The author's saved draft (a letter, or a recording's transcript) scanned; 404 for anyone
    else; TooManyChecks when this person has checked too often."""
    text = authoring.read_draft(session, svc, actor, message_id)  # 404 before counting: nothing to learn
    flags = author_flags(text)
    FLAG_CHECKS.take(actor.account_id or "", svc.now())
    return {"flags": flags, "key": flags_key(flags)}


# --- autosave --------------------------------------------------------------------------------------


def autosave(session: Session, svc: Services, actor: Actor, message_id: str, text: str, *,
             expected_version: int | None = None, sealed: StoredObject | None = None) -> dict[str, Any]:
    """The autosave of the API (PUT /messages/{id}/draft): the draft saved and the message's view
    for the answer, in one unit of work. With `sealed` (the text encrypted and written beforehand
    by `authoring.seal_draft`, outside any transaction) the save's unit of work holds the
    database's write lock (SQLite's, for the whole service) only for the rows it changes."""
    message, case, member = authoring.save_draft_in_case(session, svc, actor, message_id, text,
                                                         expected_version=expected_version, sealed=sealed)
    return for_member(session, svc, member, message, case)
