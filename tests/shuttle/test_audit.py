"""The hash-chained audit log (invariant 8) on SQLite and PostgreSQL: tampering is detected."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import bindparam, insert, select, text

from shuttle.audit import log
from shuttle.audit.models import AuditEvent
from shuttle.db import Database, UTCDateTime

T0 = datetime(2026, 3, 1, 9, 30, 15, 123456, tzinfo=UTC)


def _fill(db: Database, n: int = 5) -> None:
    with db.uow() as uow:
        for i in range(n):
            log.record(
                uow.session,
                action="message.approve" if i % 2 else "message.view_content",
                actor_id=f"staff{i}",
                actor_role="facilitator",
                case_id="case-a" if i < 3 else "case-b",
                subject_type="message",
                subject_id=f"m{i}",
                details={"version": i, "note_len": 12.5, "flags": ["x", "ü"]},
                now=T0 + timedelta(seconds=i),
            )
        uow.commit()


def _verify(db: Database) -> log.VerifyResult:
    with db.uow() as uow:
        return log.verify(uow.session)


def test_an_empty_log_verifies(database: Database) -> None:
    assert _verify(database) == log.VerifyResult(
        ok=True, checked=0, first_broken_seq=None, reason=None
    )


def test_events_chain_from_genesis_and_verify_after_a_round_trip(database: Database) -> None:
    _fill(database, 5)
    with database.uow() as uow:
        events = list(uow.session.scalars(select(AuditEvent).order_by(AuditEvent.seq)))
        uow.session.expunge_all()  # stay readable after the unit of work rolls back
    assert [e.seq for e in events] == [1, 2, 3, 4, 5]
    assert events[0].prev_hash == log.GENESIS_HASH
    for before, after in zip(events, events[1:], strict=False):
        assert after.prev_hash == before.hash
    assert events[0].at == T0
    assert events[0].details == {"version": 0, "note_len": 12.5, "flags": ["x", "ü"]}
    assert _verify(database) == log.VerifyResult(
        ok=True, checked=5, first_broken_seq=None, reason=None
    )


def test_a_non_utc_timestamp_hashes_the_same_after_a_round_trip(database: Database) -> None:
    paris = timezone(timedelta(hours=1))
    with database.uow() as uow:
        log.record(
            uow.session, action="case.open", now=datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=paris)
        )
        log.record(uow.session, action="case.pause")  # default time: now
        uow.commit()
    assert _verify(database).ok


def test_the_caller_transaction_decides_whether_the_event_exists(database: Database) -> None:
    with database.uow() as uow:
        log.record(uow.session, action="message.approve")
        # rolled back: the change it accounted for did not happen either
    _fill(database, 1)
    assert _verify(database).checked == 1


def test_a_system_event_has_no_actor(database: Database) -> None:
    with database.uow() as uow:
        event = log.record(uow.session, action="job.dead", subject_type="job", subject_id="j1")
        uow.commit()
    assert (event.actor_id, event.actor_role, event.details) == (None, "system", {})


@pytest.mark.parametrize(
    "details",
    [
        {"body": "dear ..."},
        {"edit": {"Content": "x"}},
        {"items": [{"text": "y"}]},
        {"blob": "a" * 5000},
    ],
)
def test_details_refuse_message_content(database: Database, details: dict[str, Any]) -> None:
    with database.uow() as uow, pytest.raises(ValueError):
        log.record(uow.session, action="message.edit", details=details)


def test_naive_timestamps_are_refused(database: Database) -> None:
    with database.uow() as uow, pytest.raises(ValueError):
        log.record(uow.session, action="x", now=datetime(2026, 1, 1))


def test_the_orm_refuses_to_rewrite_history(database: Database) -> None:
    _fill(database, 2)
    with database.uow() as uow:
        event = uow.session.get(AuditEvent, 1)
        assert event is not None
        event.action = "nothing.happened"
        with pytest.raises(RuntimeError):
            uow.session.flush()


@pytest.mark.parametrize(
    "tamper",
    [
        "UPDATE audit_events SET action = 'message.reject' WHERE seq = 3",
        "UPDATE audit_events SET actor_id = NULL WHERE seq = 3",
        "UPDATE audit_events SET subject_id = 'm9' WHERE seq = 3",
        "UPDATE audit_events SET at = :at WHERE seq = 3",
        "UPDATE audit_events SET details = '{\"version\": 99}' WHERE seq = 3",
    ],
)
def test_an_edited_row_is_named(database: Database, tamper: str) -> None:
    _fill(database, 5)
    stmt = text(tamper)
    if ":at" in tamper:  # one microsecond later, bound through the column's own type
        stmt = stmt.bindparams(
            bindparam("at", T0 + timedelta(seconds=2, microseconds=1), type_=UTCDateTime)
        )
    with database.uow() as uow:
        uow.session.execute(stmt)
        uow.commit()
    result = _verify(database)
    assert (result.ok, result.first_broken_seq, result.checked) == (False, 3, 2)
    assert result.reason is not None and "edited" in result.reason


def test_an_edited_row_with_a_recomputed_hash_breaks_the_next_link(database: Database) -> None:
    _fill(database, 5)
    with database.uow() as uow:
        event = uow.session.get(AuditEvent, 3)
        assert event is not None
        forged = log.event_hash(
            seq=3,
            at=event.at,
            actor_id=event.actor_id,
            actor_role=event.actor_role,
            action="message.reject",
            case_id=event.case_id,
            subject_type=event.subject_type,
            subject_id=event.subject_id,
            details=event.details,
            prev_hash=event.prev_hash,
        )
        uow.session.execute(
            text("UPDATE audit_events SET action = 'message.reject', hash = :h WHERE seq = 3"),
            {"h": forged},
        )
        uow.commit()
    result = _verify(database)
    assert (result.ok, result.first_broken_seq) == (False, 4)
    assert result.reason is not None and "prev_hash" in result.reason


def test_a_deleted_middle_row_is_detected(database: Database) -> None:
    _fill(database, 5)
    with database.uow() as uow:
        uow.session.execute(text("DELETE FROM audit_events WHERE seq = 3"))
        uow.commit()
    result = _verify(database)
    assert (result.ok, result.first_broken_seq, result.checked) == (False, 4, 2)
    assert result.reason is not None and "gap" in result.reason


def test_a_deleted_first_row_is_detected(database: Database) -> None:
    _fill(database, 3)
    with database.uow() as uow:
        uow.session.execute(text("DELETE FROM audit_events WHERE seq = 1"))
        uow.commit()
    assert _verify(database).first_broken_seq == 2


def test_deleting_and_renumbering_is_detected(database: Database) -> None:
    _fill(database, 5)
    with database.uow() as uow:
        uow.session.execute(text("DELETE FROM audit_events WHERE seq = 3"))
        uow.session.execute(text("UPDATE audit_events SET seq = seq - 1 WHERE seq > 3"))
        uow.commit()
    result = _verify(database)
    assert (result.ok, result.first_broken_seq) == (False, 3)


def test_swapped_rows_are_detected(database: Database) -> None:
    _fill(database, 5)
    with database.uow() as uow:
        uow.session.execute(text("UPDATE audit_events SET seq = 100 WHERE seq = 2"))
        uow.session.execute(text("UPDATE audit_events SET seq = 2 WHERE seq = 3"))
        uow.session.execute(text("UPDATE audit_events SET seq = 3 WHERE seq = 100"))
        uow.commit()
    result = _verify(database)
    assert (result.ok, result.first_broken_seq) == (False, 2)


def test_an_inserted_row_is_detected_even_with_a_valid_hash(database: Database) -> None:
    _fill(database, 4)
    with database.uow() as uow:
        prev = uow.session.get(AuditEvent, 2)
        assert prev is not None
        prev_hash = prev.hash
        for seq in (4, 3):  # make room at 3, highest first (primary key)
            uow.session.execute(
                text("UPDATE audit_events SET seq = :n WHERE seq = :o"), {"n": seq + 1, "o": seq}
            )
        at = T0 + timedelta(seconds=2, microseconds=500)
        forged: dict[str, Any] = dict(
            seq=3,
            at=at,
            actor_id="intruder",
            actor_role="facilitator",
            action="message.approve",
            case_id="case-a",
            subject_type="message",
            subject_id="m9",
            details={},
            prev_hash=prev_hash,
        )
        uow.session.execute(insert(AuditEvent).values(**forged, hash=log.event_hash(**forged)))
        uow.commit()
    result = _verify(database)
    assert (result.ok, result.first_broken_seq, result.checked) == (False, 4, 3)


def test_events_for_case_in_chain_order(database: Database) -> None:
    _fill(database, 5)
    with database.uow() as uow:
        a = log.events_for_case(uow.session, "case-a")
        b = log.events_for_case(uow.session, "case-b")
        none = log.events_for_case(uow.session, "case-z")
        uow.session.expunge_all()
    assert [e.seq for e in a] == [1, 2, 3]
    assert [e.seq for e in b] == [4, 5]
    assert none == []


def test_verify_streams_a_long_chain(database: Database) -> None:
    with database.uow() as uow:
        for i in range(2 * log.VERIFY_BATCH + 7):
            log.record(uow.session, action="job.done", subject_type="job", subject_id=str(i))
        uow.commit()
    result = _verify(database)
    assert (result.ok, result.checked) == (True, 2 * log.VERIFY_BATCH + 7)


@pytest.mark.committing  # several connections at once
def test_concurrent_appends_do_not_fork_the_chain(database: Database) -> None:
    """Several transactions appending at once (and some rolling back) keep one gapless chain."""
    threads_n, per_thread = 6, 15
    errors: list[BaseException] = []
    start = threading.Barrier(threads_n)

    def append(worker: int) -> None:
        try:
            start.wait()
            for i in range(per_thread):
                with database.uow() as uow:
                    log.record(
                        uow.session,
                        action="message.view_content",
                        actor_id=f"t{worker}",
                        actor_role="facilitator",
                        subject_type="message",
                        subject_id=str(i),
                    )
                    if i % 5 == 4:
                        continue  # rolled back: leaves no gap behind
                    log.record(
                        uow.session,
                        action="message.approve",
                        actor_id=f"t{worker}",
                        actor_role="facilitator",
                        subject_type="message",
                        subject_id=str(i),
                    )
                    uow.commit()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=append, args=(n,)) for n in range(threads_n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    committed = threads_n * (per_thread - per_thread // 5) * 2
    result = _verify(database)
    assert (result.ok, result.checked) == (True, committed)
    with database.uow() as uow:
        seqs = list(uow.session.scalars(select(AuditEvent.seq).order_by(AuditEvent.seq)))
    assert seqs == list(range(1, committed + 1))


# --- the published chain head: an anchor outside the database ------------------------------


def _head(db: Database) -> log.ChainHead:
    with db.uow() as uow:
        return log.head(uow.session)


def _verify_against(db: Database, heads: list[log.ChainHead]) -> log.VerifyResult:
    with db.uow() as uow:
        return log.verify(uow.session, against=heads)


def test_deleting_the_last_rows_is_detected_against_a_published_head(database: Database) -> None:
    _fill(database, 5)
    published = _head(database)
    assert published.seq == 5 and len(published.hash) == 64
    assert _verify_against(database, [published]).ok
    with database.uow() as uow:
        uow.session.execute(text("DELETE FROM audit_events WHERE seq >= 4"))
        uow.commit()
    assert _verify(database).ok  # the shorter chain is valid on its own ...
    result = _verify_against(database, [published])  # ... but not against what was published
    assert not result.ok and result.reason is not None and "published" in result.reason


def test_a_rewritten_row_with_every_later_hash_recomputed_is_detected_against_a_published_head(
        database: Database) -> None:
    _fill(database, 5)
    published = _head(database)
    with database.uow() as uow:  # rewrite seq 2 and re-chain everything after it
        events = list(uow.session.scalars(select(AuditEvent).order_by(AuditEvent.seq)))
        prev = events[0].hash
        for event in events[1:]:
            action = "message.reject" if event.seq == 2 else event.action
            forged = log.event_hash(seq=event.seq, at=event.at, actor_id=event.actor_id,
                                    actor_role=event.actor_role, action=action, case_id=event.case_id,
                                    subject_type=event.subject_type, subject_id=event.subject_id,
                                    details=event.details, prev_hash=prev)
            uow.session.execute(text("UPDATE audit_events SET action = :a, prev_hash = :p, hash = :h "
                                     "WHERE seq = :s"), {"a": action, "p": prev, "h": forged, "s": event.seq})
            prev = forged
        uow.commit()
    assert _verify(database).ok  # a perfect forgery on its own
    result = _verify_against(database, [published])
    assert (result.ok, result.first_broken_seq) == (False, 5)


def test_publishing_appends_the_head_only_when_it_moved(database: Database, tmp_path) -> None:  # type: ignore[no-untyped-def]
    target = tmp_path / "heads.log"
    _fill(database, 2)
    for _ in range(2):
        with database.uow() as uow:
            log.publish_head(uow.session, target)
    _fill(database, 1)
    with database.uow() as uow:
        log.publish_head(uow.session, target)
    heads = log.read_heads(target)
    assert [h.seq for h in heads] == [2, 3]
    assert _verify_against(database, heads).ok
