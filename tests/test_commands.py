"""`tuxhook db upgrade` and `tuxhook worker`: what they refuse, and what they create."""

from __future__ import annotations

from pathlib import Path

from tests.support.processes import run_tuxhook


def test_db_upgrade_creates_the_sqlite_directory(
    settings_env: dict[str, str], tmp_path: Path
) -> None:
    path = tmp_path / "var" / "deeper" / "tuxhook.sqlite3"
    env = {**settings_env, "TUXHOOK_DATABASE_URL": f"sqlite:///{path}"}
    assert run_tuxhook(env, "db", "upgrade").returncode == 0
    assert path.is_file()


def test_a_worker_refuses_a_store_that_is_not_migrated(
    settings_env: dict[str, str], tmp_path: Path
) -> None:
    env = {**settings_env, "TUXHOOK_DATABASE_URL": f"sqlite:///{tmp_path / 'empty.sqlite3'}"}
    done = run_tuxhook(env, "worker", "--burst")
    assert done.returncode == 1
    assert "schema revision none, not 0001: run `tuxhook db upgrade`" in done.stderr


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
