"""Database plumbing: the declarative base, engines and the unit of work.

No engine lives at module level: the composition root builds one `Database` from the
settings and hands it to whatever needs it.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import sqlite3
import threading
import time
import uuid
import weakref
from collections import deque
from datetime import UTC, datetime
from types import TracebackType
from typing import Any

from sqlalchemy import DateTime, Engine, MetaData, create_engine, event
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.pool import StaticPool
from sqlalchemy.types import TypeDecorator

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


def utcnow() -> datetime:
    return datetime.now(UTC)


def new_id() -> str:
    """Opaque, unguessable id for anything that appears in a URL."""
    return uuid.uuid4().hex


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite drops the zone otherwise)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC)


#: Rows SQLite's ANALYZE samples per index when `PRAGMA optimize` decides to gather statistics:
#: bounded, so running it when a connection opens costs milliseconds even at 100k messages.
ANALYSIS_LIMIT = 400
BUSY_TIMEOUT_MS = 30000
#: How often a pooled SQLite connection runs `PRAGMA optimize` when it is given back.
OPTIMIZE_EVERY_SECONDS = 3600.0
#: The execution option that marks a read-only transaction (see `UnitOfWork.readonly`).
READ_ONLY = "shuttle_read_only"
#: SQL that changes something: refused in a read-only unit of work.
_WRITES = ("insert", "update", "delete", "replace", "create", "drop", "alter")


class WriterGate:
    """First come, first served in front of SQLite's write lock, for one process.

    SQLite's busy handler is unfair: a writer that finds the lock taken sleeps (1, 2, 5 ... 100 ms)
    and polls, so it sleeps through a lock freed meanwhile and newcomers barge past it; under a
    steady stream of writers the tail grows to seconds. Here each writing transaction waits its
    turn in arrival order before its BEGIN IMMEDIATE and is handed the turn directly when the one
    before it commits or rolls back (no polling, no barging). Another process (a separate worker)
    still meets this one in SQLite's busy handler, unless the processes take turns too
    (`share_with_processes`, SHUTTLE_SQLITE_SHARED_WRITERS, on for `serve --processes`). A thread
    that already holds the turn (a second connection of its own) is let through, so waiting here
    never deadlocks a thread on itself; it then meets SQLite's lock as it did before the gate.
    """

    def __init__(self, timeout: float = BUSY_TIMEOUT_MS / 1000) -> None:
        self._lock = threading.Lock()
        self._holder: int | None = None
        self._depth = 0
        self._waiting: deque[tuple[int, threading.Event]] = deque()
        self.timeout = timeout
        self._shared: int | None = None  # the lock file's descriptor, when processes share the database

    def share_with_processes(self, path: str) -> None:
        """Also take turns with the other processes writing to this database (`serve --processes`):
        the process whose turn it is holds an exclusive flock on `path` for its write transaction.
        The kernel wakes a process waiting for it the moment it is released (no polling, unlike
        SQLite's busy handler, whose sleeps gave two processes a tail of seconds: bench/load.py)."""
        self._shared = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)

    def acquire(self) -> None:
        self._acquire_here()
        if self._depth == 1 and self._shared is not None:  # this process's turn: now the processes'
            fcntl.flock(self._shared, fcntl.LOCK_EX)

    def _acquire_here(self) -> None:
        me = threading.get_ident()
        with self._lock:
            if self._holder is None and not self._waiting:
                self._holder, self._depth = me, 1
                return
            if self._holder == me:
                self._depth += 1
                return
            turn = threading.Event()
            self._waiting.append((me, turn))
        if turn.wait(self.timeout):
            return
        with self._lock:
            if turn.is_set():  # handed over just as the wait ended
                return
            self._waiting.remove((me, turn))
        raise sqlite3.OperationalError("database is locked (the writers before this one took too long)")

    def release(self) -> None:
        with self._lock:
            self._depth -= 1
            if self._depth > 0:
                return
            if self._shared is not None:
                fcntl.flock(self._shared, fcntl.LOCK_UN)
            if self._waiting:
                self._holder, turn = self._waiting.popleft()
                self._depth = 1
                turn.set()
            else:
                self._holder, self._depth = None, 0


class _GatedConnection(sqlite3.Connection):
    """A SQLite connection that gives the writers' turn back when its transaction ends, after
    SQLite did (COMMIT's fsync included), whoever ends it: the unit of work, the pool's reset on
    return, or closing."""

    gate: WriterGate | None = None
    holds_turn = False

    def _give_back(self) -> None:
        if self.holds_turn and self.gate is not None:
            self.holds_turn = False
            self.gate.release()

    def commit(self) -> None:
        try:
            super().commit()
        finally:
            if not self.in_transaction:
                self._give_back()

    def rollback(self) -> None:
        try:
            super().rollback()
        finally:
            self._give_back()

    def close(self) -> None:
        try:
            super().close()
        finally:
            self._give_back()


class WriteInReadOnly(RuntimeError):
    """A read-only unit of work tried to write (the web layer then redoes the request in a
    unit of work that may write; a test sees it as an error)."""


def _sqlite_pragmas(engine: Engine, gate: WriterGate) -> None:
    """Foreign keys on, WAL, statistics kept (`PRAGMA optimize`), and BEGIN IMMEDIATE for
    units of work that may write, so writers queue instead of failing on a lock upgrade, in
    arrival order behind the process's `WriterGate`; read-only ones begin deferred and never
    take the write lock (WAL: readers never wait)."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        if isinstance(dbapi_connection, _GatedConnection):
            dbapi_connection.gate = gate
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA analysis_limit={ANALYSIS_LIMIT}")
        cursor.execute("PRAGMA busy_timeout=0")  # opening never waits behind a writer for it
        with contextlib.suppress(sqlite3.Error):  # on open: statistics that are missing or stale
            cursor.execute("PRAGMA optimize=0x10002")
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cursor.close()

    @event.listens_for(engine, "checkin")
    def _on_checkin(dbapi_connection: Any, record: Any) -> None:
        """A long-lived connection refreshes the statistics its queries would use about once an
        hour (SQLite's advice for connections kept open), bounded by the analysis limit."""
        if dbapi_connection is None:
            return
        now = time.monotonic()
        if now - record.info.setdefault("optimized_at", now) >= OPTIMIZE_EVERY_SECONDS:
            record.info["optimized_at"] = now
            dbapi_connection.execute("PRAGMA busy_timeout=0")  # never wait for the write lock here
            with contextlib.suppress(sqlite3.Error):  # busy: the next hour will do
                dbapi_connection.execute("PRAGMA optimize")
            dbapi_connection.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        if conn.get_execution_options().get(READ_ONLY):
            conn.exec_driver_sql("BEGIN")
            return
        raw = conn.connection.dbapi_connection
        gated = isinstance(raw, _GatedConnection) and raw.gate is not None and not raw.holds_turn
        if gated:
            gate.acquire()
            raw.holds_turn = True
        try:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            if gated:
                raw._give_back()
            raise


def _refuse_writes(engine: Engine) -> None:
    """A statement that writes, sent in a read-only unit of work, is refused before it runs."""

    @event.listens_for(engine, "before_cursor_execute")
    def _check(conn: Any, _cursor: Any, statement: str, _params: Any, _context: Any, _many: bool) -> None:
        if conn.get_execution_options().get(READ_ONLY) and statement.lstrip()[:7].lower().startswith(_WRITES):
            raise WriteInReadOnly(f"a read-only unit of work tried to write: {statement[:60]}")


@event.listens_for(Session, "before_flush")
def _read_only_flush(session: Session, _context: Any, _instances: Any) -> None:
    """The same refusal at the ORM's flush (it also covers sessions bound to one connection,
    as the tests' savepoint databases are), before any SQL is sent."""
    if session.info.get(READ_ONLY) and (
        session.new or session.deleted or any(session.is_modified(row) for row in session.dirty)
    ):
        session.info["write_refused"] = True
        raise WriteInReadOnly("a read-only unit of work tried to write (changed rows at flush)")


_GATES: weakref.WeakKeyDictionary[Engine, WriterGate] = weakref.WeakKeyDictionary()


def writer_gate(engine: Engine) -> WriterGate | None:
    """The `WriterGate` of a SQLite engine (None on PostgreSQL, whose row locks queue fairly)."""
    return _GATES.get(engine)


def make_engine(url: str, *, shared_writers: bool = False) -> Engine:
    if url.startswith("sqlite"):
        kwargs: dict[str, Any] = {"connect_args": {"check_same_thread": False, "timeout": 30,
                                                   "factory": _GatedConnection}}
        if url in {"sqlite://", "sqlite:///:memory:"}:
            kwargs["poolclass"] = StaticPool
        engine = create_engine(url, **kwargs)
        _GATES[engine] = gate = WriterGate()
        if shared_writers and engine.url.database not in (None, "", ":memory:"):
            gate.share_with_processes(f"{engine.url.database}-writers")
        _sqlite_pragmas(engine, gate)
        _refuse_writes(engine)
        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    engine = create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=10)
    _refuse_writes(engine)
    return engine


class UnitOfWork:
    """One transaction. Rolls back on exit unless `commit()` was called (cosmicpython).

    `readonly` (set before entering): on SQLite the transaction begins deferred, so it never
    takes the write lock; any write in it raises `WriteInReadOnly` instead of running.
    """

    def __init__(self, factory: sessionmaker[Session], *, readonly: bool = False) -> None:
        self._factory = factory
        self.readonly = readonly
        self.session: Session

    def __enter__(self) -> UnitOfWork:
        self.session = self._factory()
        if self.readonly:
            self.session.info[READ_ONLY] = True
            if isinstance(self.session.get_bind(), Engine):  # begin now, marked (not on a shared connection)
                self.session.connection(execution_options={READ_ONLY: True})
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if not self.session.info.get("committed"):  # a rollback expires the rows the session loaded;
            self.session.rollback()  # closing alone keeps them readable, as after a commit
        self.session.close()  # (the connection's transaction is rolled back as it returns to the pool)

    def commit(self) -> None:
        if self.readonly:  # nothing to write: the transaction just ends on exit, as a commit would
            session = self.session
            if session.new or session.deleted or any(session.is_modified(row) for row in session.dirty):
                session.info["write_refused"] = True
                raise WriteInReadOnly("a read-only unit of work has unsaved changes at commit")
            session.info["committed"] = True  # on exit: closed without a rollback, rows stay loaded
            return
        self.session.commit()

    @property
    def write_refused(self) -> bool:
        """Whether a write was refused in this (read-only) unit of work, even if caught."""
        return bool(self.session.info.get("write_refused"))

    @property
    def is_postgres(self) -> bool:
        return self.session.get_bind().dialect.name == "postgresql"


class Database:
    """The engine and its session factory; built once by the composition root."""

    def __init__(self, url: str, *, shared_writers: bool = False) -> None:
        self.url = url
        self.engine = make_engine(url, shared_writers=shared_writers)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)

    def uow(self, *, readonly: bool = False) -> UnitOfWork:
        return UnitOfWork(self.sessions, readonly=readonly)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def optimize(self) -> None:
        """Keep the query planner's statistics current (SQLite's `PRAGMA optimize`: cheap, it
        analyses only tables whose statistics are missing or stale); PostgreSQL's autovacuum
        does this by itself. Run when the engine closes, and from time to time by the tick."""
        if self.dialect == "sqlite":
            with self.engine.connect() as conn:
                raw: Any = conn.connection.dbapi_connection  # autocommit: no BEGIN IMMEDIATE around it
                raw.execute("PRAGMA busy_timeout=1000")  # a second at most behind a writer
                try:
                    raw.execute("PRAGMA optimize")
                finally:
                    raw.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")

    def dispose(self) -> None:
        if self.dialect == "sqlite" and getattr(self.engine.pool, "checkedin", lambda: 0)():  # it was used
            with contextlib.suppress(Exception):  # closing must not fail on it (a database already gone, say)
                self.optimize()
        self.engine.dispose()
