"""Read what the receiver put in Redis, as a worker would see it."""

from __future__ import annotations

from typing import Any

from redis import Redis
from rq import Queue
from rq.job import Job
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
