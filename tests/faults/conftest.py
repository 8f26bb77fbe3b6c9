"""Fault tests: real receiver and worker processes on loopback, with a part of the stack broken
on purpose. A test that needs the outcome store asks for `store_env`, and so runs once per
backend (SQLite, PostgreSQL)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.support.redis_server import free_port


@pytest.fixture
def store_env(settings_env: dict[str, str], database_url: str) -> dict[str, str]:
    return {**settings_env, "TUXHOOK_DATABASE_URL": database_url}


@pytest.fixture
def port() -> int:
    return free_port()


@pytest.fixture
def sqlite_store(sqlite_template: Path, tmp_path: Path) -> str:
    """A migrated SQLite store of the test's own, for tests about something else than the
    store (which is why they do not run once per backend)."""
    path = tmp_path / "store.sqlite3"
    shutil.copyfile(sqlite_template, path)
    return f"sqlite:///{path}"
