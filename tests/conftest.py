"""Shared fixtures: real databases (SQLite file and a throw-away PostgreSQL database).

PostgreSQL is required under CI=true: a missing server fails the run instead of skipping.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, text

from shuttle.db import Base, Database
from support import need

PG_ADMIN_URL = os.environ.get(
    "SHUTTLE_TEST_PG_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


def _pg_reachable() -> bool:
    try:
        engine = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(text("select 1"))
        engine.dispose()
        return True
    except Exception:
        return False


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A database of our own on the local server for this test run, dropped afterwards."""
    need(_pg_reachable(), f"PostgreSQL not reachable at {PG_ADMIN_URL}")
    name = f"shuttle_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    base = PG_ADMIN_URL.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _import_models() -> None:
    import shuttle.models  # noqa: F401  (registers every table on Base.metadata)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    """A fresh schema on SQLite and on PostgreSQL: each test runs against both."""
    _import_models()
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'shuttle.db'}"
    else:
        url = request.getfixturevalue("postgres_url")
    db = Database(url)
    Base.metadata.drop_all(db.engine)
    Base.metadata.create_all(db.engine)
    try:
        yield db
    finally:
        if request.param == "postgres":
            Base.metadata.drop_all(db.engine)
        db.dispose()


@pytest.fixture
def sqlite_database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    """SQLite only, for fast tests that do not need to prove PostgreSQL behaviour."""
    _import_models()
    db = Database(f"sqlite:///{tmp_path_factory.mktemp('db') / 'shuttle.db'}")
    Base.metadata.create_all(db.engine)
    try:
        yield db
    finally:
        db.dispose()


# --- the application, wired as the composition root wires it, on each database -------------------

from shuttle.config import Settings  # noqa: E402
from shuttle.services import Services  # noqa: E402
from support import make_services  # noqa: E402


@pytest.fixture
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    data = tmp_path_factory.mktemp("data")
    return Settings.from_env({"SHUTTLE_DATA_DIR": str(data), "SHUTTLE_SECRET_KEY": "test-secret-" + "k" * 40})


@pytest.fixture
def svc(database: Database, settings: Settings) -> Services:
    return make_services(database, settings)


@pytest.fixture
def sqlite_svc(sqlite_database: Database, settings: Settings) -> Services:
    return make_services(sqlite_database, settings)
