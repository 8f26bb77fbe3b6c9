"""Real RQ jobs for the queue tests: functions to run, and builders of queued and failed jobs."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

from redis import Redis
from rq import Queue, Retry, SimpleWorker
from rq.job import Job
from rq.serializers import JSONSerializer
from rq.utils import utcformat

from tests.support.builders import new_uid

FAIL = "tests.support.jobs.fail"
SUCCEED = "tests.support.jobs.succeed"
BLOCK = "tests.support.jobs.block"
RELEASE_KEY = "tests:release"  # block() returns once this key exists
BLOCK_BOUND_S = 60.0  # seconds block() waits at most, so that a failed test leaves no hung job


def fail(**_: Any) -> None:
    raise RuntimeError("this job always fails")


def succeed(**_: Any) -> str:
    return "ok"


def block(redis_url: str) -> None:
    """Stay busy until the test sets RELEASE_KEY: a worker is busy for as long as it looks."""
    redis = Redis.from_url(redis_url)
    try:
        deadline = time.monotonic() + BLOCK_BOUND_S
        while not redis.exists(RELEASE_KEY) and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        redis.close()


def queue(redis: Redis, name: str) -> Queue:
    return Queue(name, connection=redis, serializer=JSONSerializer)


def fetch(redis: Redis, job_id: str) -> Job:
    return Job.fetch(job_id, connection=redis, serializer=JSONSerializer)


def enqueue(redis: Redis, name: str, func: str = SUCCEED, **options: Any) -> Job:
    """A job on queue `name` with an id shaped like the receiver's."""
    job_id = f"{name}-{new_uid()}"
    return queue(redis, name).enqueue_call(func, job_id=job_id, **options)


def work(redis: Redis, *names: str, worker_class: type[SimpleWorker] = SimpleWorker) -> None:
    """Run the queues' jobs in this process until they are empty."""
    worker_class(list(names), connection=redis, serializer=JSONSerializer).work(burst=True)


def failed_jobs(redis: Redis, name: str, count: int) -> list[str]:
    """`count` jobs of queue `name`, run and now in its failed registry."""
    ids = [enqueue(redis, name, FAIL).id for _ in range(count)]
    work(redis, name)
    return ids


def retried_job(redis: Redis, name: str) -> Job:
    """A failing job with one retry left, scheduled far enough away not to run again."""
    return enqueue(redis, name, FAIL, retry=Retry(max=1, interval=3600))


def age_failure(redis: Redis, job_id: str, by: timedelta) -> None:
    """Move a failed job's end time into the past, as if it had failed `by` ago."""
    ended = datetime.now(UTC) - by
    redis.hset(Job.key_for(job_id), "ended_at", utcformat(ended))
