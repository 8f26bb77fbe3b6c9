"""Alembic's entry point. shared.db.migrate hands it an open connection; no alembic.ini is read."""

from __future__ import annotations

from alembic import context

from shared.db.schema import metadata

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata)
with context.begin_transaction():
    context.run_migrations()
