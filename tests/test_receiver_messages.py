"""What a `tuxhook receiver` process answers, and logs, when it is set up only in part: no
TuxSuite keys, or a store that `tuxhook db upgrade` has not migrated yet."""

from __future__ import annotations

import json
import sqlite3
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from shared.constants import SIGNATURE_HEADER
from tests.support.builders import callback, encode
from tests.support.database import POSTGRES_SERVER_URL, create_database, drop_database
from tests.support.keys import KeyPair
from tests.support.processes import Process, run_tuxhook, start_receiver
from tests.support.redis_server import free_port
from tests.support.users import read_headers, users_toml

UPGRADE = "run `tuxhook db upgrade`"


def request(url: str, body: bytes | None = None, headers: dict[str, str] | None = None) -> Any:
    """(status, JSON body) of a GET, or of a POST when there is a body."""
    req = urllib.request.Request(url, data=body, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, json.load(resp)
    except urllib.error.HTTPError as e:
        return e.code, json.load(e)


def events(receiver: Process) -> list[dict[str, Any]]:
    return [json.loads(ln) for ln in receiver.output().splitlines() if ln.startswith("{")]


def test_a_receiver_without_keys_says_so_to_a_signed_callback(
    settings_env: dict[str, str], keys: KeyPair, tmp_path: Path
) -> None:
    users = tmp_path / "users.toml"
    users.write_text(users_toml(), encoding="utf-8")
    env = {k: v for k, v in settings_env.items() if k != "TUXHOOK_TUXSUITE_KEYS_FILE"}
    env["TUXHOOK_USERS_FILE"] = str(users)
    port = free_port()
    receiver = start_receiver(env, port, tmp_path / "receiver.log")
    try:
        body = encode(callback("build"))
        headers = {"Content-Type": "application/json", SIGNATURE_HEADER: keys.sign(body)}
        url = f"http://127.0.0.1:{port}/v1/callbacks/tuxsuite"
        status, answer = request(url, body, headers)
    finally:
        receiver.stop()
    assert (status, answer) == (
        401,
        {
            "error": "bad_signature",
            "message": "no TuxSuite keys are configured here, so no signature can match",
        },
    )


@pytest.fixture(
    params=["sqlite-missing", "sqlite-empty", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def unmigrated_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A store `tuxhook db upgrade` has not run on: no SQLite file yet, an empty SQLite file,
    or an empty PostgreSQL database."""
    if request.param == "postgres":
        url = create_database(POSTGRES_SERVER_URL)
        yield url
        drop_database(POSTGRES_SERVER_URL, url)
        return
    path = tmp_path / "store.sqlite3"
    if request.param == "sqlite-empty":
        sqlite3.connect(path).close()
    yield f"sqlite:///{path}"


def test_a_store_not_migrated_says_what_to_run_in_the_answer_and_the_log(
    settings_env: dict[str, str], unmigrated_store: str, tmp_path: Path
) -> None:
    env = settings_env | {"TUXHOOK_DATABASE_URL": unmigrated_store, "TUXHOOK_LOG_LEVEL": "INFO"}
    port = free_port()
    receiver = start_receiver(env, port, tmp_path / "receiver.log")
    try:
        outcomes = f"http://127.0.0.1:{port}/v1/outcomes"
        before = request(outcomes, headers=read_headers())
        assert run_tuxhook(env, "db", "upgrade").returncode == 0
        after = request(outcomes, headers=read_headers())
    finally:
        receiver.stop()
    assert before == (
        503,
        {
            "error": "database_unavailable",
            "message": f"the outcome store has not been migrated: {UPGRADE}, then retry",
        },
    )
    assert after == (200, {"outcomes": [], "next_cursor": None})
    logged = events(receiver)
    [starting] = [e for e in logged if e["event"] == "receiver_starting"]
    [unreadable] = [e for e in logged if e["event"] == "outcomes_unreadable"]
    # The log says which store, where: a SQLite file's absolute path, whatever the URL said.
    assert starting["store"] in unreadable["fix"] and UPGRADE in unreadable["fix"]
    assert starting["store"].startswith("/") or starting["store"].startswith("postgresql")
