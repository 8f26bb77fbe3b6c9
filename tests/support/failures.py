"""Real failed jobs, made as production makes them: deliveries queued by the receiver's
enqueuer, then run and failed by a real `tuxhook worker` process."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

from redis import Redis

from receiver.enqueue import Enqueuer
from shared.identity import body_digest
from shared.jobs import Delivery
from shared.settings import Settings
from tests.support.builders import callback, encode, new_uid
from tests.support.database import write_lock_held
from tests.support.jobs import fetch
from tests.support.processes import run_tuxhook


def delivery(kind: str) -> Delivery:
    """A verified delivery of a fresh callback of `kind`, as the receiver queues it."""
    uid = new_uid()
    body = encode(callback(kind, uid))
    now = datetime.now(UTC).isoformat()
    return Delivery(kind, uid, body_digest(body), body.decode(), now, "key:SHA256:test")


def unparsable(kind: str) -> Delivery:
    """A delivery whose body is cut short: no retry can store it, so it fails at once."""
    good = delivery(kind)
    return dataclasses.replace(good, body=good.body[: len(good.body) // 2])


async def queue_delivery(settings: Settings, queued: Delivery) -> str:
    enqueuer = Enqueuer(settings.redis_url, settings.job_timeout_s)
    try:
        return (await enqueuer.enqueue(queued)).job_id
    finally:
        await enqueuer.close()


def spend_retries(redis: Redis, job_id: str) -> None:
    """As if the job had already been retried through a whole outage."""
    job = fetch(redis, job_id)
    job.retries_left = 0
    job.save()


def work_until_failed(env: dict[str, str], *queues: str, store_locked: bool = False) -> None:
    """`tuxhook worker --burst QUEUES` to the end; with `store_locked`, while another client
    holds the store's write lock, so that every job that writes fails transiently."""
    env = env | {"TUXHOOK_DATABASE_LOCK_TIMEOUT": "0.2"}
    if store_locked:
        with write_lock_held(env["TUXHOOK_DATABASE_URL"]):
            ran = run_tuxhook(env, "worker", "--burst", *queues)
    else:
        ran = run_tuxhook(env, "worker", "--burst", *queues)
    assert ran.returncode == 0, ran.stderr
