"""Migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from shuttle import schema
from shuttle.db import Base, Database
from support import make_services
from shuttle.web.app import build_app


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def empty_db(request: pytest.FixtureRequest, tmp_path):  # type: ignore[no-untyped-def]
    import shuttle.models  # noqa: F401

    if request.param == "sqlite":
        db = Database(f"sqlite:///{tmp_path / 'm.db'}")
    else:
        db = Database(request.getfixturevalue("postgres_url"))
        Base.metadata.drop_all(db.engine)
        with db.engine.begin() as conn:
            conn.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")
    yield db
    if request.param == "postgres":
        Base.metadata.drop_all(db.engine)
        with db.engine.begin() as conn:
            conn.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")
    db.dispose()


def test_upgrade_builds_the_models_schema(empty_db: Database) -> None:
    schema.upgrade(empty_db)
    assert schema.current_revision(empty_db) == schema.head_revision()
    with empty_db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
    assert diff == [], f"models and migrations differ: {diff}"
    schema.check_current(empty_db)


def test_server_refuses_an_old_schema_with_a_clear_message(empty_db: Database, settings) -> None:  # type: ignore[no-untyped-def]
    svc = make_services(empty_db, settings)
    with pytest.raises(schema.SchemaOutOfDate, match="shuttle db upgrade"):
        build_app(svc)
    schema.upgrade(empty_db)
    build_app(svc)
