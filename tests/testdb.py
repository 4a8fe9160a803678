"""Test databases: the schema is built once per run; each test is isolated cheaply.

Rebuilding every table for every test cost more than most tests themselves. Instead:

- PostgreSQL: one database for the run, its schema made once. Each test runs inside one outer
  transaction on one connection that is rolled back at the end; every unit of work is a
  savepoint inside it (SQLAlchemy's `join_transaction_mode="create_savepoint"`, as Warehouse
  does). Use cases and the web layer still commit (a savepoint release), so the code under test
  is unchanged. Threads (the TestClient's threadpool, the worker's heartbeat) take turns on the
  one connection through a lock held for the length of each unit of work.
- Tests marked `@pytest.mark.committing` need what one connection cannot give: real concurrent
  connections, or readers on other connections that see committed rows. They get an ordinary
  `Database` on the same schema, and the tables are emptied afterwards (TRUNCATE ... RESTART
  IDENTITY CASCADE).
- SQLite: a template file with the schema is built once; each test gets its own copy of the file
  (a file copy costs far less than create_all). The copy behaves exactly like a freshly made
  database: several connections, threads and other processes all work, so SQLite needs no marker.
"""

from __future__ import annotations

import shutil
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType

from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.orm import Session, sessionmaker

from shuttle.db import Base, Database, UnitOfWork, make_engine

#: How long a unit of work waits for another thread's turn on the shared connection before the
#: test is told why (rather than hanging): a test that holds a unit of work open while the app
#: runs one in another thread, or that needs real concurrency, must be marked `committing`.
TURN_WAIT_SECONDS = 30.0


def import_models() -> None:
    import shuttle.models  # noqa: F401  (registers every table on Base.metadata)


# --- PostgreSQL ----------------------------------------------------------------------------------


@contextmanager
def throwaway_postgres(admin_url: str) -> Iterator[str]:
    """A new, empty database on the server for as long as the block lasts; its URL."""
    name = f"shuttle_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield f"{admin_url.rsplit('/', 1)[0]}/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@contextmanager
def postgres_schema(admin_url: str) -> Iterator[Engine]:
    """A database of the run's own with every table made once; its engine."""
    import_models()
    with throwaway_postgres(admin_url) as url:
        engine = make_engine(url)
        Base.metadata.create_all(engine)
        try:
            yield engine
        finally:
            engine.dispose()


class _TakingTurns(UnitOfWork):
    """A unit of work that holds the shared connection for its whole length (one savepoint)."""

    def __init__(self, factory: sessionmaker[Session], turn: threading.RLock) -> None:
        super().__init__(factory)
        self._turn = turn

    def __enter__(self) -> UnitOfWork:
        if not self._turn.acquire(timeout=TURN_WAIT_SECONDS):
            raise RuntimeError(
                f"another thread held the test database's one connection for {TURN_WAIT_SECONDS:.0f} s: "
                "a test that needs real concurrent connections must be marked @pytest.mark.committing")
        try:
            return super().__enter__()
        except BaseException:
            self._turn.release()
            raise

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        try:
            super().__exit__(exc_type, exc, tb)
        finally:
            self._turn.release()


class SavepointDatabase(Database):
    """A `Database` whose units of work are savepoints in one outer transaction on one connection.

    Built on the run's engine (not a new one). `rollback()` undoes everything the test did.
    """

    def __init__(self, url: str, engine: Engine) -> None:  # no super().__init__: it would make an engine
        self.url = url
        self.engine = engine
        self.connection: Connection = engine.connect()
        self._outer = self.connection.begin()
        self.sessions = sessionmaker(bind=self.connection, expire_on_commit=False,
                                     join_transaction_mode="create_savepoint")
        self._turn = threading.RLock()

    def uow(self) -> UnitOfWork:
        return _TakingTurns(self.sessions, self._turn)

    def dispose(self) -> None:
        """The engine belongs to the run: a test disposing its database leaves it alone."""

    def rollback(self) -> None:
        """Wait (boundedly) for a thread still in a unit of work, then undo the whole test."""
        got_turn = self._turn.acquire(timeout=TURN_WAIT_SECONDS)
        try:
            if self._outer.is_active:
                self._outer.rollback()
            self.connection.close()
        finally:
            if got_turn:
                self._turn.release()


def empty_tables(engine: Engine) -> None:
    """Every table emptied and its identities restarted, for the next test."""
    names = ", ".join(f'"{table.name}"' for table in Base.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))


@contextmanager
def postgres_database(engine: Engine, *, committing: bool) -> Iterator[Database]:
    """One test's database on the run's schema: rolled back, or (committing) truncated afterwards."""
    url = engine.url.render_as_string(hide_password=False)
    if not committing:
        db = SavepointDatabase(url, engine)
        try:
            yield db
        finally:
            db.rollback()
        return
    plain = Database(url)
    try:
        yield plain
    finally:
        plain.dispose()
        empty_tables(engine)


# --- SQLite --------------------------------------------------------------------------------------


def sqlite_template(path: Path) -> Path:
    """A SQLite file holding the empty schema, checkpointed so that the file alone is complete."""
    import_models()
    db = Database(f"sqlite:///{path}")
    Base.metadata.create_all(db.engine)
    db.dispose()  # the last connection to close folds the write-ahead log into the file
    return path


@contextmanager
def sqlite_database(template: Path, directory: Path) -> Iterator[Database]:
    """One test's own SQLite database: a copy of the template."""
    path = directory / "shuttle.db"
    shutil.copyfile(template, path)
    db = Database(f"sqlite:///{path}")
    try:
        yield db
    finally:
        db.dispose()
