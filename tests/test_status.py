"""`tuxhook status`: counts per queue, the oldest waiting job and the workers, from real RQ."""

from __future__ import annotations

import json
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from redis import Redis

from shared.constants import QUEUE_NAMES
from shared.queue_status import status
from tests.support.cli import one_line_error, run_cli
from tests.support.jobs import BLOCK, RELEASE_KEY, enqueue, failed_jobs, queue
from tests.support.processes import Process, child_env
from tests.support.redis_server import free_port

BUSY_TIMEOUT_S = 15.0  # seconds for an rq worker to pick up a job


def status_json(env: dict[str, str]) -> dict[str, Any]:
    result = run_cli(env, "status", "--json")
    assert result.returncode == 0, result.stderr
    doc: dict[str, Any] = json.loads(result.stdout)
    return doc


def by_queue(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {q["name"]: q for q in doc["queues"]}


def test_status_of_empty_queues(settings_env: dict[str, str]) -> None:
    doc = status_json(settings_env)
    assert [q["name"] for q in doc["queues"]] == list(QUEUE_NAMES)
    for q in doc["queues"]:
        assert q == {
            "name": q["name"],
            "queued": 0,
            "started": 0,
            "failed": 0,
            "scheduled": 0,
            "oldest_queued_age_s": None,
            "last_failure": None,
        }
    assert doc["workers"] == []


def test_status_counts_queued_failed_and_scheduled_jobs(
    settings_env: dict[str, str], redis_client: Redis
) -> None:
    failed_jobs(redis_client, "test", 2)
    for _ in range(3):
        enqueue(redis_client, "build")
    queue(redis_client, "plan").enqueue_in(timedelta(hours=1), "tests.support.jobs.succeed")
    time.sleep(1.1)  # so that the oldest build job is at least a second old
    queues = by_queue(status_json(settings_env))
    assert (queues["build"]["queued"], queues["build"]["failed"]) == (3, 0)
    assert 1.0 <= queues["build"]["oldest_queued_age_s"] < 30
    assert (queues["test"]["queued"], queues["test"]["failed"]) == (0, 2)
    assert queues["plan"]["scheduled"] == 1
    assert queues["oebuild"]["oldest_queued_age_s"] is None


def test_status_shows_a_busy_worker_and_its_job(
    settings_env: dict[str, str], redis_client: Redis, tmp_path: Path
) -> None:
    job = enqueue(
        redis_client, "oebuild", BLOCK, kwargs={"redis_url": settings_env["TUXHOOK_REDIS_URL"]}
    )
    rq_worker = [sys.executable, "-m", "rq.cli", "worker", "--burst", "--name", "busy-1"]
    rq_worker += ["--url", settings_env["TUXHOOK_REDIS_URL"], "--serializer", "json", "oebuild"]
    worker = Process(rq_worker, child_env(settings_env), tmp_path / "rq-worker.log")
    try:
        doc = wait_for(settings_env, lambda d: by_queue(d)["oebuild"]["started"] == 1)
        [shown] = doc["workers"]
        assert (shown["name"], shown["state"], shown["queues"]) == ("busy-1", "busy", ["oebuild"])
        assert shown["current_job"] == job.id
        assert shown["last_heartbeat"]
        assert by_queue(doc)["oebuild"]["queued"] == 0
    finally:
        redis_client.set(RELEASE_KEY, 1)
        worker.stop()


def wait_for(env: dict[str, str], done: Any) -> dict[str, Any]:
    deadline = time.monotonic() + BUSY_TIMEOUT_S
    while time.monotonic() < deadline:
        doc = status_json(env)
        if done(doc):
            return doc
        time.sleep(0.2)
    raise AssertionError(f"status never matched: {doc}")


def test_status_as_text_has_a_row_per_queue(
    settings_env: dict[str, str], redis_client: Redis
) -> None:
    failed_jobs(redis_client, "build", 1)
    result = run_cli(settings_env, "status")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["QUEUE", "QUEUED", "STARTED", "FAILED", "SCHEDULED", "OLDEST"]
    rows = {line.split()[0]: line.split()[1:] for line in lines[1:5]}
    assert rows["build"] == ["0", "0", "1", "0", "-"]
    assert "workers: 0" in lines


def test_status_without_redis_is_one_line_error(settings_env: dict[str, str]) -> None:
    env = settings_env | {"TUXHOOK_REDIS_URL": f"redis://:hunter2@127.0.0.1:{free_port()}/0"}
    line = one_line_error(run_cli(env, "status"))
    assert "did not answer" in line
    assert "hunter2" not in line


def test_status_reads_without_cleaning_up(redis_client: Redis) -> None:
    """An observer must not run RQ's registry maintenance (it would fail abandoned jobs)."""
    started = queue(redis_client, "build").started_job_registry
    redis_client.zadd(started.key, {"build-abandoned:exec-1": 1})  # expired long ago
    [build] = [q for q in status(redis_client).queues if q.name == "build"]
    assert build.started == 1
    assert redis_client.zcard(started.key) == 1
