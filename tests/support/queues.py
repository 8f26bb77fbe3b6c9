"""Read what the receiver put in Redis, as a worker would see it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from redis import Redis
from rq import Queue, Worker
from rq.job import Job
from rq.scheduler import RQScheduler
from rq.serializers import JSONSerializer

from shared.constants import QUEUE_NAMES


def queued_jobs(redis: Redis) -> list[Job]:
    jobs: list[Job] = []
    for name in QUEUE_NAMES:
        jobs.extend(Queue(name, connection=redis, serializer=JSONSerializer).get_jobs())
    return jobs


def queued_count(redis: Redis) -> int:
    return sum(
        Queue(name, connection=redis, serializer=JSONSerializer).count for name in QUEUE_NAMES
    )


def delivery_of(job: Job) -> dict[str, Any]:
    delivery: dict[str, Any] = job.kwargs["delivery"]
    return delivery


def _queues(redis: Redis) -> list[Queue]:
    return [Queue(name, connection=redis, serializer=JSONSerializer) for name in QUEUE_NAMES]


def _members(redis: Redis, q: Queue) -> list[bytes]:
    """The started registry's entries, `job_id:execution_id`, without its cleanup."""
    return cast(list[bytes], redis.zrange(q.started_job_registry.key, 0, -1))


def started_job_ids(redis: Redis) -> set[str]:
    """Jobs a worker has started and not finished: running, or abandoned by a dead worker.

    Read without the registry's cleanup, which would fail or retry expired entries itself.
    """
    ids: set[str] = set()
    for q in _queues(redis):
        ids.update(entry.decode().split(":")[0] for entry in _members(redis, q))
    return ids


def failed_job_ids(redis: Redis) -> set[str]:
    return {jid for q in _queues(redis) for jid in q.failed_job_registry.get_job_ids()}


def scheduled_job_ids(redis: Redis) -> set[str]:
    return {jid for q in _queues(redis) for jid in q.scheduled_job_registry.get_job_ids()}


def _scheduled(redis: Redis, q: Queue) -> list[tuple[bytes, float]]:
    """The scheduled registry's entries and their scores (due times)."""
    return cast(
        list[tuple[bytes, float]],
        redis.zrange(q.scheduled_job_registry.key, 0, -1, withscores=True),
    )


def scheduled_times(redis: Redis) -> dict[str, int]:
    """When each scheduled job is due, in whole Unix seconds, as RQ's scheduler reads it."""
    return {
        entry.decode(): int(score) for q in _queues(redis) for entry, score in _scheduled(redis, q)
    }


def make_scheduled_due(redis: Redis) -> int:
    """Make every scheduled job due now, rather than wait for its time: the next scheduler pass
    queues them. Returns how many there were."""
    count = 0
    for q in _queues(redis):
        entries = [entry for entry, _ in _scheduled(redis, q)]
        if entries:
            redis.zadd(q.scheduled_job_registry.key, dict.fromkeys(entries, 1), xx=True)
        count += len(entries)
    return count


def expire_started(redis: Redis) -> int:
    """Make every started job's execution look expired, as if its worker's heartbeat had run
    out: the next maintenance treats them as abandoned. Returns how many there were."""
    count = 0
    for q in _queues(redis):
        entries = _members(redis, q)
        if entries:
            redis.zadd(q.started_job_registry.key, dict.fromkeys(entries, 1), xx=True)
        count += len(entries)
    return count


def busy_worker_job(redis: Redis, pid: int) -> str | None:
    """The job the RQ worker of process `pid` is running, if it is registered and busy."""
    for worker in Worker.all(connection=redis):
        if worker.pid == pid and worker.get_state() == "busy":
            job_id: str | None = worker.get_current_job_id()
            return job_id
    return None


def scheduler_locked(redis: Redis, names: Sequence[str] = QUEUE_NAMES) -> bool:
    """Some worker's scheduler holds the lock of every queue named: scheduled retries of
    their jobs will run."""
    return all(redis.exists(RQScheduler.get_locking_key(name)) for name in names)
