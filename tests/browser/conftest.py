"""The browser tests run one receiver process and its worker over a SQLite store: what they
test is the pages in a browser, which the storage tests cover on both backends."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest


@pytest.fixture
def settings_env(
    settings_env: dict[str, str], sqlite_template: Path, tmp_path: Path
) -> dict[str, str]:
    store = tmp_path / "browser.sqlite3"
    shutil.copyfile(sqlite_template, store)
    return {**settings_env, "TUXHOOK_DATABASE_URL": f"sqlite:///{store}"}
