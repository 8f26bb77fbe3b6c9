"""The receiver writes each job from a template (receiver/rq/job_template.py), not through RQ's
enqueue: what Redis holds must be exactly what RQ's own enqueue writes for the same delivery,
and RQ must read it back as the job it would have built."""

from __future__ import annotations

import json
import zlib
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from redis import Redis
from rq import Queue
from rq.job import Job, JobStatus
from rq.serializers import JSONSerializer
from rq.utils import utcparse

from receiver.enqueue import Enqueuer
from receiver.rq.job_template import RETRY, description
from shared.constants import HANDLER_PATHS, JOB_FAILURE_TTL_S, JOB_RESULT_TTL_S, KINDS
from shared.jobs import Delivery
from shared.settings import Settings
from tests.support.builders import new_delivery

TIMES = (b"created_at", b"enqueued_at")


def enqueue_with_rq(redis: Redis, d: Delivery, jid: str, timeout_s: int) -> None:
    """The delivery's job as RQ's public enqueue API writes it."""
    Queue(d.kind, connection=redis, serializer=JSONSerializer).enqueue_call(
        HANDLER_PATHS[d.kind],
        kwargs={"delivery": d.to_job()},
        timeout=timeout_s,
        result_ttl=JOB_RESULT_TTL_S,
        failure_ttl=JOB_FAILURE_TTL_S,
        description=description(d),
        job_id=jid,
        retry=RETRY,
    )


async def enqueue_with_tuxhook(settings: Settings, d: Delivery) -> str:
    enqueuer = Enqueuer(settings.redis_url, settings.job_timeout_s)
    try:
        result = await enqueuer.enqueue(d)
    finally:
        await enqueuer.close()
    assert not result.duplicate
    return result.job_id


def take(redis: Redis, kind: str, jid: str) -> dict[Any, Any]:
    """The job's hash, after checking it is queued once on its queue, with no expiry; then
    the job is removed, so that the same id can be written again."""
    queue = Queue(kind, connection=redis)
    assert redis.lrange(queue.key, 0, -1) == [jid.encode()]
    assert redis.smembers(Queue.redis_queues_keys) >= {queue.key.encode()}
    assert redis.ttl(Job.key_for(jid)) == -1
    fields = redis.hgetall(Job.key_for(jid))
    redis.delete(Job.key_for(jid), queue.key)
    return fields


@pytest.mark.parametrize("kind", KINDS)
async def test_the_job_hash_is_the_one_rqs_enqueue_writes(
    settings: Settings, redis_client: Redis, kind: str
) -> None:
    d = new_delivery(kind)
    before = datetime.now(UTC) - timedelta(seconds=1)
    jid = await enqueue_with_tuxhook(settings, d)
    ours = take(redis_client, kind, jid)
    enqueue_with_rq(redis_client, d, jid, settings.job_timeout_s)
    theirs = take(redis_client, kind, jid)
    after = datetime.now(UTC) + timedelta(seconds=1)

    assert ours.keys() == theirs.keys()
    for name in TIMES:  # when the job was made: the same format, a time within the test
        assert before <= utcparse(ours.pop(name).decode()).replace(tzinfo=UTC) <= after
        theirs.pop(name)
    # The same data; RQ compresses it, the receiver does not (RQ reads both, see below), and
    # its JSON has no spaces.
    assert json.loads(ours.pop(b"data")) == json.loads(zlib.decompress(theirs.pop(b"data")))
    assert ours == theirs  # every other field byte for byte


@pytest.mark.parametrize("kind", KINDS)
async def test_rq_reads_the_job_back_as_the_delivery(
    settings: Settings, redis_client: Redis, kind: str
) -> None:
    d = new_delivery(kind)
    jid = await enqueue_with_tuxhook(settings, d)
    job = Job.fetch(jid, connection=redis_client, serializer=JSONSerializer)
    assert (job.func_name, list(job.args), job.kwargs) == (
        HANDLER_PATHS[kind],
        [],
        {"delivery": d.to_job()},
    )
    assert Delivery.from_job(job.kwargs["delivery"]) == d
    assert (job.origin, job.description, job.get_status()) == (
        kind,
        f"{kind} {d.uid}",
        JobStatus.QUEUED,
    )
    assert (job.timeout, job.retries_left, job.retry_intervals) == (
        settings.job_timeout_s,
        RETRY.max,
        RETRY.intervals,
    )
    assert (job.result_ttl, job.failure_ttl) == (JOB_RESULT_TTL_S, JOB_FAILURE_TTL_S)
    assert json.loads(d.body) == json.loads(job.kwargs["delivery"]["body"])
