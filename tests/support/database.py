"""Outcome stores for tests: a PostgreSQL database of the run's own, or a SQLite file per test."""

from __future__ import annotations

import os
import secrets
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import URL

from shared.db.engine import create_engine, database_url
from shared.db.migrate import upgrade
from shared.db.schema import deliveries, metadata, outcomes

# The server the PostgreSQL variants run on; each run creates a database there and drops it.
POSTGRES_SERVER_URL = os.environ.get(
    "TEST_POSTGRES_URL", "postgresql+psycopg://root@127.0.0.1:5432/test"
)


# For `database_url` parametrized indirectly: long tests run on SQLite in the default run, and on
# PostgreSQL too in `make soak`.
SQLITE_NOW_POSTGRES_IN_SOAK = [
    "sqlite",
    pytest.param("postgres", marks=[pytest.mark.postgres, pytest.mark.soak]),
]


def url_text(url: URL) -> str:
    return url.render_as_string(hide_password=False)


def _admin(server_url: str) -> sa.Engine:
    return sa.create_engine(database_url(server_url), isolation_level="AUTOCOMMIT")


def create_database(server_url: str) -> str:
    """A new, empty database on the server, named uniquely so that parallel runs never meet."""
    name = f"tuxhook_test_{os.getpid()}_{secrets.token_hex(4)}"
    admin = _admin(server_url)
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    finally:
        admin.dispose()
    return url_text(database_url(server_url).set(database=name))


def drop_database(server_url: str, url: str) -> None:
    admin = _admin(server_url)
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(
                f'DROP DATABASE IF EXISTS "{database_url(url).database}" WITH (FORCE)'
            )
    finally:
        admin.dispose()


def engine_for(url: str) -> sa.Engine:
    return create_engine(url, lock_timeout_s=5.0, write=True)


def migrate(url: str, revision: str = "head") -> None:
    engine = engine_for(url)
    try:
        upgrade(engine, revision)
    finally:
        engine.dispose()


def truncate(url: str) -> None:
    engine = engine_for(url)
    try:
        with engine.begin() as conn:
            # Every table of the schema this store has (an older revision's has fewer), the
            # outbox included, which refers to no outcome.
            there = set(sa.inspect(conn).get_table_names())
            names = ", ".join(t.name for t in metadata.sorted_tables if t.name in there)
            conn.exec_driver_sql(f"TRUNCATE {names} RESTART IDENTITY CASCADE")
    finally:
        engine.dispose()


def snapshot(url: str) -> dict[str, list[dict[str, Any]]]:
    """Every row of every table, in a stable order: to show that a run changed nothing."""
    engine = engine_for(url)
    try:
        with engine.connect() as conn:
            return {
                table.name: [
                    dict(row._mapping)
                    for row in conn.execute(sa.select(table).order_by(*table.primary_key))
                ]
                for table in metadata.sorted_tables
            }
    finally:
        engine.dispose()


@contextmanager
def write_lock_held(database_url: str) -> Iterator[None]:
    """Another client in a write transaction: SQLite's write lock, or PostgreSQL's table lock
    on deliveries, the first table a worker writes. Workers' writes wait for it until their
    lock timeout, then fail transiently."""
    engine = engine_for(database_url)
    try:
        with engine.connect() as conn, conn.begin():  # SQLite: BEGIN IMMEDIATE
            if conn.dialect.name == "postgresql":
                conn.exec_driver_sql("LOCK TABLE deliveries IN ACCESS EXCLUSIVE MODE")
            yield
    finally:
        engine.dispose()


@dataclass(frozen=True)
class Ledger:
    """What the store holds, counted: to show each delivery is stored once, and nothing else."""

    deliveries: Counter[tuple[str, str, str]]  # (kind, uid, digest) -> rows
    outcomes: Counter[tuple[str, str]]  # (kind, uid) -> rows
    outcome_deliveries: dict[tuple[str, str], int]  # (kind, uid) -> its `deliveries` column

    def stored_once(self, expected: set[tuple[str, str, str]]) -> bool:
        """Exactly these deliveries, each of its own uid, each counted once."""
        uids = {(kind, uid) for kind, uid, _ in expected}
        return (
            self.deliveries == Counter(expected)
            and self.outcomes == Counter(uids)
            and all(n == 1 for n in self.outcome_deliveries.values())
        )


def ledger(url: str) -> Ledger:
    engine = engine_for(url)
    d, o = deliveries.c, outcomes.c
    try:
        with engine.connect() as conn:
            rows = conn.execute(sa.select(d.kind, d.uid, d.digest)).all()
            stored = conn.execute(sa.select(o.kind, o.uid, o.deliveries)).all()
    finally:
        engine.dispose()
    return Ledger(
        Counter((r.kind, r.uid, r.digest) for r in rows),
        Counter((r.kind, r.uid) for r in stored),
        {(r.kind, r.uid): r.deliveries for r in stored},
    )


@contextmanager
def connections_refused(url: str) -> Iterator[None]:
    """PostgreSQL as good as down for this database: every connection to it is cut, and new
    ones are refused, until the block ends."""
    name = database_url(url).database
    admin = _admin(POSTGRES_SERVER_URL)
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS false')
            conn.execute(
                sa.text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                    " WHERE datname = :name AND pid <> pg_backend_pid()"
                ),
                {"name": name},
            )
        yield
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS true')
        admin.dispose()
