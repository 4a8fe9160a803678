"""Schema migrations (Alembic, shipped inside the package) and the start-up schema check."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from shuttle.db import Database

MIGRATIONS = Path(__file__).parent / "migrations"


class SchemaOutOfDate(RuntimeError):
    """The database is not at the code's schema: run `shuttle db upgrade`."""


def alembic_config(db: Database) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = db.engine
    return config


def head_revision() -> str | None:
    script = ScriptDirectory(str(MIGRATIONS))
    return script.get_current_head()


def current_revision(db: Database) -> str | None:
    with db.engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(db: Database, revision: str = "head") -> None:
    command.upgrade(alembic_config(db), revision)


def check_current(db: Database) -> None:
    current, head = current_revision(db), head_revision()
    if current != head:
        found = current or "an empty database"
        raise SchemaOutOfDate(
            f"The database schema is at {found}, this code needs {head}. "
            "Run `shuttle db upgrade` (and back up first)."
        )
