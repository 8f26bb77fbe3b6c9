"""Failures: a locked store is retried until the job succeeds; a bad job fails at once, with
its reason, into RQ's failed registry. Nothing is dropped silently."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable
from pathlib import Path

import pytest
from redis import Redis
from rq import Queue
from rq.job import JobStatus
from rq.serializers import JSONSerializer

from receiver.enqueue import Enqueuer
from shared.constants import RETRY_INTERVALS_S
from shared.identity import body_digest
from shared.jobs import Delivery
from shared.settings import Settings
from tests.conftest import Receiver
from tests.support.api import post_document, wait_outcome
from tests.support.builders import callback, encode, job_id_of, new_uid
from tests.support.database import snapshot, write_lock_held
from tests.support.jobs import fetch
from tests.support.keys import KeyPair
from tests.support.processes import start_worker
from tests.support.waiting import eventually
from tests.support.workers import drain


async def test_a_locked_store_is_retried_until_the_job_succeeds(
    receiver: Receiver,
    keys: KeyPair,
    settings_env: dict[str, str],
    redis_client: Redis,
    database_url: str,
    tmp_path: Path,
) -> None:
    doc = callback("build")
    uid, jid = doc["status"]["uid"], job_id_of(doc)
    queue = Queue("build", connection=redis_client, serializer=JSONSerializer)
    worker = start_worker(settings_env, tmp_path / "worker.log")
    try:
        with write_lock_held(database_url):
            await post_document(receiver, keys, doc)
            # The worker met the lock, gave up after the lock timeout and RQ scheduled a retry.
            await eventually(lambda: jid in queue.scheduled_job_registry, "scheduled for retry")
        found = await wait_outcome(receiver, "build", uid)
    finally:
        worker.stop()
    assert (found["state"], found["deliveries"]) == ("finished", 1)
    job = fetch(redis_client, jid)
    assert job.get_status() == JobStatus.FINISHED
    assert job.retries_left is not None and job.retries_left < len(RETRY_INTERVALS_S)
    assert jid not in queue.failed_job_registry
    assert "job_failed_transiently" in worker.output()


def _invalid_json(d: Delivery) -> Delivery:
    return dataclasses.replace(d, body='{"kind": "build", "status": ')


def _another_kind(d: Delivery) -> Delivery:
    return dataclasses.replace(d, body=encode(callback("test", d.uid)).decode())


def _another_uid(d: Delivery) -> Delivery:
    return dataclasses.replace(d, body=encode(callback("build")).decode())


def _bad_time(d: Delivery) -> Delivery:
    return dataclasses.replace(d, received_at="yesterday")


async def enqueue(settings: Settings, delivery: Delivery) -> str:
    """Queue `delivery` as the receiver does, with the usual Retry."""
    enqueuer = Enqueuer(settings.redis_url, settings.job_timeout_s)
    try:
        return (await enqueuer.enqueue(delivery)).job_id
    finally:
        await enqueuer.close()


@pytest.mark.parametrize(
    ("spoil", "reason"),
    [
        (_invalid_json, "body is not valid JSON"),
        (_another_kind, "a build job for uid"),
        (_another_uid, "carries a build document for uid"),
        (_bad_time, "received_at is not an ISO 8601 time"),
    ],
)
async def test_a_bad_job_fails_at_once_with_its_reason(
    settings: Settings,
    redis_client: Redis,
    database_url: str,
    spoil: Callable[[Delivery], Delivery],
    reason: str,
) -> None:
    uid = new_uid()
    body = encode(callback("build", uid))
    good = Delivery(
        "build", uid, body_digest(body), body.decode(), "2024-05-01T10:00:00+00:00", "x"
    )
    jid = await enqueue(settings, spoil(good))
    before = snapshot(database_url)
    drain(settings, redis_client)
    queue = Queue("build", connection=redis_client, serializer=JSONSerializer)
    assert jid in queue.failed_job_registry
    assert queue.scheduled_job_registry.count == 0
    job = fetch(redis_client, jid)
    assert job.meta["failure"].startswith("permanent: PermanentError: ")
    assert reason in job.meta["failure"]
    result = job.latest_result()
    assert result is not None and reason in (result.exc_string or "")
    assert snapshot(database_url) == before


async def test_a_job_whose_worker_died_is_retried_not_failed(
    settings: Settings, redis_client: Redis, database_url: str
) -> None:
    doc = callback("test")
    body = encode(doc)
    uid = doc["status"]["uid"]
    delivery = Delivery("test", uid, body_digest(body), body.decode(), "2024-05-01T10:00Z", "key:x")
    jid = await enqueue(settings, delivery)
    queue = Queue("test", connection=redis_client, serializer=JSONSerializer)
    # As a worker killed mid-job leaves it: started, its execution's heartbeat long expired.
    redis_client.lrem(queue.key, 0, jid)
    fetch(redis_client, jid).set_status(JobStatus.STARTED)
    redis_client.zadd(queue.started_job_registry.key, {f"{jid}:dead-execution": 1})
    # A worker's first act is RQ's maintenance, which hands abandoned jobs to its exception
    # handlers; the queue is empty, so this pass does nothing else.
    drain(settings, redis_client)
    assert jid in queue.scheduled_job_registry
    assert jid not in queue.failed_job_registry
    await asyncio.sleep(RETRY_INTERVALS_S[0])
    drain(settings, redis_client)
    assert snapshot(database_url)["outcomes"][0]["uid"] == uid
