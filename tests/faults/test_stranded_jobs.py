"""A job stranded in its queue's intermediate list (taken by a worker that died before starting
it) goes back to the front of its queue, its retries unspent and the failed registry empty.

These call worker/stranded.py against the real Redis, with the "first seen" mark written as
it would be a grace period ago.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
import structlog
from redis import Redis
from rq.job import Job, JobStatus
from rq.serializers import JSONSerializer
from rq.utils import now, utcformat

from receiver.enqueue import RETRY
from shared.constants import RETRY_INTERVALS_S, STRANDED_JOB_GRACE_S
from shared.settings import Settings
from tests.support.jobs import SUCCEED, enqueue
from tests.support.queues import failed_job_ids, scheduled_job_ids
from tests.support.stranding import (
    intermediate,
    intermediate_ids,
    queue,
    seen_ago,
    strand,
)
from worker.run import build_worker

LONG_AGO_S = STRANDED_JOB_GRACE_S + 5  # a mark this old is past the grace
RECOVERY_BOUND_S = 120.0  # issue 6: an accepted callback is stored within 2 minutes
RECOVERY_POLL_S = 0.25  # seconds between two looks at the store while waiting long


def fetch(redis: Redis, job_id: str) -> Job:
    return Job.fetch(job_id, connection=redis, serializer=JSONSerializer)


def stranded(redis: Redis) -> Job:
    """A build job with the receiver's Retry, so that a spent retry would show."""
    return strand(redis, "build", SUCCEED, retry=RETRY)


def test_a_stranded_job_goes_back_to_the_front_of_its_queue(redis_client: Redis) -> None:
    waiting = enqueue(redis_client, "build")
    job = stranded(redis_client)
    seen_ago(redis_client, job, LONG_AGO_S)
    with structlog.testing.capture_logs() as logs:
        assert intermediate(redis_client, "build").recover(queue(redis_client, "build")) == [job.id]
    assert queue(redis_client, "build").get_job_ids() == [job.id, waiting.id]
    assert intermediate_ids(redis_client, "build") == []
    job = fetch(redis_client, job.id)
    assert (job.get_status(), job.retries_left) == (JobStatus.QUEUED, len(RETRY_INTERVALS_S))
    assert failed_job_ids(redis_client) == set()
    assert intermediate(redis_client, "build").get_first_seen(job.id) is None  # mark gone
    [line] = [e for e in logs if e["event"] == "job_recovered"]
    assert (line["job_id"], line["queue"]) == (job.id, "build")


def test_a_new_entry_is_only_marked(redis_client: Redis) -> None:
    job = stranded(redis_client)
    stranded_jobs = intermediate(redis_client, "build")
    assert stranded_jobs.recover(queue(redis_client, "build")) == []
    first = stranded_jobs.get_first_seen(job.id)
    assert first is not None and abs(first.timestamp() - time.time()) < 5
    assert intermediate_ids(redis_client, "build") == [job.id]


def test_an_entry_within_the_grace_is_left_alone(redis_client: Redis) -> None:
    job = stranded(redis_client)
    seen_ago(redis_client, job, STRANDED_JOB_GRACE_S - 5)
    assert intermediate(redis_client, "build").recover(queue(redis_client, "build")) == []
    assert intermediate_ids(redis_client, "build") == [job.id]
    assert queue(redis_client, "build").get_job_ids() == []


def test_a_started_job_is_left_alone(settings: Settings, redis_client: Redis) -> None:
    """In the started registry: a worker has it (or its entry there has not yet expired)."""
    job = stranded(redis_client)
    build_worker(settings, "build", redis_client).prepare_execution(job)
    seen_ago(redis_client, job, LONG_AGO_S)
    assert intermediate(redis_client, "build").recover(queue(redis_client, "build")) == []
    assert intermediate_ids(redis_client, "build") == [job.id]
    assert queue(redis_client, "build").get_job_ids() == []


def test_a_mark_left_by_an_earlier_pass_of_the_job_starts_the_grace_anew(
    redis_client: Redis,
) -> None:
    """The job was seen here once before (then started, failed and was enqueued again): that
    old mark must not make its new entry look stranded at once."""
    job = stranded(redis_client)
    seen_ago(redis_client, job, LONG_AGO_S)
    redis_client.hset(job.key, "enqueued_at", utcformat(now()))  # enqueued since the mark
    stranded_jobs = intermediate(redis_client, "build")
    assert stranded_jobs.recover(queue(redis_client, "build")) == []
    first = stranded_jobs.get_first_seen(job.id)
    assert first is not None and abs(first.timestamp() - time.time()) < 5


@pytest.mark.parametrize(
    ("spoil", "reason"),
    [
        (lambda redis, job: redis.delete(job.key), "missing"),
        (lambda redis, job: redis.hset(job.key, "status", JobStatus.FINISHED), "finished"),
    ],
    ids=["job gone", "job finished"],
)
def test_an_entry_for_a_job_that_is_not_queued_is_dropped(
    redis_client: Redis, spoil: Callable[[Redis, Job], object], reason: str
) -> None:
    job = stranded(redis_client)
    seen_ago(redis_client, job, LONG_AGO_S)
    spoil(redis_client, job)
    with structlog.testing.capture_logs() as logs:
        assert intermediate(redis_client, "build").recover(queue(redis_client, "build")) == []
    assert intermediate_ids(redis_client, "build") == []
    assert queue(redis_client, "build").get_job_ids() == []
    assert [e["reason"] for e in logs if e["event"] == "stranded_entry_dropped"] == [reason]


def test_an_entry_taken_meanwhile_is_not_pushed_again(redis_client: Redis) -> None:
    """A worker that was slow, not dead, removed the entry as it started the job."""
    job = stranded(redis_client)
    redis_client.lrem(queue(redis_client, "build").intermediate_queue_key, 1, job.id)
    outcome = intermediate(redis_client, "build").requeue(queue(redis_client, "build"), job.id)
    assert outcome == "gone"
    assert queue(redis_client, "build").get_job_ids() == []


def test_a_worker_s_maintenance_requeues_rather_than_fails(
    settings: Settings, redis_client: Redis
) -> None:
    """`tuxhook worker`'s workers run this clean-up, not RQ's, which would spend a retry."""
    job = stranded(redis_client)
    seen_ago(redis_client, job, LONG_AGO_S)
    worker = build_worker(settings, "build", redis_client)
    [build] = worker.queues
    build.intermediate_queue.cleanup(worker, build)  # what the worker's maintenance calls
    assert queue(redis_client, "build").get_job_ids() == [job.id]
    job = fetch(redis_client, job.id)
    assert (job.get_status(), job.retries_left) == (JobStatus.QUEUED, len(RETRY_INTERVALS_S))
    assert (failed_job_ids(redis_client), scheduled_job_ids(redis_client)) == (set(), set())
