"""What a benchmark runs against: a redis-server of its own, and an outcome store of its own (a
SQLite file, or a PostgreSQL database dropped at the end), never one someone else uses."""

from __future__ import annotations

import itertools
import subprocess
import sys
from pathlib import Path

import sqlalchemy as sa

from shared.db.schema import deliveries, outcomes
from tests.support.database import create_database, drop_database, engine_for, migrate, truncate
from tests.support.processes import child_env
from tests.support.redis_server import RedisServer


class BenchStore:
    def __init__(self, directory: Path, postgres_server: str | None) -> None:
        self.directory = directory
        self.postgres_server = postgres_server
        self._files = itertools.count()
        self.url = create_database(postgres_server) if postgres_server else ""
        if postgres_server:
            self.migrate()

    @property
    def backend(self) -> str:
        return "postgresql" if self.postgres_server else "sqlite"

    def reset(self) -> None:
        """An empty, migrated store at self.url."""
        if self.postgres_server:
            truncate(self.url)
            return
        self.url = f"sqlite:///{self.directory / f'store-{next(self._files)}.sqlite3'}"
        self.migrate()

    def migrate(self) -> None:
        migrate(self.url)

    def counts(self) -> tuple[int, int]:
        """(outcomes, deliveries) stored."""
        engine = engine_for(self.url)
        try:
            with engine.connect() as conn:
                count = [sa.select(sa.func.count()).select_from(t) for t in (outcomes, deliveries)]
                return conn.execute(count[0]).scalar_one(), conn.execute(count[1]).scalar_one()
        finally:
            engine.dispose()

    def close(self) -> None:
        if self.postgres_server:
            drop_database(self.postgres_server, self.url)


class ExportedStore(BenchStore):
    """A store of its own for another version of tuxhook (bench/exported.py), migrated by that
    version's `tuxhook db upgrade`: its schema, which its worker checks at start-up."""

    def __init__(self, directory: Path, postgres_server: str | None, code: Path) -> None:
        self.code = code
        super().__init__(directory, postgres_server)

    def migrate(self) -> None:
        env = child_env({"TUXHOOK_DATABASE_URL": self.url, "TUXHOOK_LOG_LEVEL": "WARNING"})
        command = [sys.executable, "-m", "shared.cli", "db", "upgrade"]
        subprocess.run(command, env=env, cwd=self.code, check=True, capture_output=True)


class Bench:
    def __init__(self, redis_server: RedisServer, store: BenchStore) -> None:
        self.redis_server, self.store = redis_server, store
        self.redis = redis_server.client()

    def env(self) -> dict[str, str]:
        """The environment of tuxhook processes, on the store's current URL."""
        return child_env(
            {
                "TUXHOOK_REDIS_URL": self.redis_server.url,
                "TUXHOOK_DATABASE_URL": self.store.url,
                "TUXHOOK_LOG_LEVEL": "WARNING",
            }
        )
