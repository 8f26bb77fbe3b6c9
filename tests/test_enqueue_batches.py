"""The enqueuer sends the deliveries waiting at one moment as one batch (one EVALSHA): each
job in it is still checked, saved and queued on its own, and a Redis that forgot the script
gets it again."""

from __future__ import annotations

import asyncio
from collections import Counter

from redis import Redis
from rq import Queue

from receiver.enqueue import Enqueued, Enqueuer
from shared.constants import KINDS
from shared.settings import Settings
from tests.support.builders import new_delivery
from tests.support.queues import queued_jobs


async def test_a_batch_queues_each_new_job_once_and_flags_each_repeat(
    settings: Settings, redis_client: Redis
) -> None:
    distinct = [new_delivery(KINDS[i % len(KINDS)]) for i in range(40)]
    repeated = distinct[::8]  # sent again in the same batches
    enqueuer = Enqueuer(settings.redis_url, settings.job_timeout_s)
    try:
        results: list[Enqueued] = await asyncio.gather(
            *(enqueuer.enqueue(d) for d in [*distinct, *repeated, *distinct[:3]])
        )
    finally:
        await enqueuer.close()

    assert [r.duplicate for r in results[: len(distinct)]] == [False] * len(distinct)
    assert all(r.duplicate for r in results[len(distinct) :])
    assert [r.queue for r in results[: len(distinct)]] == [d.kind for d in distinct]
    jobs = queued_jobs(redis_client)
    assert sorted(j.id for j in jobs) == sorted(r.job_id for r in results[: len(distinct)])
    assert Counter(j.origin for j in jobs) == Counter(d.kind for d in distinct)
    names = {q.name for q in Queue.all(connection=redis_client)}
    assert names == set(KINDS)


async def test_a_redis_that_forgot_the_script_is_sent_it_again(
    settings: Settings, redis_client: Redis
) -> None:
    enqueuer = Enqueuer(settings.redis_url, settings.job_timeout_s)
    try:
        first = await enqueuer.enqueue(new_delivery("build"))
        redis_client.script_flush()  # as a restarted Redis would have
        second = await enqueuer.enqueue(new_delivery("test"))
    finally:
        await enqueuer.close()
    assert (first.duplicate, second.duplicate) == (False, False)
    assert sorted(j.id for j in queued_jobs(redis_client)) == sorted([first.job_id, second.job_id])
