"""Shared fixtures: real databases (SQLite file and a throw-away PostgreSQL database).

PostgreSQL is required under CI=true: a missing server fails the run instead of skipping.
The schema is made once per run per database; each test is isolated cheaply (see testdb.py):
a rolled-back outer transaction on PostgreSQL, unless marked `committing`; a copy of a template
file on SQLite.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import testdb
from sqlalchemy import Engine, create_engine, text
from support import need

from shuttle.db import Database

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
    with testdb.throwaway_postgres(PG_ADMIN_URL) as url:
        yield url


@pytest.fixture(scope="session")
def postgres_schema() -> Iterator[Engine]:
    """Another database of our own with every table made once, for the `database` fixture."""
    need(_pg_reachable(), f"PostgreSQL not reachable at {PG_ADMIN_URL}")
    with testdb.postgres_schema(PG_ADMIN_URL) as engine:
        yield engine


@pytest.fixture(scope="session")
def sqlite_schema(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file with every table made once; each test gets a copy."""
    return testdb.sqlite_template(tmp_path_factory.mktemp("schema") / "template.db")


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    """An empty schema on SQLite and on PostgreSQL: each test runs against both."""
    if request.param == "sqlite":
        with testdb.sqlite_database(request.getfixturevalue("sqlite_schema"), tmp_path_factory.mktemp("db")) as db:
            yield db
    else:
        committing = request.node.get_closest_marker("committing") is not None
        with testdb.postgres_database(request.getfixturevalue("postgres_schema"), committing=committing) as db:
            yield db


@pytest.fixture
def sqlite_database(sqlite_schema: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    """SQLite only, for fast tests that do not need to prove PostgreSQL behaviour."""
    with testdb.sqlite_database(sqlite_schema, tmp_path_factory.mktemp("db")) as db:
        yield db


# --- the application, wired as the composition root wires it, on each database -------------------

from support import make_services  # noqa: E402

from shuttle.config import Settings  # noqa: E402
from shuttle.services import Services  # noqa: E402


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


# --- the shared test world: people, a case, the app ------------------------------------------------
# (A module that needs another shape, e.g. SQLite only or its own clock, defines its own `world`;
# `app` then builds on that one.)

if TYPE_CHECKING:
    from world import World


@pytest.fixture
def world(svc: Services) -> World:
    """People and cases made through the real use cases (tests/world.py), on each database."""
    from world import World

    return World(svc)


@pytest.fixture
def app(world: World) -> Any:
    """The web application on the world's services, as the composition root builds it."""
    from shuttle.web.app import build_app

    return build_app(world.svc, check_schema=False)
