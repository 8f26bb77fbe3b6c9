"""A real `tuxhook receiver` process on loopback, tried as an anonymous client on the internet
would try it (issue 12): one per module with the defaults, and others with the short limits a
test needs."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest

from tests.support.keys import KeyPair
from tests.support.metrics import Samples, scrape
from tests.support.processes import Process, start_receiver
from tests.support.redis_server import RedisServer, free_port
from tests.support.users import ALICE, READER, users_toml


@dataclass
class Exposed:
    """A receiver process and its port."""

    process: Process
    port: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def metrics(self) -> Samples:
        async with aiohttp.ClientSession() as http:
            return await scrape(self.url, http)


def exposed_env(redis: RedisServer, keys: KeyPair, store: Path, directory: Path) -> dict[str, str]:
    """TuxSuite's key, alice (report) and READER (read) in the users file, a copy of `store`."""
    users = directory / "users.toml"
    users.write_text(users_toml((ALICE, READER)), encoding="utf-8")
    shutil.copyfile(store, directory / "store.sqlite3")
    return {
        "TUXHOOK_REDIS_URL": redis.url,
        "TUXHOOK_DATABASE_URL": f"sqlite:///{directory / 'store.sqlite3'}",
        "TUXHOOK_TUXSUITE_KEYS_FILE": str(keys.public_path),
        "TUXHOOK_USERS_FILE": str(users),
        "TUXHOOK_LOG_LEVEL": "INFO",
    }


@contextmanager
def running(env: dict[str, str], directory: Path) -> Iterator[Exposed]:
    port = free_port()
    process = start_receiver(env, port, directory / f"receiver-{port}.log")
    try:
        yield Exposed(process, port)
    finally:
        process.stop()


@pytest.fixture(scope="module")
def base_env(
    redis_server: RedisServer,
    keys: KeyPair,
    sqlite_template: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> dict[str, str]:
    return exposed_env(redis_server, keys, sqlite_template, tmp_path_factory.mktemp("exposed"))


@pytest.fixture(scope="module")
def exposed(
    base_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Exposed]:
    """A receiver with the default settings, shared by a module's tests."""
    with running(base_env, tmp_path_factory.mktemp("logs")) as receiver:
        yield receiver


Start = Callable[..., Exposed]


@pytest.fixture
def start(base_env: dict[str, str], tmp_path: Path) -> Iterator[Start]:
    """start(header_timeout="1", ...): a receiver of the test's own, with these TUXHOOK_*
    settings besides the base ones, stopped at the end of the test."""
    with ExitStack() as stack:

        def start_with(**settings: str) -> Exposed:
            env = base_env | {f"TUXHOOK_{name.upper()}": v for name, v in settings.items()}
            return stack.enter_context(running(env, tmp_path))

        yield start_with
