"""`tuxhook db upgrade` and `tuxhook worker`: what they refuse, and what they create."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from shared.db.migrate import head_revision
from tests.support.cli import one_line_error
from tests.support.processes import run_tuxhook


def log_events(output: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in output.splitlines() if line.startswith("{")]


def without_store(settings_env: dict[str, str]) -> dict[str, str]:
    """The test's settings, but the default store: var/tuxhook.sqlite3 under the folder run in."""
    return {k: v for k, v in settings_env.items() if k != "TUXHOOK_DATABASE_URL"}


def test_db_upgrade_creates_the_default_folder_and_says_where_the_store_is(
    settings_env: dict[str, str], tmp_path: Path
) -> None:
    done = run_tuxhook(without_store(settings_env), "db", "upgrade", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    store = tmp_path / "var" / "tuxhook.sqlite3"
    assert done.stdout == f"tuxhook: the store {store} is at schema revision {head_revision()}\n"
    assert store.is_file()


def test_db_upgrade_creates_no_other_folder(settings_env: dict[str, str], tmp_path: Path) -> None:
    """A typo in a path must not create a tree of folders: `sqlite:////nonexistent/dir/...`."""
    missing = tmp_path / "nonexistent" / "dir"
    env = {**settings_env, "TUXHOOK_DATABASE_URL": f"sqlite:///{missing}/x.sqlite3"}
    line = one_line_error(run_tuxhook(env, "db", "upgrade"))
    assert line == (
        f"tuxhook: error: the folder {missing} does not exist: create it, or point"
        " TUXHOOK_DATABASE_URL at a file in a folder that does"
    )
    assert not (tmp_path / "nonexistent").exists()


def test_a_worker_run_from_another_folder_starts_no_second_store(
    settings_env: dict[str, str], tmp_path: Path
) -> None:
    here, elsewhere = tmp_path / "here", tmp_path / "elsewhere"
    here.mkdir()
    elsewhere.mkdir()
    env = without_store(settings_env)
    assert run_tuxhook(env, "db", "upgrade", cwd=here).returncode == 0
    line = one_line_error(run_tuxhook(env, "worker", "--burst", cwd=elsewhere))
    assert line == (
        f"tuxhook: error: there is no store at {elsewhere}/var/tuxhook.sqlite3: run `tuxhook db"
        " upgrade` (a relative path, like the default, is read from the folder tuxhook runs in)"
    )
    assert list(elsewhere.iterdir()) == []


@pytest.mark.parametrize("settings_logged", [False, True])
def test_a_worker_says_where_the_store_is_when_it_starts(
    settings_env: dict[str, str], tmp_path: Path, settings_logged: bool
) -> None:
    env = {**without_store(settings_env), "TUXHOOK_LOG_LEVEL": "INFO"}
    assert run_tuxhook(env, "db", "upgrade", cwd=tmp_path).returncode == 0
    flag = ["--settings-logged"] if settings_logged else []
    done = run_tuxhook(env, "worker", "build", "--burst", *flag, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    [starting] = [e for e in log_events(done.stderr) if e.get("event") == "worker_starting"]
    assert starting["store"] == str(tmp_path / "var" / "tuxhook.sqlite3")
    assert ("settings" in starting) is not settings_logged


def test_a_worker_refuses_a_store_that_is_not_migrated(
    settings_env: dict[str, str], tmp_path: Path
) -> None:
    empty = tmp_path / "empty.sqlite3"
    sqlite3.connect(empty).close()  # a store, with no schema in it
    env = {**settings_env, "TUXHOOK_DATABASE_URL": f"sqlite:///{empty}"}
    done = run_tuxhook(env, "worker", "--burst")
    assert done.returncode == 1
    assert f"schema revision none, not {head_revision()}: run `tuxhook db upgrade`" in done.stderr


def test_a_worker_refuses_an_unknown_queue(settings_env: dict[str, str]) -> None:
    done = run_tuxhook(settings_env, "worker", "build", "nope")
    assert (done.returncode, done.stderr.strip()) == (
        1,
        "tuxhook: error: unknown queue nope; queues: build, oebuild, test, plan",
    )


def test_a_worker_refuses_to_start_without_redis(settings_env: dict[str, str]) -> None:
    env = {**settings_env, "TUXHOOK_REDIS_URL": "redis://:secret@127.0.0.1:1/0"}
    for pool in ("1", "2"):
        done = run_tuxhook(env, "worker", "--burst", "--pool", pool)
        assert done.returncode == 1
        assert done.stderr.startswith("tuxhook: error: cannot reach Redis at redis://:***@")
        assert "secret" not in done.stderr
