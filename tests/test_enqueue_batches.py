"""The enqueuer sends the deliveries waiting at one moment as one batch (one EVALSHA): each
job in it is still checked, saved and queued on its own, and a Redis that forgot the script
gets it again."""

from __future__ import annotations

import asyncio
import dataclasses
import random
from collections import Counter

from redis import Redis
from rq import Queue

from receiver.enqueue import Enqueued, Enqueuer
from shared.constants import ENQUEUE_BATCH_MAX_BYTES, KINDS
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


async def test_a_job_that_cannot_be_built_fails_its_request_alone(
    settings: Settings, redis_client: Redis
) -> None:
    """A value a job cannot hold (JSON stops at 64-bit integers) is a bug of the request that
    carries it: the others in its batch are queued."""
    good, other = new_delivery("build"), new_delivery("test")
    bad = dataclasses.replace(new_delivery("plan"), auth={"pull_request": 2**64})
    enqueuer = Enqueuer(settings.redis_url, settings.job_timeout_s)
    try:
        results = await asyncio.gather(
            *(enqueuer.enqueue(d) for d in (good, bad, other)), return_exceptions=True
        )
    finally:
        await enqueuer.close()
    assert isinstance(results[1], TypeError)
    queued = [r.job_id for r in results if isinstance(r, Enqueued)]
    assert len(queued) == 2
    assert sorted(j.id for j in queued_jobs(redis_client)) == sorted(queued)


def enqueue_commands(redis: Redis) -> int:
    stats = redis.info("commandstats").get("cmdstat_evalsha", {})
    return int(stats.get("calls", 0))


async def test_a_batch_holds_about_a_mebibyte_of_bodies_at_most(
    settings: Settings, redis_client: Redis
) -> None:
    """Large bodies go in batches of their own, so that no one command holds Redis long."""
    big = "x" * (ENQUEUE_BATCH_MAX_BYTES // 2 + 1)
    large = [dataclasses.replace(new_delivery("test"), body=big) for _ in range(3)]
    small = [new_delivery("test") for _ in range(3)]
    enqueuer = Enqueuer(settings.redis_url, settings.job_timeout_s)
    try:
        calls = enqueue_commands(redis_client)
        await asyncio.gather(*(enqueuer.enqueue(d) for d in large))
        large_calls = enqueue_commands(redis_client) - calls
        calls = enqueue_commands(redis_client)
        await asyncio.gather(*(enqueuer.enqueue(d) for d in small))
        small_calls = enqueue_commands(redis_client) - calls
    finally:
        await enqueuer.close()
    assert (large_calls, small_calls) == (3, 1)
    assert len(queued_jobs(redis_client)) == 6


async def test_every_request_is_answered_whatever_the_timing_of_the_batches(
    settings: Settings, redis_client: Redis
) -> None:
    """Waves of requests meeting batches in flight and as they finish: none is left waiting.
    (A request that came in the very step in which both batches in flight ended once found no
    room to start a third; this load does not reach that step reliably, enqueue.py's
    `_flushing` comment says why it cannot happen now.)"""
    rng = random.Random(6)
    enqueuer = Enqueuer(settings.redis_url, settings.job_timeout_s)
    pending: list[asyncio.Task[Enqueued]] = []
    try:
        for _ in range(60):
            for _ in range(rng.randint(1, 4)):
                pending.append(asyncio.create_task(enqueuer.enqueue(new_delivery("plan"))))
            await asyncio.sleep(rng.choice((0, 0, 0.0005, 0.001, 0.002)))
        done, waiting = await asyncio.wait(pending, timeout=20)
    finally:
        await enqueuer.close()
    assert not waiting
    assert len(queued_jobs(redis_client)) == len(done) == len(pending)
