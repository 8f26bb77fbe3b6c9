"""The failed registries, RQ's dead letters: find, requeue and purge the jobs in them."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import cast

from redis import Redis
from rq.exceptions import InvalidJobOperation, NoSuchJobError
from rq.job import Job
from rq.registry import FailedJobRegistry
from rq.serializers import JSONSerializer

from shared.constants import (
    FAILED_JOBS_BATCH,
    JOB_FAILURE_TTL_S,
    QUEUE_NAMES,
    RETRY_INTERVALS_S,
)
from shared.errors import NotFound, UsageError


def registry(queue: str, connection: Redis) -> FailedJobRegistry:
    return FailedJobRegistry(queue, connection=connection, serializer=JSONSerializer)


def select_queues(queue: str | None) -> tuple[str, ...]:
    """Every queue, or the one named, which must exist."""
    if queue is None:
        return QUEUE_NAMES
    if queue not in QUEUE_NAMES:
        raise UsageError(f"unknown queue {queue!r}; one of {', '.join(QUEUE_NAMES)}")
    return (queue,)


def locate(connection: Redis, job_ids: Iterable[str], queues: Iterable[str]) -> dict[str, str]:
    """Job id -> the queue whose failed registry holds it; NotFound names every id it lacks."""
    ids, names = list(dict.fromkeys(job_ids)), list(queues)
    with connection.pipeline(transaction=False) as pipe:
        for job_id in ids:
            for queue in names:
                pipe.zscore(registry(queue, connection).key, job_id)
        scores = iter(pipe.execute())
    found: dict[str, str] = {}
    for job_id in ids:
        for queue in names:
            if next(scores) is not None:
                found.setdefault(job_id, queue)
    missing = [job_id for job_id in ids if job_id not in found]
    if missing:
        where = f" of queue {names[0]}" if len(names) == 1 else ""
        raise NotFound(f"no failed job {', '.join(missing)} in the failed registry{where}")
    return found


def all_failed(connection: Redis, queues: Iterable[str]) -> dict[str, str]:
    return {
        job_id: queue
        for queue in queues
        for job_id in registry(queue, connection).get_job_ids(cleanup=False)
    }


@dataclass
class Replayed:
    requeued: list[tuple[str, str]] = field(default_factory=list)  # (job id, queue)
    gone: list[str] = field(default_factory=list)  # expired, or requeued by someone else meanwhile


def restore_retries(job: Job) -> None:
    """Give a failed job its whole retry budget back, as the receiver first queued it.

    It reached the failed registry with no retries left (spent on a long outage, or cancelled as
    a permanent failure), so without this a replay that then meets a locked or restarting
    database would fail for good at once. The reason of the last failure goes too (the failed
    run keeps it in the job's results), and the meta counts the replays instead.
    """
    job.retries_left = len(RETRY_INTERVALS_S)
    job.retry_intervals = list(RETRY_INTERVALS_S)
    job.meta.pop("failure", None)
    # Never empty, so that requeue's save writes it: RQ skips an empty meta, keeping the old one.
    job.meta["replays"] = int(job.meta.get("replays", 0)) + 1


def _requeue_one(connection: Redis, job_id: str, queue: str) -> bool:
    reg = registry(queue, connection)
    try:
        job = Job.fetch(job_id, connection=connection, serializer=JSONSerializer)
    except NoSuchJobError:
        # The job's hash expired before its registry entry: nothing left to run.
        reg.remove(job_id)
        return False
    restore_retries(job)
    try:
        reg.requeue(job)  # saves the rest of the job, budget included, as it queues it
    except InvalidJobOperation:
        return False  # requeued by someone else meanwhile
    return True


def requeue(connection: Redis, found: dict[str, str]) -> Replayed:
    """Put each failed job back at the tail of its queue, with its retries, to run again."""
    result = Replayed()
    for job_id, queue in found.items():
        if _requeue_one(connection, job_id, queue):
            result.requeued.append((job_id, queue))
        else:
            result.gone.append(job_id)
    return result


def _entries(reg: FailedJobRegistry) -> Iterator[list[tuple[str, float]]]:
    """The registry's (job id, expiry score), a batch at a time, oldest expiry first."""
    start = 0
    while True:
        raw = reg.connection.zrange(reg.key, start, start + FAILED_JOBS_BATCH - 1, withscores=True)
        batch = cast(list[tuple[bytes, float]], raw)
        if not batch:
            return
        yield [(member.decode(), float(score)) for member, score in batch]
        start += FAILED_JOBS_BATCH


def failed_at(job: Job, expiry_score: float) -> datetime:
    """When the job failed: RQ's end time, else its registry expiry less its failure TTL."""
    if job.ended_at is not None:
        return job.ended_at
    ttl = job.failure_ttl if job.failure_ttl is not None else JOB_FAILURE_TTL_S
    return datetime.fromtimestamp(expiry_score - ttl, UTC)


def _doomed(reg: FailedJobRegistry, cutoff: datetime) -> Iterator[tuple[str, Job | None]]:
    for batch in _entries(reg):
        jobs = Job.fetch_many([i for i, _ in batch], reg.connection, serializer=JSONSerializer)
        for (job_id, score), job in zip(batch, jobs, strict=True):
            if job is None or failed_at(job, score) <= cutoff:
                yield job_id, job


def purge(connection: Redis, queues: Iterable[str], older_than: timedelta, now: datetime) -> int:
    """Delete the failed jobs that failed before `now - older_than`; returns how many."""
    cutoff, purged = now - older_than, 0
    for queue in queues:
        reg = registry(queue, connection)
        # Collected first: deleting while paging through the sorted set would skip entries.
        for job_id, job in list(_doomed(reg, cutoff)):
            if job is None:
                reg.remove(job_id)  # its hash already expired
            else:
                job.delete()
            purged += 1
    return purged
