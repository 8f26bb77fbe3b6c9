"""A queued job's data is the receiver's uncompressed JSON (receiver/rq/job_template.py); the
worker's RQ reads it, stores the delivery and rewrites the finished job's hash compressed, so
the jobs kept for the redelivery window take no more room than RQ's own."""

from __future__ import annotations

import json
import zlib

from redis import Redis
from rq.job import Job, JobStatus
from rq.serializers import JSONSerializer

from receiver.enqueue import Enqueuer
from shared.settings import Settings
from tests.support.builders import new_delivery
from tests.support.database import ledger
from tests.support.workers import drain


async def test_the_worker_reads_the_queued_data_and_leaves_it_compressed(
    settings: Settings, redis_client: Redis
) -> None:
    d = new_delivery("test")
    enqueuer = Enqueuer(settings.redis_url, settings.job_timeout_s)
    try:
        jid = (await enqueuer.enqueue(d)).job_id
    finally:
        await enqueuer.close()
    queued = redis_client.hget(Job.key_for(jid), "data")
    assert queued is not None
    assert json.loads(queued)[3]["delivery"] == d.to_job()

    drain(settings, redis_client)

    job = Job.fetch(jid, connection=redis_client, serializer=JSONSerializer)
    assert job.get_status() == JobStatus.FINISHED
    finished = redis_client.hget(Job.key_for(jid), "data")
    assert isinstance(finished, bytes)
    assert zlib.decompress(finished) == queued
    assert ledger(settings.database_url).stored_once({(d.kind, d.uid, d.digest)})
