"""Alembic environment: the engine comes from `shuttle.schema.alembic_config`, never from a URL here."""

from __future__ import annotations

from alembic import context

import shuttle.models  # noqa: F401  (registers every table)
from shuttle.db import Base

config = context.config
engine = config.attributes["engine"]

with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
