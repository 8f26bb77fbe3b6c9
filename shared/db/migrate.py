"""`tuxhook db upgrade`: Alembic driven from code, on an engine built from Settings."""

from __future__ import annotations

import argparse
from pathlib import Path

from alembic import command as alembic_command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import SQLAlchemyError

from shared.db.engine import create_engine, database_url, sqlite_file, store_location
from shared.errors import ConfigError, DatabaseUnavailable, SchemaOutdated
from shared.logs import configure_logging
from shared.settings import DEFAULT_DATABASE_URL, Settings

MIGRATIONS = Path(__file__).with_name("migrations")

# Any constant both `db upgrade`s agree on: PostgreSQL serialises concurrent migrations on it.
_MIGRATION_LOCK_ID = 0x7475786B


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(engine: Engine, revision: str = "head") -> str | None:
    """Migrate to the newest revision (or `revision`) in one transaction; returns it."""
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": _MIGRATION_LOCK_ID})
        alembic_command.upgrade(alembic_config(conn), revision)
        return MigrationContext.configure(conn).get_current_revision()


def check_current(engine: Engine, url: str) -> None:
    """Refuse to work on a store whose schema is not the one this code writes."""
    path = sqlite_file(url)
    if path is not None and not path.exists():
        relative = not Path(str(database_url(url).database)).is_absolute()
        hint = " (a relative path, like the default, is read from the folder tuxhook runs in)"
        raise SchemaOutdated(
            f"there is no store at {path}: run `tuxhook db upgrade`{hint if relative else ''}"
        )
    try:
        current = current_revision(engine)
    except SQLAlchemyError as e:
        raise unavailable(url, e) from e
    head = head_revision()
    if current != head:
        raise SchemaOutdated(
            f"the store {store_location(url)} is at schema revision {current or 'none'}, "
            f"not {head}: run `tuxhook db upgrade`"
        )


def unavailable(url: str, e: SQLAlchemyError) -> DatabaseUnavailable:
    reason = str(getattr(e, "orig", None) or e).strip().splitlines()[0]
    return DatabaseUnavailable(f"cannot use the store {store_location(url)}: {reason}")


def prepare_folder(url: str) -> None:
    """Create the default store's folder, `var/`, and no other: a SQLite file elsewhere must be
    in a folder that exists, so that a typo never creates a tree of folders."""
    path = sqlite_file(url)
    if path is None or path.parent.is_dir():
        return
    if url != DEFAULT_DATABASE_URL:
        raise ConfigError(
            f"the folder {path.parent} does not exist: create it, or point "
            "TUXHOOK_DATABASE_URL at a file in a folder that does"
        )
    path.parent.mkdir()


def command(_: argparse.Namespace, settings: Settings) -> int:
    configure_logging(settings.log_level)
    url = settings.database_url
    prepare_folder(url)
    engine = create_engine(url, lock_timeout_s=settings.database_lock_timeout_s, write=True)
    try:
        revision = upgrade(engine)
    except SQLAlchemyError as e:
        raise unavailable(url, e) from e
    finally:
        engine.dispose()
    print(f"tuxhook: the store {store_location(url)} is at schema revision {revision}")
    return 0
