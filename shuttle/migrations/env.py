"""Alembic environment: the engine comes from `shuttle.schema.alembic_config`, never from a URL here."""

from __future__ import annotations

from alembic import context

import shuttle.models  # noqa: F401  (registers every table)
from shuttle.db import Base

config = context.config
engine = config.attributes["engine"]

with engine.connect() as connection:
    sqlite = connection.dialect.name == "sqlite"
    raw = connection.connection.driver_connection if sqlite else None
    if raw is not None:
        # SQLite alters a table by copying it (Alembic's batch mode); a table other tables refer
        # to cannot be dropped while foreign keys are enforced. Off for the migration (outside any
        # transaction, as SQLite requires), checked and on again after it.
        raw.execute("PRAGMA foreign_keys=OFF")
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=sqlite,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
    if raw is not None:
        broken = raw.execute("PRAGMA foreign_key_check").fetchall()
        raw.execute("PRAGMA foreign_keys=ON")
        if broken:
            raise RuntimeError(f"the migration left rows whose foreign keys point nowhere: {broken[:5]}")
