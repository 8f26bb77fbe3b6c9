"""SQLAlchemy engines for the outcome store: the same code path for SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import quote

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import URL, Engine, make_url

from shared.constants import DATABASE_CONNECT_TIMEOUT_S
from shared.settings import mask_url


def database_url(url: str) -> URL:
    """The URL, with a bare `postgresql://` pointed at psycopg 3, the driver tuxhook ships."""
    parsed = make_url(url)
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def is_sqlite(url: URL) -> bool:
    return url.get_backend_name() == "sqlite"


def sqlite_file(url: str) -> Path | None:
    """The absolute path of a SQLite store's file; None for PostgreSQL or a store in memory."""
    parsed = database_url(url)
    if not is_sqlite(parsed) or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database).absolute()


def store_location(url: str) -> str:
    """Where the store is, for people: a SQLite file's absolute path, else the URL, masked."""
    path = sqlite_file(url)
    return str(path) if path is not None else mask_url(url)


def create_engine(
    url: str,
    *,
    lock_timeout_s: float,
    write: bool = False,
    pool_size: int = 1,
    application_name: str = "tuxhook",
) -> Engine:
    """An engine for `url`. `write` engines take SQLite's write lock when a transaction begins."""
    parsed = database_url(url)
    if is_sqlite(parsed):
        return _sqlite_engine(parsed, lock_timeout_s, write=write, pool_size=pool_size)
    # Times come back in UTC whatever the server's TimeZone: in a zone west of UTC a stored
    # 0001-01-01T00:00:00Z would be a time of year 0, which Python cannot hold.
    options = f"-c lock_timeout={int(lock_timeout_s * 1000)} -c timezone=UTC"
    return sa.create_engine(
        parsed,
        pool_size=pool_size,
        max_overflow=0,
        # Readers answer users: check a pooled connection first. Writers need not; a job that
        # meets a stale connection fails transiently and RQ retries it.
        pool_pre_ping=not write,
        connect_args={
            "connect_timeout": DATABASE_CONNECT_TIMEOUT_S,
            "options": options,
            "application_name": application_name,
        },
    )


def _sqlite_engine(url: URL, lock_timeout_s: float, *, write: bool, pool_size: int) -> Engine:
    if not write and url.database and url.database != ":memory:":
        # A reader never creates the file: a store that is not there is an error, not a new,
        # empty store in whatever folder the reader runs from.
        url = url.set(database=f"file:{quote(url.database)}")
        url = url.update_query_dict({"mode": "rw", "uri": "true"})
    engine = sa.create_engine(url, pool_size=pool_size, max_overflow=0)
    busy_ms = int(lock_timeout_s * 1000)
    begin = "BEGIN IMMEDIATE" if write else "BEGIN"

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _: Any) -> None:
        # sqlite3 would otherwise BEGIN lazily, and only before writes; we BEGIN ourselves below.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        # WAL lets readers and several writer processes share the file; NORMAL syncs at
        # checkpoints, not at each commit (a power cut may lose the last commits, not corrupt).
        for pragma in ("journal_mode=WAL", f"busy_timeout={busy_ms}", "synchronous=NORMAL"):
            cursor.execute(f"PRAGMA {pragma}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: sa.Connection) -> None:
        # A writer that begins deferred and upgrades to a write lock later can fail at once
        # with SQLITE_BUSY despite busy_timeout; IMMEDIATE waits for the lock up front.
        connection.exec_driver_sql(begin)

    return engine
