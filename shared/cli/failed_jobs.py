"""The failed registries, RQ's dead letters: find, requeue and purge the jobs in them
(shared/cli/failures.py reads them, and says why each job failed)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from redis import Redis
from rq.exceptions import InvalidJobOperation, NoSuchJobError
from rq.job import Job
from rq.registry import FailedJobRegistry
from rq.serializers import JSONSerializer

from shared.cli.failures import FailedJob, describe, entries, failed_at, registry
from shared.constants import (
    NOTIFY_QUEUE,
    NOTIFY_RETRY_INTERVALS_S,
    QUEUE_NAMES,
    RETRY_INTERVALS_S,
)
from shared.errors import NotFound, UsageError


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
    requeued: list[FailedJob] = field(default_factory=list)  # each as it was when it failed
    gone: list[str] = field(default_factory=list)  # expired, or requeued by someone else meanwhile


def restore_retries(job: Job) -> None:
    """Give a failed job its whole retry budget back, as it was first queued (a delivery's, on
    the notify queue).

    It reached the failed registry with no retries left (spent on a long outage, or cancelled as
    a permanent failure), so without this a replay that then meets a locked or restarting
    database would fail for good at once. The reason of the last failure goes too (the failed
    run keeps it in the job's results), and the meta counts the replays instead.
    """
    intervals = NOTIFY_RETRY_INTERVALS_S if job.origin == NOTIFY_QUEUE else RETRY_INTERVALS_S
    job.retries_left = len(intervals)
    job.retry_intervals = list(intervals)
    job.meta.pop("failure", None)
    # Never empty, so that requeue's save writes it: RQ skips an empty meta, keeping the old one.
    job.meta["replays"] = int(job.meta.get("replays", 0)) + 1


def _requeue_one(connection: Redis, job_id: str, queue: str) -> FailedJob | None:
    """The job as it failed, once requeued; None if it is no longer there to requeue."""
    reg = registry(queue, connection)
    score = connection.zscore(reg.key, job_id)
    try:
        job = Job.fetch(job_id, connection=connection, serializer=JSONSerializer)
    except NoSuchJobError:
        # The job's hash expired before its registry entry: nothing left to run.
        reg.remove(job_id)
        return None
    failed = describe(job_id, queue, job, float(score or 0))  # before the reason is cleared
    restore_retries(job)
    try:
        reg.requeue(job)  # saves the rest of the job, budget included, as it queues it
    except InvalidJobOperation:
        return None  # requeued by someone else meanwhile
    return failed


def requeue(connection: Redis, found: dict[str, str]) -> Replayed:
    """Put each failed job back at the tail of its queue, with its retries, to run again."""
    result = Replayed()
    for job_id, queue in found.items():
        failed = _requeue_one(connection, job_id, queue)
        if failed is not None:
            result.requeued.append(failed)
        else:
            result.gone.append(job_id)
    return result


def _doomed(reg: FailedJobRegistry, cutoff: datetime) -> Iterator[tuple[str, Job | None]]:
    for batch in entries(reg):
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
