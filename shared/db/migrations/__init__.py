"""Alembic migrations of the outcome store, run by `tuxhook db upgrade` (shared.db.migrate)."""
