"""The SQLite writers' gate (shuttle.db.WriterGate): writing units of work are served in the
order they arrived, the turn is given back however a transaction ends, and reads never wait."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import text

from shuttle.db import Database, WriterGate, writer_gate


def _wait_until(condition: object, seconds: float = 10.0) -> None:
    until = time.monotonic() + seconds
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < until, "timed out"
        time.sleep(0.002)


def _waiting(gate: WriterGate) -> int:
    return len(gate._waiting)


def test_gate_serves_in_arrival_order() -> None:
    gate = WriterGate()
    served: list[int] = []
    gate.acquire()
    threads = []
    for n in range(8):
        def work(n: int = n) -> None:
            gate.acquire()
            served.append(n)
            time.sleep(0.001)
            gate.release()
        thread = threading.Thread(target=work)
        thread.start()
        threads.append(thread)
        _wait_until(lambda n=n: _waiting(gate) == n + 1)  # this one queued before the next comes
    gate.release()
    for thread in threads:
        thread.join(10)
    assert served == list(range(8))
    gate.acquire()  # free again: taken at once
    gate.release()


def test_gate_times_out_and_leaves_the_queue() -> None:
    gate = WriterGate(timeout=0.05)
    gate.acquire()
    failed: list[Exception] = []

    def late() -> None:
        try:
            gate.acquire()
        except Exception as exc:  # noqa: BLE001 - recorded for the assertion
            failed.append(exc)
    thread = threading.Thread(target=late)
    thread.start()
    thread.join(10)
    assert failed and "locked" in str(failed[0])
    assert _waiting(gate) == 0
    gate.release()
    gate.acquire()
    gate.release()


def test_same_thread_passes_its_own_turn() -> None:
    gate = WriterGate(timeout=0.05)
    gate.acquire()
    gate.acquire()  # a second connection of the same thread: not a deadlock
    gate.release()
    gate.release()
    other: list[bool] = []

    def take() -> None:
        gate.acquire()
        other.append(True)
        gate.release()
    thread = threading.Thread(target=take)
    thread.start()
    thread.join(10)
    assert other == [True]


def test_sqlite_writers_begin_in_arrival_order(sqlite_database: Database) -> None:
    db = sqlite_database
    gate = writer_gate(db.engine)
    assert gate is not None
    began: list[int] = []
    first = db.uow()
    with first:
        first.session.execute(text("SELECT 1"))  # BEGIN IMMEDIATE: this unit holds the turn
        threads = []
        for n in range(6):
            def write(n: int = n) -> None:
                with db.uow() as uow:
                    uow.session.execute(text("SELECT 1"))
                    began.append(n)
                    if n != 2:  # the third ends by rollback (no commit): the turn is given back too
                        uow.commit()
            thread = threading.Thread(target=write)
            thread.start()
            threads.append(thread)
            _wait_until(lambda n=n: _waiting(gate) == n + 1)
        with db.uow(readonly=True) as reader:  # a read does not queue behind the writers
            assert reader.session.execute(text("SELECT 1")).scalar() == 1
        first.commit()
    for thread in threads:
        thread.join(20)
    assert began == list(range(6))
    assert _waiting(gate) == 0 and gate._holder is None


def test_a_failed_unit_gives_the_turn_back(sqlite_database: Database) -> None:
    db = sqlite_database
    gate = writer_gate(db.engine)
    assert gate is not None
    with pytest.raises(ZeroDivisionError), db.uow() as uow:
        uow.session.execute(text("SELECT 1"))
        assert gate._holder == threading.get_ident()
        _ = 1 / 0
    assert gate._holder is None
    done: list[bool] = []

    def other() -> None:
        with db.uow() as uow:
            done.append(uow.session.execute(text("SELECT 1")).scalar() == 1)
            uow.commit()
    thread = threading.Thread(target=other)
    thread.start()
    thread.join(10)
    assert done == [True] and gate._holder is None


def test_processes_sharing_a_database_take_turns_through_the_lock_file(tmp_path: object) -> None:
    """`serve --processes N` (SHUTTLE_SQLITE_SHARED_WRITERS): each process's turn also holds an
    exclusive flock on `<db>-writers`, so another process waits for it in the kernel (woken the moment
    it is released) instead of in SQLite's sleeping busy handler. Two Databases stand for two
    processes here (flock is per open file, so they exclude each other as processes would)."""
    import fcntl
    import os
    from pathlib import Path

    path = Path(str(tmp_path)) / "shared.db"
    first, second = (Database(f"sqlite:///{path}", shared_writers=True) for _ in range(2))
    with first.engine.begin() as conn:
        conn.execute(text("create table t (n integer)"))
    lock_file = os.open(f"{path}-writers", os.O_RDWR)

    def taken() -> bool:
        try:
            fcntl.flock(lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(lock_file, fcntl.LOCK_UN)
        return False

    order: list[str] = []
    with first.uow() as uow:
        uow.session.execute(text("insert into t values (1)"))
        assert taken()  # the first "process" holds the turn for its whole write transaction

        def other() -> None:
            with second.uow() as theirs:
                theirs.session.execute(text("insert into t values (2)"))
                order.append("second wrote")
                theirs.commit()

        thread = threading.Thread(target=other)
        thread.start()
        time.sleep(0.2)
        assert order == []  # waiting for the turn, not failing
        order.append("first commits")
        uow.commit()
    thread.join(timeout=10)
    assert order == ["first commits", "second wrote"] and not taken()
    with second.engine.connect() as conn:
        assert conn.execute(text("select count(*) from t")).scalar() == 2
    os.close(lock_file)
    for database in (first, second):
        database.engine.dispose()


def test_one_process_keeps_no_lock_file(tmp_path: object) -> None:
    from pathlib import Path

    path = Path(str(tmp_path)) / "alone.db"
    database = Database(f"sqlite:///{path}")
    with database.uow() as uow:
        uow.session.execute(text("create table t (n integer)"))
        uow.commit()
    assert not Path(f"{path}-writers").exists()
    database.engine.dispose()
