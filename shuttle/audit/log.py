"""Recording and verifying the hash-chained audit log (invariant 8).

Each event's hash covers all its fields and the previous event's hash, so editing,
deleting, inserting or reordering any row breaks the chain from that row on, and `verify`
names the first broken `seq`. Cutting events off the END of the chain leaves a shorter
valid chain, and whoever can write the table can also rewrite a row and recompute every
later hash: both are detected only against a chain head kept outside the database. So the
head (seq and hash) is published (`shuttle audit head`; the worker's periodic tick appends
it to SHUTTLE_AUDIT_HEAD_FILE) and `verify(against=heads)` checks the chain still holds
every published head (docs/deployment.md says where to keep them).

`record` runs in the caller's transaction, so an event exists iff the change it accounts
for commits. Appends are serialized so that two transactions never both link to the same
previous event (a fork): PostgreSQL takes a transaction-scoped advisory lock before reading
the last event; SQLite transactions already begin with BEGIN IMMEDIATE (one writer).
The lock is held until the caller commits, and every writer of any event waits for it: so
`record` does all it can before taking it (checks the details, formats the fields, flushes the
caller's pending changes) and under it only reads the last event, hashes and inserts. Call
`record` last in short transactions: whatever the caller does after it runs under the lock.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from shuttle.audit.models import AuditEvent
from shuttle.db import utcnow

GENESIS_HASH = "0" * 64
# pg_advisory_xact_lock key for "appending to the audit chain" (ASCII "shAUDITc").
CHAIN_LOCK_KEY = 0x7368_4155_4449_5463
MAX_DETAILS_CHARS = 4000
# Keys that would carry message content: refused so content never lands in the log.
CONTENT_KEYS = frozenset({"body", "content", "text", "plaintext", "transcript"})
VERIFY_BATCH = 1000


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    checked: int  # events found intact, in order, before the first broken one (all when ok)
    first_broken_seq: int | None
    reason: str | None


def format_at(at: datetime) -> str:
    """Fixed ISO form, microseconds, UTC: hashes the same before and after a DB round trip."""
    if at.tzinfo is None:
        raise ValueError("naive datetime in the audit log")
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def event_hash(
    *,
    seq: int,
    at: datetime,
    actor_id: str | None,
    actor_role: str,
    action: str,
    case_id: str | None,
    subject_type: str | None,
    subject_id: str | None,
    details: Mapping[str, Any],
    prev_hash: str,
) -> str:
    """sha256 over the canonical JSON of every field, the previous hash included."""
    canonical = json.dumps(
        {
            "seq": seq,
            "at": format_at(at),
            "actor_id": actor_id,
            "actor_role": actor_role,
            "action": action,
            "case_id": case_id,
            "subject_type": subject_type,
            "subject_id": subject_id,
            "details": details,
            "prev_hash": prev_hash,
        },
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=True,
        allow_nan=False,
    )
    return hashlib.sha256(canonical.encode("ascii")).hexdigest()


def _hash_of(event: AuditEvent) -> str:
    return event_hash(
        seq=event.seq,
        at=event.at,
        actor_id=event.actor_id,
        actor_role=event.actor_role,
        action=event.action,
        case_id=event.case_id,
        subject_type=event.subject_type,
        subject_id=event.subject_id,
        details=event.details,
        prev_hash=event.prev_hash,
    )


def _intact(event: AuditEvent) -> bool:
    try:
        return _hash_of(event) == event.hash
    except (TypeError, ValueError, AttributeError):  # a field edited into something unhashable
        return False


def _content_keys(value: Any) -> Iterable[str]:
    if isinstance(value, dict):
        for key, inner in value.items():
            if str(key).lower() in CONTENT_KEYS:
                yield str(key)
            yield from _content_keys(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from _content_keys(inner)


def _normalise_details(details: Mapping[str, Any] | None) -> dict[str, Any]:
    """Exactly what the database will give back (JSON types only), so the hash survives it."""
    encoded = json.dumps(dict(details or {}), sort_keys=True, allow_nan=False)
    if len(encoded) > MAX_DETAILS_CHARS:
        raise ValueError("audit details too large: record ids and facts, not content")
    normalised: dict[str, Any] = json.loads(encoded)
    refused = sorted(set(_content_keys(normalised)))
    if refused:
        raise ValueError(f"audit details must not carry content (keys: {', '.join(refused)})")
    return normalised


def _lock_chain(session: Session) -> None:
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": CHAIN_LOCK_KEY})
    # SQLite: this transaction began with BEGIN IMMEDIATE and is the only writer.


def record(
    session: Session,
    *,
    action: str,
    actor_id: str | None = None,
    actor_role: str = "system",
    case_id: str | None = None,
    subject_type: str | None = None,
    subject_id: str | None = None,
    details: Mapping[str, Any] | None = None,
    now: datetime | None = None,
) -> AuditEvent:
    """Append one event to the chain in the CALLER's transaction (no commit)."""
    if not action:
        raise ValueError("an audit event needs an action")
    at = now or utcnow()
    format_at(at)  # refuses naive datetimes before anything is written
    event = AuditEvent(
        at=at,
        actor_id=actor_id,
        actor_role=actor_role,
        action=action,
        case_id=case_id,
        subject_type=subject_type,
        subject_id=subject_id,
        details=_normalise_details(details),
    )
    # The caller's pending changes (and earlier events of this transaction) are written now,
    # before the lock: under it, every other writer of the chain waits.
    session.flush()
    _lock_chain(session)
    last = session.execute(
        select(AuditEvent.seq, AuditEvent.hash).order_by(AuditEvent.seq.desc()).limit(1)
    ).first()
    event.seq, event.prev_hash = (last.seq + 1, last.hash) if last is not None else (1, GENESIS_HASH)
    event.hash = _hash_of(event)
    session.add(event)
    session.flush()
    return event


@dataclass(frozen=True)
class ChainHead:
    """The last event's seq and hash: published, it pins everything before it."""

    seq: int
    hash: str

    def line(self, at: datetime | None = None) -> str:
        """One line of a head file: `seq hash at`."""
        return f"{self.seq} {self.hash} {format_at(at or utcnow())}"


def head(session: Session) -> ChainHead:
    """The chain's head now (seq 0 and the genesis hash for an empty log)."""
    last = session.execute(
        select(AuditEvent.seq, AuditEvent.hash).order_by(AuditEvent.seq.desc()).limit(1)
    ).first()
    return ChainHead(last.seq, last.hash) if last is not None else ChainHead(0, GENESIS_HASH)


def read_heads(path: Path) -> list[ChainHead]:
    """The heads in a head file (lines `seq hash [at]`; blank lines and # comments skipped)."""
    heads = []
    for number, raw in enumerate(Path(path).read_text(encoding="ascii").splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split()
        if len(parts) < 2 or not parts[0].isascii() or not parts[0].isdigit() or len(parts[1]) != 64:
            raise ValueError(f"{path}, line {number}: not `seq hash`")
        heads.append(ChainHead(int(parts[0]), parts[1].lower()))
    return heads


def publish_head(session: Session, path: Path) -> ChainHead | None:
    """Append the head to `path` when it moved since the last line there; returns it if written.

    Opened O_APPEND and fsynced: on an append-only file (chattr +a) or a log shipped elsewhere
    nothing earlier can be rewritten by this process."""
    current = head(session)
    target = Path(path)
    previous = read_heads(target)[-1:] if target.exists() else []
    if previous and previous[0] == current:
        return None
    fd = os.open(target, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o640)
    try:
        os.write(fd, (current.line() + "\n").encode("ascii"))
        os.fsync(fd)
    finally:
        os.close(fd)
    return current


def verify(session: Session, *, against: Iterable[ChainHead] = ()) -> VerifyResult:
    """Walk the whole chain in seq order, streaming, and report the first broken event; with
    `against`, every published head must still be in the chain, with its hash."""
    stmt = select(AuditEvent).order_by(AuditEvent.seq).execution_options(yield_per=VERIFY_BATCH)
    events = session.scalars(stmt)
    try:
        return _walk(session, events, {h.seq: h.hash for h in against if h.seq > 0})
    finally:
        events.close()  # a server-side cursor on PostgreSQL: close it on an early return too


def _walk(session: Session, events: Iterable[AuditEvent], published: dict[int, str] | None = None) -> VerifyResult:
    published = published or {}
    expected_seq = 1
    prev_hash = GENESIS_HASH
    checked = 0
    for event in events:
        problem: str | None = None
        if event.seq != expected_seq:
            problem = f"seq gap: expected {expected_seq}, found {event.seq} (events deleted)"
        elif event.prev_hash != prev_hash:
            problem = "prev_hash does not match the previous event's hash"
        elif not _intact(event):
            problem = "hash does not match the event's contents (edited)"
        elif published.get(event.seq, event.hash) != event.hash:
            problem = ("hash differs from the published head: this or an earlier event was rewritten "
                       "and the later hashes recomputed")
        if problem is not None:
            return VerifyResult(
                ok=False, checked=checked, first_broken_seq=event.seq, reason=problem
            )
        checked += 1
        expected_seq = event.seq + 1
        prev_hash = event.hash
        session.expunge(event)  # keep memory flat on long chains
    beyond = max(published, default=0)
    if beyond >= expected_seq:
        return VerifyResult(ok=False, checked=checked, first_broken_seq=expected_seq,
                            reason=f"the chain ends at event {expected_seq - 1} but a head at event {beyond} "
                                   "was published: events were deleted from the end")
    return VerifyResult(ok=True, checked=checked, first_broken_seq=None, reason=None)


def events_for_case(session: Session, case_id: str) -> list[AuditEvent]:
    """A case's events in chain order, for the facilitator's history view."""
    return list(
        session.scalars(
            select(AuditEvent).where(AuditEvent.case_id == case_id).order_by(AuditEvent.seq)
        )
    )
