"""Migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from support import make_services

from shuttle import schema
from shuttle.db import Base, Database
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


def test_upgrading_a_database_with_data_keeps_it_and_fills_the_new_columns(empty_db: Database) -> None:
    """0001 -> head on rows an earlier release wrote (SQLite copies tables to alter them, with
    foreign keys in the way): nothing is lost and the backfills give old rows their new facts."""
    from sqlalchemy import text

    schema.upgrade(empty_db, "0001")
    at = "2026-11-20 10:00:00"
    rows = [
        "INSERT INTO accounts (id, username, role, display_name, active, created_at) VALUES "
        "('a1', 'fiona', 'facilitator', 'Fiona', true, :at), ('a2', 'jess', 'participant', 'Jess', true, :at)",
        "INSERT INTO cases (id, reference, status, label_harmed, label_responsible, initiator, responsible_may_reply,"
        " approvals_required, author_must_accept_edits, read_receipts_allowed, watchlist, created_at, row_version)"
        " VALUES ('c1', 'RJ-2026-0001', 'open', 'Jess', 'Sam', 'harmed', true, 1, true, false, '[]', :at, 1)",
        "INSERT INTO case_facilitators (case_id, account_id) VALUES ('c1', 'a1')",
        "INSERT INTO participants (id, case_id, account_id, side, role, acting_for, holding_deliveries, active)"
        " VALUES ('p1', 'c1', 'a2', 'harmed', 'principal', '', false, true)",
        "INSERT INTO assessments (participant_id, outcome, recorded_at) VALUES ('p1', 'suitable', :at)",
        "INSERT INTO messages (id, case_id, author_participant_id, written_by, author_side, kind, state,"
        " receipt_shared, submitted_at, created_at, updated_at, row_version) VALUES"
        " ('m1', 'c1', 'p1', 'a2', 'harmed', 'letter', 'awaiting_review', false, :at, :at, :at, 1),"
        " ('m2', 'c1', 'p1', 'a2', 'harmed', 'letter', 'draft', false, NULL, :at, :at, 1)",
    ]
    with empty_db.engine.begin() as conn:
        for row in rows:
            conn.execute(text(row), {"at": at})
    schema.upgrade(empty_db)
    with empty_db.engine.connect() as conn:
        sent = conn.execute(text("SELECT id, first_submitted_at IS NOT NULL, waiting_since IS NOT NULL "
                                 "FROM messages ORDER BY id")).all()
        assert [tuple(r) for r in sent] == [("m1", True, True), ("m2", False, False)]
        kinds = sorted(conn.execute(text("SELECT kind, outcome FROM assessments")).all())
        assert [tuple(k) for k in kinds] == [("eligibility", "eligible"), ("suitability", "suitable")]
        assert conn.execute(text("SELECT proceedings_ongoing FROM cases")).scalar() in (False, 0)
        assert conn.execute(text("SELECT count(*) FROM participants")).scalar() == 1
