"""Failures are visible: `tuxhook failed`, `replay` and `status` say why each job failed, in one
line, from jobs a real worker failed; and no traceback reaches the user."""

from __future__ import annotations

import json
import traceback
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from redis import Redis

from shared.cli.failures import REASON_MAX_CHARS, exception_line
from shared.settings import Settings
from tests.support.cli import one_line_error, run_cli
from tests.support.database import migrate
from tests.support.failures import (
    delivery,
    queue_delivery,
    spend_retries,
    unparsable,
    work_until_failed,
)
from tests.support.redis_server import free_port

LOCKED = "sqlalchemy.exc.OperationalError: (sqlite3.OperationalError) database is locked"


@dataclass(frozen=True)
class Failure:
    job_id: str
    kind: str
    uid: str
    reason_starts: str


@pytest.fixture
def store(settings_env: dict[str, str]) -> str:
    url = settings_env["TUXHOOK_DATABASE_URL"]
    migrate(url)
    return url


async def failed_for_good(settings: Settings, redis: Redis, env: dict[str, str]) -> list[Failure]:
    """A build whose body cannot be parsed (a permanent failure: the worker records why), and a
    plan with no retries left that meets a locked store (RQ's traceback tells why)."""
    build, plan = unparsable("build"), delivery("plan")
    build_job = await queue_delivery(settings, build)
    plan_job = await queue_delivery(settings, plan)
    spend_retries(redis, plan_job)
    work_until_failed(env, "build", "plan", store_locked=True)
    return [
        Failure(build_job, "build", build.uid, f"permanent: PermanentError: build {build.uid}: "),
        Failure(plan_job, "plan", plan.uid, LOCKED),
    ]


def failed_json(env: dict[str, str], *args: str) -> list[dict[str, Any]]:
    result = run_cli(env, "failed", "--json", *args)
    assert result.returncode == 0, result.stderr
    listed: list[dict[str, Any]] = json.loads(result.stdout)
    return listed


async def test_failed_lists_each_job_with_its_kind_uid_time_and_reason(
    settings: Settings, settings_env: dict[str, str], redis_client: Redis, store: str
) -> None:
    before = datetime.now(UTC).replace(microsecond=0)
    made = await failed_for_good(settings, redis_client, settings_env)
    after = datetime.now(UTC)
    listed = {f["job_id"]: f for f in failed_json(settings_env)}
    assert listed.keys() == {m.job_id for m in made}
    for m in made:
        shown = listed[m.job_id]
        assert (shown["queue"], shown["kind"], shown["uid"]) == (m.kind, m.kind, m.uid)
        assert before <= datetime.fromisoformat(shown["failed_at"]) <= after
        assert shown["reason"].startswith(m.reason_starts), shown["reason"]
        assert "\n" not in shown["reason"] and "Traceback" not in shown["reason"]
    assert "not valid JSON" in listed[made[0].job_id]["reason"]
    assert listed[made[1].job_id]["reason"] == LOCKED
    assert [f["job_id"] for f in failed_json(settings_env, "--queue", "plan")] == [made[1].job_id]


async def test_failed_as_text_is_a_row_per_job(
    settings: Settings, settings_env: dict[str, str], redis_client: Redis, store: str
) -> None:
    made = await failed_for_good(settings, redis_client, settings_env)
    result = run_cli(settings_env, "failed")
    assert result.returncode == 0, result.stderr
    header, *rows = result.stdout.splitlines()
    assert header.split() == ["FAILED", "(UTC)", "KIND", "UID", "JOB", "REASON"]
    assert len(rows) == len(made)
    for m in made:
        [row] = [r for r in rows if m.job_id in r]
        assert row.split()[2:5] == [m.kind, m.uid, m.job_id]
        assert m.reason_starts in row
    assert "Traceback" not in result.stdout + result.stderr


def test_failed_without_failed_jobs_says_so(
    settings_env: dict[str, str], redis_client: Redis
) -> None:
    result = run_cli(settings_env, "failed")
    assert (result.returncode, result.stdout) == (0, "no failed jobs\n")
    assert failed_json(settings_env) == []


async def test_replay_prints_what_it_requeued_and_why_each_had_failed(
    settings: Settings, settings_env: dict[str, str], redis_client: Redis, store: str
) -> None:
    made = await failed_for_good(settings, redis_client, settings_env)
    result = run_cli(settings_env, "replay", "--all")
    assert result.returncode == 0, result.stderr
    *lines, total = result.stdout.splitlines()
    assert total == "requeued 2 failed job(s)"
    for m in made:
        [line] = [ln for ln in lines if m.job_id in ln]
        assert line.startswith(f"requeued {m.job_id} on {m.kind}; it had failed at ")
        assert f": {m.reason_starts}" in line
    assert failed_json(settings_env) == []


async def test_status_shows_the_reason_of_each_queues_latest_failure(
    settings: Settings, settings_env: dict[str, str], redis_client: Redis, store: str
) -> None:
    first = await queue_delivery(settings, unparsable("build"))
    work_until_failed(settings_env, "build")
    latest = unparsable("build")
    latest_job = await queue_delivery(settings, latest)
    work_until_failed(settings_env, "build")
    result = run_cli(settings_env, "status", "--json")
    assert result.returncode == 0, result.stderr
    queues = {q["name"]: q for q in json.loads(result.stdout)["queues"]}
    assert queues["build"]["failed"] == 2
    shown = queues["build"]["last_failure"]
    assert (shown["job_id"], shown["uid"]) == (latest_job, latest.uid)
    assert shown["job_id"] != first
    assert shown["reason"].startswith(f"permanent: PermanentError: build {latest.uid}: ")
    assert {q["last_failure"] for name, q in queues.items() if name != "build"} == {None}
    text = run_cli(settings_env, "status").stdout.splitlines()
    at = text.index("last failure (UTC):")
    assert text[at + 1].split()[0] == "build"
    assert f"  {latest.uid}  permanent: PermanentError: " in text[at + 1]


@pytest.mark.parametrize(
    "args",
    [["failed"], ["failed", "--json"], ["replay", "--all"], ["status"]],
    ids=["failed", "failed-json", "replay", "status"],
)
def test_without_redis_each_command_is_one_line(
    settings_env: dict[str, str], args: list[str]
) -> None:
    env = settings_env | {"TUXHOOK_REDIS_URL": f"redis://:hunter2@127.0.0.1:{free_port()}/0"}
    line = one_line_error(run_cli(env, *args))
    assert "did not answer" in line and "hunter2" not in line


def raised(error: BaseException) -> str:
    """`error`'s traceback, formatted as RQ stores it."""
    try:
        raise error
    except BaseException:
        return traceback.format_exc()


def chained() -> str:
    try:
        try:
            raise KeyError("inner")
        except KeyError as e:
            raise RuntimeError("outer, first line\nsecond line\n(Background on this error)") from e
    except RuntimeError:
        return traceback.format_exc()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (raised(ValueError("plain")), "ValueError: plain"),
        (chained(), "RuntimeError: outer, first line"),
        (raised(ValueError("")), "ValueError"),
        ("Moved to FailedJobRegistry, due to AbandonedJobError", "Moved to FailedJobRegistry"),
        ("", "no reason recorded"),
        (raised(ValueError("x" * 1000)), "ValueError: xxx"),
        (
            raised(ValueError("\x1b[2J\x1b]0;pwned\x07 cleared")),
            "ValueError: \\x1b[2J\\x1b]0;pwned",
        ),
    ],
    ids=[
        "plain",
        "chained-multiline",
        "no-message",
        "not-a-traceback",
        "empty",
        "long",
        "terminal-escapes",
    ],
)
def test_the_reason_is_the_line_that_names_the_last_exception(text: str, expected: str) -> None:
    line = exception_line(text)
    assert line.startswith(expected)
    assert len(line) <= REASON_MAX_CHARS
    assert line.isprintable()
