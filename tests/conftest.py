"""Fixtures: one real redis-server per run (flushed for each test), keys, settings, a receiver."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest
from hypothesis import settings as hypothesis_settings
from redis import Redis
from sqlalchemy.exc import SQLAlchemyError

from receiver.app import create_app
from receiver.serve import Listening, listen
from shared.settings import Settings
from tests.support.database import (
    POSTGRES_SERVER_URL,
    create_database,
    drop_database,
    migrate,
    truncate,
)
from tests.support.keys import KeyPair, make_key_pair
from tests.support.properties import register_profiles
from tests.support.redis_server import RedisServer
from tests.support.users import READER

# Fixed, derandomized examples; `--hypothesis-profile=soak` (make soak) loads another after this.
register_profiles()
hypothesis_settings.load_profile("ci")

FAULTS = Path(__file__).parent / "faults"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """With pytest-xdist (`make test` runs `-n 2 --dist loadgroup`), the fault tests run one at
    a time, in one process, beside the other tests: each starts several processes and bursts
    of callbacks, kills something and bounds how long the rest takes to recover; two at once
    would each slow the other down."""
    for item in items:
        if item.path.is_relative_to(FAULTS):
            item.add_marker(pytest.mark.xdist_group("faults"))


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    server.start()
    yield server
    server.stop()


@pytest.fixture
def redis_client(redis_server: RedisServer) -> Iterator[Redis]:
    client = redis_server.client()
    client.flushall()
    yield client
    client.close()


@pytest.fixture(scope="session")
def keys(tmp_path_factory: pytest.TempPathFactory) -> KeyPair:
    return make_key_pair(tmp_path_factory.mktemp("keys"))


@pytest.fixture
def settings_env(
    redis_server: RedisServer, redis_client: Redis, keys: KeyPair, tmp_path: Path
) -> dict[str, str]:
    """The environment a test's tuxhook runs with; tests add to it before building Settings.

    Its users file holds READER alone, whose credentials (tests/support/users.py's
    `read_headers()`) read what reads are closed to anonymous clients for."""
    users = tmp_path / "reader.toml"
    users.write_text(READER.toml(), encoding="utf-8")
    return {
        "TUXHOOK_REDIS_URL": redis_server.url,
        "TUXHOOK_DATABASE_URL": f"sqlite:///{tmp_path / 'tuxhook.sqlite3'}",
        "TUXHOOK_TUXSUITE_KEYS_FILE": str(keys.public_path),
        "TUXHOOK_USERS_FILE": str(users),
        "TUXHOOK_LOG_LEVEL": "WARNING",
    }


@pytest.fixture
def settings(settings_env: dict[str, str]) -> Settings:
    return Settings.from_env(settings_env)


@dataclass
class Receiver:
    """A receiver served over loopback, and a client session to talk to it."""

    url: str
    http: aiohttp.ClientSession
    server: Listening

    def at(self, path: str) -> str:
        return self.url + path


async def serve(settings: Settings) -> Listening:
    """A receiver built from `settings`, served as `tuxhook receiver` serves, on a free port."""
    return await listen(create_app(settings), "127.0.0.1", 0)


@asynccontextmanager
async def serving(settings: Settings) -> AsyncIterator[Receiver]:
    """A receiver built from `settings`, served over loopback until the block ends."""
    server = await serve(settings)
    try:
        async with aiohttp.ClientSession() as http:
            yield Receiver(str(server.make_url("")).rstrip("/"), http, server)
    finally:
        await server.close()


@pytest.fixture
async def receiver(settings: Settings) -> AsyncIterator[Receiver]:
    async with serving(settings) as served:
        yield served


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str]:
    """A migrated database of this run's own on TEST_POSTGRES_URL's server, dropped at the end.

    PostgreSQL is part of what is tested: when it cannot be reached, the tests fail.
    """
    try:
        url = create_database(POSTGRES_SERVER_URL)
    except SQLAlchemyError as e:
        pytest.fail(f"PostgreSQL at {POSTGRES_SERVER_URL} cannot be reached: {e}", pytrace=False)
    try:
        migrate(url)
        yield url
    finally:
        drop_database(POSTGRES_SERVER_URL, url)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite store that each test copies, rather than migrating its own."""
    path = tmp_path_factory.mktemp("store") / "template.sqlite3"
    migrate(f"sqlite:///{path}")
    return path


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty, migrated outcome store: a SQLite file of the test's own, or the run's
    PostgreSQL database, emptied."""
    if request.param == "sqlite":
        path = tmp_path / "store.sqlite3"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite:///{path}"
    url: str = request.getfixturevalue("postgres_database")
    truncate(url)
    return url
