"""Recording and verifying the hash-chained audit log (invariant 8).

Each event's hash covers all its fields and the previous event's hash, so editing,
deleting, inserting or reordering any row breaks the chain from that row on, and `verify`
names the first broken `seq`. (Cutting events off the END of the chain leaves a shorter
valid chain: detecting that needs the latest hash kept somewhere else, e.g. exported
periodically.)

`record` runs in the caller's transaction, so an event exists iff the change it accounts
for commits. Appends are serialized so that two transactions never both link to the same
previous event (a fork): PostgreSQL takes a transaction-scoped advisory lock before reading
the last event; SQLite transactions already begin with BEGIN IMMEDIATE (one writer).
The lock is held until the caller commits: call `record` late in short transactions.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
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
    clean_details = _normalise_details(details)
    _lock_chain(session)
    session.flush()  # earlier events of this same transaction count as "last"
    last = session.execute(
        select(AuditEvent.seq, AuditEvent.hash).order_by(AuditEvent.seq.desc()).limit(1)
    ).first()
    seq, prev_hash = (last.seq + 1, last.hash) if last is not None else (1, GENESIS_HASH)
    event = AuditEvent(
        seq=seq,
        at=at,
        actor_id=actor_id,
        actor_role=actor_role,
        action=action,
        case_id=case_id,
        subject_type=subject_type,
        subject_id=subject_id,
        details=clean_details,
        prev_hash=prev_hash,
    )
    event.hash = _hash_of(event)
    session.add(event)
    session.flush()
    return event


def verify(session: Session) -> VerifyResult:
    """Walk the whole chain in seq order, streaming, and report the first broken event."""
    stmt = select(AuditEvent).order_by(AuditEvent.seq).execution_options(yield_per=VERIFY_BATCH)
    events = session.scalars(stmt)
    try:
        return _walk(session, events)
    finally:
        events.close()  # a server-side cursor on PostgreSQL: close it on an early return too


def _walk(session: Session, events: Iterable[AuditEvent]) -> VerifyResult:
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
        if problem is not None:
            return VerifyResult(
                ok=False, checked=checked, first_broken_seq=event.seq, reason=problem
            )
        checked += 1
        expected_seq = event.seq + 1
        prev_hash = event.hash
        session.expunge(event)  # keep memory flat on long chains
    return VerifyResult(ok=True, checked=checked, first_broken_seq=None, reason=None)


def events_for_case(session: Session, case_id: str) -> list[AuditEvent]:
    """A case's events in chain order, for the facilitator's history view."""
    return list(
        session.scalars(
            select(AuditEvent).where(AuditEvent.case_id == case_id).order_by(AuditEvent.seq)
        )
    )
