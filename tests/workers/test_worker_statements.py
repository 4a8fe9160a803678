"""A letter job runs in a few short transactions: at most 10 statements and one commit each.

The worker's share of the database is what limits how many workers can share one queue: every
statement is a round trip, every commit a flush to disk, and every audit event holds the one
chain lock until its transaction commits. So each phase of a letter job (claim, start, finish)
is one transaction that commits once, and nothing else opens a transaction (no read-only
look-ups, no check afterwards that the job was completed).

Counted on a real engine (PostgreSQL with real commits, hence `committing`), with SQLAlchemy's
cursor events: every statement sent to the database, the SQLite `BEGIN IMMEDIATE` included.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest
from sqlalchemy import Engine, event, select
from world import World

from shuttle.audit import log as audit
from shuttle.jobs.models import Job
from shuttle.messages import authoring
from shuttle.messages.models import Message
from shuttle.services import Services
from workers.handlers import build_worker

MAX_STATEMENTS_PER_PHASE = 10
PHASES = ("claim", "start", "finish")

pytestmark = pytest.mark.committing  # real commits on PostgreSQL, not savepoints in one transaction


@dataclass
class Transaction:
    statements: list[str] = field(default_factory=list)
    outcome: str = "open"  # commit | rollback | open


@dataclass
class Counter:
    transactions: list[Transaction] = field(default_factory=list)
    checkouts: int = 0

    def current(self) -> Transaction:
        if not self.transactions or self.transactions[-1].outcome != "open":
            self.transactions.append(Transaction())
        return self.transactions[-1]

    @property
    def written(self) -> list[Transaction]:
        """Transactions that sent anything (a pool reset of an unused connection is not one)."""
        return [t for t in self.transactions if t.statements]


@contextmanager
def counting(engine: Engine) -> Iterator[Counter]:
    counter = Counter()

    def on_statement(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        counter.current().statements.append(" ".join(statement.split())[:120])

    def on_commit(_conn: Any) -> None:
        counter.current().outcome = "commit"

    def on_rollback(_conn: Any) -> None:
        if counter.transactions and counter.transactions[-1].outcome == "open":
            counter.transactions[-1].outcome = "rollback"

    def on_checkout(*_args: Any) -> None:
        counter.checkouts += 1

    listeners = [(engine, "before_cursor_execute", on_statement), (engine, "commit", on_commit),
                 (engine, "rollback", on_rollback), (engine.pool, "checkout", on_checkout)]
    for target, name, fn in listeners:
        event.listen(target, name, fn)
    try:
        yield counter
    finally:
        for target, name, fn in listeners:
            event.remove(target, name, fn)


def _submitted_letter(svc: Services, text: str = "Dear Sam, call me on 07700 900123.") -> str:
    world = World(svc)
    case_id, p = world.case()
    draft = world.do(authoring.start_draft, p.harmed, case_id, text)
    world.do(authoring.submit, p.harmed, draft.id)
    return str(draft.id)


def _describe(counter: Counter) -> str:
    return "\n".join(f"transaction {n} ({t.outcome}, {len(t.statements)} statements):\n    "
                     + "\n    ".join(t.statements) for n, t in enumerate(counter.written, 1))


def test_each_phase_of_a_letter_job_is_one_short_transaction_that_commits_once(svc: Services) -> None:
    message_id = _submitted_letter(svc)
    worker = build_worker(svc, worker_id="counted")
    with counting(svc.db.engine) as counter:
        assert worker.run_once()
    transactions = counter.written
    assert [t.outcome for t in transactions] == ["commit"] * len(PHASES), _describe(counter)
    for transaction in transactions:
        assert len(transaction.statements) <= MAX_STATEMENTS_PER_PHASE, _describe(counter)
    assert counter.checkouts == len(PHASES), _describe(counter)
    # The audit chain's lock (PostgreSQL: an advisory lock held until the commit; SQLite: the
    # write lock the whole transaction holds anyway) covers only reading the last event and
    # inserting the new one: the phases that record an event end with exactly that.
    lock = ["SELECT pg_advisory_xact_lock"] if svc.db.dialect == "postgresql" else []
    tail = [*lock, "SELECT audit_events.seq, audit_events.hash FROM audit_events", "INSERT INTO audit_events"]
    for transaction in transactions[1:]:
        ending = transaction.statements[-len(tail):]
        assert [st[:len(want)] for st, want in zip(ending, tail, strict=True)] == tail, _describe(counter)
    # ... and the job did what it always did: done once, the message on to review, the chain intact.
    with svc.db.uow() as uow:
        message = uow.session.get(Message, message_id)
        assert message is not None and message.state == "awaiting_review"
        job = uow.session.scalars(select(Job).where(Job.id == message.processing_job_id)).one()
        assert job.state == "done" and job.attempts == 1 and job.result == {"flags": 1}
        actions = [e.action for e in audit.events_for_case(uow.session, message.case_id)]
        assert actions[-2:] == ["message.start_processing", "message.processed"]
        assert audit.verify(uow.session).ok


def test_a_job_no_longer_wanted_is_completed_in_its_start_phase(svc: Services) -> None:
    message_id = _submitted_letter(svc)
    with svc.db.uow() as uow:
        message = uow.session.get(Message, message_id)
        assert message is not None
        message.current_version_id = None  # as if withdrawn or superseded since it was queued
        uow.commit()
    worker = build_worker(svc, worker_id="counted")
    with counting(svc.db.engine) as counter:
        assert worker.run_once()
    transactions = counter.written
    assert [t.outcome for t in transactions] == ["commit", "commit"], _describe(counter)
    assert all(len(t.statements) <= MAX_STATEMENTS_PER_PHASE for t in transactions), _describe(counter)
    with svc.db.uow() as uow:
        job = uow.session.scalars(select(Job)).one()
        assert job.state == "done" and job.result == {"skipped": "the version is no longer waiting for processing"}


def test_a_handler_that_returns_without_completing_is_still_dead_lettered(svc: Services) -> None:
    """The check that replaced the read after every job: only a job not seen to commit is looked up."""
    from support import enqueue_job, job_row

    from workers.loop import Worker

    job_id = enqueue_job(svc.db, "forgetful")
    worker = Worker(svc.db, {"forgetful": lambda job, ctx: None}, worker_id="w", clock=svc.now)
    assert worker.run_once()
    row = job_row(svc.db, job_id)
    assert row.state == "dead" and "without completing" in (row.last_error or "")
