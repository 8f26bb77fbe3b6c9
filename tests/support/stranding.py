"""Jobs left as a worker (or Redis) that died right after taking them leaves them: the job's
hash exists and is QUEUED, its id is in the queue's intermediate list, in no queue, not started.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from redis import Redis
from rq.job import Job
from rq.utils import now, utcformat

from receiver.rq.job_template import RETRY
from shared.constants import HANDLER_PATHS, JOB_RESULT_TTL_S, JOB_TIMEOUT_S
from shared.identity import body_digest, job_id
from shared.jobs import Delivery
from tests.support.builders import encode
from tests.support.jobs import queue
from worker.rq.stranded import StrandedJobs


def strand(redis: Redis, name: str, func: str, **options: Any) -> Job:
    """Queue a job on `name` and take it into the intermediate list in one transaction, as
    a worker's BLMOVE does: a worker waiting on the queue never sees it there."""
    q = queue(redis, name)
    with redis.pipeline() as pipe:
        job = q.enqueue_call(func, pipeline=pipe, **options)
        pipe.lmove(q.key, q.intermediate_queue_key, "RIGHT", "RIGHT")
        pipe.execute()
    return job


def delivery_of(doc: dict[str, Any]) -> Delivery:
    body = encode(doc)
    received = "2024-05-01T10:00:00+00:00"
    return Delivery(
        doc["kind"], doc["status"]["uid"], body_digest(body), body.decode(), received, "x"
    )


def strand_callback(redis: Redis, delivery: Delivery) -> Job:
    """The job the receiver queues for `delivery` (same id, handler and Retry), stranded."""
    return strand(
        redis,
        delivery.kind,
        HANDLER_PATHS[delivery.kind],
        kwargs={"delivery": delivery.to_job()},
        job_id=job_id(delivery.kind, delivery.uid, delivery.digest),
        timeout=JOB_TIMEOUT_S,
        result_ttl=JOB_RESULT_TTL_S,
        retry=RETRY,
    )


def intermediate(redis: Redis, name: str) -> StrandedJobs:
    return StrandedJobs(queue(redis, name).key, connection=redis)


def seen_ago(redis: Redis, job: Job, seconds: float) -> None:
    """Mark `job`'s entry as first seen in its intermediate list `seconds` ago, and the job
    as enqueued a moment before that, as it would have been."""
    seen = now() - timedelta(seconds=seconds)
    redis.hset(job.key, "enqueued_at", utcformat(seen - timedelta(seconds=1)))
    redis.set(intermediate(redis, job.origin).get_first_seen_key(job.id), seen.timestamp())


def intermediate_ids(redis: Redis, name: str) -> list[str]:
    return intermediate(redis, name).get_job_ids()
