"""RQ's job hash for a delivery: built by RQ once per kind, filled in per delivery.

RQ's Job.create and to_dict cost about 40 µs a job (a runtime Protocol check, every field
formatted again, zlib), a sixth of a callback's CPU. A delivery changes only the fields in VARYING;
every other field of the hash comes from a job RQ itself built, so what Redis holds is what
RQ's own enqueue writes (tests/test_job_template.py compares the two field by field).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson
from redis import Redis
from rq import Queue, Retry
from rq.job import Job, JobStatus
from rq.scripts import _build_hset_args
from rq.serializers import JSONSerializer
from rq.utils import utcformat

from receiver.rq.enqueue_script import JobArgs
from receiver.rq.resp import Bulk, bulk
from shared.constants import (
    HANDLER_PATHS,
    JOB_FAILURE_TTL_S,
    JOB_RESULT_TTL_S,
    RETRY_INTERVALS_S,
)
from shared.jobs import Delivery

RETRY = Retry(max=len(RETRY_INTERVALS_S), interval=list(RETRY_INTERVALS_S))
VARYING = ("created_at", "enqueued_at", "data", "description")


def rq_job(delivery: Delivery, job_id: str, job_timeout_s: int, connection: Redis) -> Job:
    """The job as RQ builds it: the reference the template is taken from."""
    return Job.create(
        HANDLER_PATHS[delivery.kind],
        kwargs={"delivery": delivery.to_job()},
        connection=connection,
        serializer=JSONSerializer,
        id=job_id,
        status=JobStatus.QUEUED,
        timeout=job_timeout_s,
        result_ttl=JOB_RESULT_TTL_S,
        failure_ttl=JOB_FAILURE_TTL_S,
        retry=RETRY,
        description=description(delivery),
        origin=delivery.kind,
    )


def description(delivery: Delivery) -> str:
    return f"{delivery.kind} {delivery.uid}"


def hash_fields(job: Job) -> dict[str, Any]:
    """The fields RQ's unique-enqueue script stores for `job`."""
    args = _build_hset_args(job)
    return dict(zip(args[::2], args[1::2], strict=True))


def made_at(now: datetime) -> Bulk:
    """A job's created_at and enqueued_at fields, as RQ writes them."""
    stamp = utcformat(now).encode()
    return Bulk.of((b"created_at", stamp, b"enqueued_at", stamp))


_DATA, _DESCRIPTION = bulk(b"data"), bulk(b"description")


def _utf8(value: str | bytes) -> bytes:
    """A field or value as redis-py sends it (a JobStatus is a str: its value)."""
    return value if isinstance(value, bytes) else value.encode()


class JobTemplate:
    """RQ's unique-enqueue script arguments for one kind's jobs, the constant ones encoded once."""

    def __init__(self, kind: str, job_timeout_s: int, connection: Redis) -> None:
        example = Delivery(kind, "template", "0" * 64, "{}", "", "")
        job = rq_job(example, "template", job_timeout_s, connection)
        job.enqueued_at = job.created_at  # as RQ's Queue does when it enqueues
        fields = hash_fields(job)
        missing = [name for name in VARYING if name not in fields]
        if missing or job.ttl is not None:  # this RQ writes jobs differently: fail at start
            raise RuntimeError(f"RQ's job hash has changed: no {missing} or a ttl")
        self.func = HANDLER_PATHS[kind]
        self.queue_key = Queue(kind, connection=connection).key.encode()
        constant = [
            _utf8(part)
            for name, value in fields.items()
            if name not in VARYING
            for part in (name, value)
        ]
        # The job's ARGV: how many arguments follow, the job id, push right, no ttl, the hash
        # (its two times, data, description, then the constant fields).
        self._argc = 3 + 2 * len(VARYING) + len(constant)
        self._count = bulk(b"%d" % self._argc)
        self._push = bulk(b"R") + bulk(b"-1")
        self._constant = b"".join(map(bulk, constant))

    def job(self, job_id: str, delivery: Delivery, made: Bulk) -> JobArgs:
        """The keys and ARGV of a job; `made` is its created_at and enqueued_at (`made_at`)."""
        if made.size != 4:
            raise ValueError("made must hold created_at and enqueued_at, as made_at() makes it")
        # The job's (func, instance, args, kwargs) as JSON, as RQ's JSONSerializer reads it;
        # orjson writes it in a fifth of json.dumps's time. RQ would zlib it, which costs a
        # callback more than its whole Redis round trip (5-20 µs, most of it zlib's set-up);
        # RQ reads uncompressed data as well (Job.restore), and the worker's RQ rewrites the
        # hash, compressed, when the job ends: only queued jobs stay larger.
        data = orjson.dumps((self.func, None, (), {"delivery": delivery.to_job()}))
        wire = (
            self._count, bulk(job_id.encode()), self._push,
            made.wire,
            _DATA, bulk(data),
            _DESCRIPTION, bulk(description(delivery).encode()),
            self._constant,
        )  # fmt: skip
        key = (Job.redis_job_namespace_prefix + job_id).encode()
        return JobArgs(key, self.queue_key, Bulk(b"".join(wire), 1 + self._argc))
