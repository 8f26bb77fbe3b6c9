"""`tuxhook replay` and `tuxhook purge-failed` on real failed RQ jobs."""

from __future__ import annotations

from datetime import timedelta

import pytest
from redis import Redis
from rq.job import Job
from rq.serializers import JSONSerializer

from shared.cli.queues import parse_duration
from shared.constants import RETRY_INTERVALS_S
from shared.errors import UsageError
from shared.settings import Settings
from tests.support.cli import one_line_error, run_cli
from tests.support.jobs import age_failure, failed_jobs, queue
from tests.support.workers import drain


def failed_ids(redis: Redis, name: str) -> set[str]:
    return set(queue(redis, name).failed_job_registry.get_job_ids())


def queued_ids(redis: Redis, name: str) -> set[str]:
    return set(queue(redis, name).get_job_ids())


def test_replay_requeues_the_jobs_named(settings_env: dict[str, str], redis_client: Redis) -> None:
    first, second, kept = failed_jobs(redis_client, "build", 3)
    result = run_cli(settings_env, "replay", first, second)
    assert result.returncode == 0, result.stderr
    assert f"requeued {first} on build" in result.stdout
    assert result.stdout.splitlines()[-1] == "requeued 2 failed job(s)"
    assert queued_ids(redis_client, "build") == {first, second}
    assert failed_ids(redis_client, "build") == {kept}


def test_replay_all_requeues_every_queue(settings_env: dict[str, str], redis_client: Redis) -> None:
    builds, tests = failed_jobs(redis_client, "build", 2), failed_jobs(redis_client, "test", 1)
    result = run_cli(settings_env, "replay", "--all")
    assert result.returncode == 0, result.stderr
    assert queued_ids(redis_client, "build") == set(builds)
    assert queued_ids(redis_client, "test") == set(tests)
    assert failed_ids(redis_client, "build") == failed_ids(redis_client, "test") == set()


def test_replay_all_of_one_queue(settings_env: dict[str, str], redis_client: Redis) -> None:
    builds, tests = failed_jobs(redis_client, "build", 1), failed_jobs(redis_client, "test", 2)
    assert run_cli(settings_env, "replay", "--all", "--queue", "test").returncode == 0
    assert queued_ids(redis_client, "test") == set(tests)
    assert failed_ids(redis_client, "build") == set(builds)


def test_a_replayed_job_runs_again(
    settings: Settings, settings_env: dict[str, str], redis_client: Redis
) -> None:
    [job_id] = failed_jobs(redis_client, "plan", 1)
    assert run_cli(settings_env, "replay", job_id).returncode == 0
    job = Job.fetch(job_id, connection=redis_client, serializer=JSONSerializer)
    assert job.get_status() == "queued"
    drain(settings, redis_client)  # as `tuxhook worker` runs it
    assert len(job.results()) == 2  # it failed again, so it was run a second time
    assert failed_ids(redis_client, "plan") == {job_id}


def test_a_replayed_job_gets_its_retries_back(
    settings_env: dict[str, str], redis_client: Redis
) -> None:
    [job_id] = failed_jobs(redis_client, "test", 1)
    spent = Job.fetch(job_id, connection=redis_client, serializer=JSONSerializer)
    spent.retries_left = 0
    spent.meta["failure"] = "permanent: RuntimeError: this job always fails"
    spent.save()
    assert run_cli(settings_env, "replay", job_id).returncode == 0
    job = Job.fetch(job_id, connection=redis_client, serializer=JSONSerializer)
    assert job.retries_left == len(RETRY_INTERVALS_S)
    assert job.retry_intervals == list(RETRY_INTERVALS_S)
    assert job.meta == {"replays": 1}
    assert job.get_status() == "queued"


def test_replay_of_an_unknown_id_requeues_nothing(
    settings_env: dict[str, str], redis_client: Redis
) -> None:
    [known] = failed_jobs(redis_client, "build", 1)
    line = one_line_error(run_cli(settings_env, "replay", known, "build-no-such-job"))
    assert "build-no-such-job" in line
    assert known not in line
    assert failed_ids(redis_client, "build") == {known}
    assert queued_ids(redis_client, "build") == set()


def test_replay_looks_only_in_the_queue_given(
    settings_env: dict[str, str], redis_client: Redis
) -> None:
    [job_id] = failed_jobs(redis_client, "build", 1)
    line = one_line_error(run_cli(settings_env, "replay", "--queue", "test", job_id))
    assert "of queue test" in line
    assert failed_ids(redis_client, "build") == {job_id}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--all", "build-x"], "either --all or JOB_IDs, not both"),
        ([], "needs JOB_IDs or --all"),
        (["--all", "--queue", "nope"], "unknown queue 'nope'"),
    ],
)
def test_replay_usage_errors(settings_env: dict[str, str], args: list[str], message: str) -> None:
    assert message in one_line_error(run_cli(settings_env, "replay", *args))


def test_purge_deletes_only_jobs_failed_longer_ago(
    settings_env: dict[str, str], redis_client: Redis
) -> None:
    old, recent = failed_jobs(redis_client, "build", 2)
    [old_test] = failed_jobs(redis_client, "test", 1)
    age_failure(redis_client, old, timedelta(days=8))
    age_failure(redis_client, old_test, timedelta(days=8))
    result = run_cli(settings_env, "purge-failed", "--older-than", "7d")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "purged 2 failed job(s) older than 7d"
    assert failed_ids(redis_client, "build") == {recent}
    assert failed_ids(redis_client, "test") == set()
    assert not redis_client.exists(Job.key_for(old))
    assert redis_client.exists(Job.key_for(recent))


def test_purge_of_one_queue(settings_env: dict[str, str], redis_client: Redis) -> None:
    builds, tests = failed_jobs(redis_client, "build", 1), failed_jobs(redis_client, "test", 1)
    for job_id in builds + tests:
        age_failure(redis_client, job_id, timedelta(hours=2))
    result = run_cli(settings_env, "purge-failed", "--older-than", "1h", "--queue", "test")
    assert result.returncode == 0, result.stderr
    assert failed_ids(redis_client, "build") == set(builds)
    assert failed_ids(redis_client, "test") == set()


def test_purge_drops_entries_whose_job_expired(
    settings_env: dict[str, str], redis_client: Redis
) -> None:
    [job_id] = failed_jobs(redis_client, "oebuild", 1)
    redis_client.delete(Job.key_for(job_id))
    result = run_cli(settings_env, "purge-failed", "--older-than", "30s")
    assert "purged 1 failed job(s)" in result.stdout
    assert failed_ids(redis_client, "oebuild") == set()


@pytest.mark.parametrize("duration", ["7", "7w", "-1d", "1.5h", "d", "", "7d1h", "7 d"])
def test_purge_refuses_a_malformed_duration(settings_env: dict[str, str], duration: str) -> None:
    line = one_line_error(run_cli(settings_env, "purge-failed", f"--older-than={duration}"))
    assert "is not a duration like 30s, 15m, 12h or 7d" in line


@pytest.mark.parametrize(
    ("text", "seconds"), [("30s", 30), ("15m", 900), ("12h", 43200), ("7d", 604800), ("0s", 0)]
)
def test_parse_duration(text: str, seconds: int) -> None:
    assert parse_duration(text) == timedelta(seconds=seconds)


def test_parse_duration_error_is_a_usage_error() -> None:
    with pytest.raises(UsageError):
        parse_duration("soon")
