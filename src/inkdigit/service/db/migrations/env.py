"""Alembic's environment: migrations run on the connection ``inkdigit.service.db.migrate`` opens."""

from __future__ import annotations

from alembic import context

from inkdigit.service.db.models import Base

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=Base.metadata,
                  render_as_batch=connection.dialect.name == "sqlite")  # SQLite alters tables by copying them
with context.begin_transaction():
    context.run_migrations()
