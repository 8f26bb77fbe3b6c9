"""Enqueue deliveries as RQ jobs, in batches, without blocking the event loop.

RQ's client is synchronous, so RQ builds each job (pure computation) and the receiver sends it
with redis.asyncio through RQ's own unique-enqueue Lua script: check, save and push in one
atomic step, so concurrent redeliveries of one body queue one job. Requests that arrive while a
batch is in flight share the next pipelined round trip (group commit), and each request is
answered only once Redis has acknowledged its job.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass

import structlog
from redis.asyncio import Redis as AsyncRedis
from redis.exceptions import NoScriptError, RedisError
from rq import Queue, Retry
from rq.job import Job
from rq.scripts import UNIQUE_ENQUEUE_SCRIPT, _build_hset_args
from rq.serializers import JSONSerializer

from shared.constants import (
    ENQUEUE_BATCH_MAX,
    HANDLER_PATHS,
    JOB_FAILURE_TTL_S,
    JOB_RESULT_TTL_S,
    QUEUE_NAMES,
    RETRY_AFTER_S,
    RETRY_INTERVALS_S,
)
from shared.errors import ServiceUnavailable
from shared.identity import job_id
from shared.jobs import Delivery
from shared.redis_conn import connect, connect_async

log = structlog.get_logger("tuxhook.enqueue")

RETRY = Retry(max=len(RETRY_INTERVALS_S), interval=list(RETRY_INTERVALS_S))


@dataclass(frozen=True)
class Enqueued:
    job_id: str
    queue: str
    duplicate: bool

    def as_json(self) -> dict[str, object]:
        return {"job_id": self.job_id, "queue": self.queue, "duplicate": self.duplicate}


def queue_unavailable(reason: str) -> ServiceUnavailable:
    return ServiceUnavailable(
        f"the queue is unavailable ({reason}); retry later",
        headers={"Retry-After": str(RETRY_AFTER_S)},
    )


@dataclass(frozen=True)
class _Pending:
    job: Job
    future: asyncio.Future[Enqueued]


class Enqueuer:
    def __init__(
        self,
        redis_url: str,
        job_timeout_s: int,
        observe_latency: Callable[[float], None] | None = None,
    ) -> None:
        # RQ's Job and Queue objects want a client; this one only names keys, never does I/O.
        self._sync = connect(redis_url)
        self.redis: AsyncRedis = connect_async(redis_url)
        self.job_timeout_s = job_timeout_s
        self.observe_latency = observe_latency
        self.queues = {
            name: Queue(name, connection=self._sync, serializer=JSONSerializer)
            for name in QUEUE_NAMES
        }
        self._script = self.redis.register_script(UNIQUE_ENQUEUE_SCRIPT)
        self._server_version: tuple[int, int, int] | None = None
        self._waiting: list[_Pending] = []
        self._flusher: asyncio.Task[None] | None = None

    async def enqueue(self, delivery: Delivery) -> Enqueued:
        """Queue `delivery` once; returns only after Redis has acknowledged it.

        The latency observed is what the sender feels: the wait for the batch in flight, then
        the round trip, failed attempts included (a Redis timeout is the latency worth seeing).
        """
        started = time.perf_counter()
        future: asyncio.Future[Enqueued] = asyncio.get_running_loop().create_future()
        self._waiting.append(_Pending(self._job(delivery), future))
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush())
        try:
            return await future
        finally:
            if self.observe_latency is not None:
                self.observe_latency(time.perf_counter() - started)

    def _job(self, delivery: Delivery) -> Job:
        return Job.create(
            HANDLER_PATHS[delivery.kind],
            kwargs={"delivery": delivery.to_job()},
            connection=self._sync,
            serializer=JSONSerializer,
            id=job_id(delivery.kind, delivery.uid, delivery.digest),
            timeout=self.job_timeout_s,
            result_ttl=JOB_RESULT_TTL_S,
            failure_ttl=JOB_FAILURE_TTL_S,
            retry=RETRY,
            description=f"{delivery.kind} {delivery.uid}",
            origin=delivery.kind,
        )

    async def _flush(self) -> None:
        while self._waiting:
            batch = self._waiting[:ENQUEUE_BATCH_MAX]
            del self._waiting[:ENQUEUE_BATCH_MAX]
            try:
                outcomes = await self._write([p.job for p in batch])
            except RedisError as e:
                outcomes = [queue_unavailable(type(e).__name__)] * len(batch)
            except Exception as e:  # a bug must fail these requests, not strand them
                log.exception("enqueue_failed")
                outcomes = [queue_unavailable(type(e).__name__)] * len(batch)
            for pending, outcome in zip(batch, outcomes, strict=True):
                _settle(pending.future, outcome)

    async def _write(self, jobs: list[Job]) -> list[Enqueued | ServiceUnavailable]:
        await self._prepare(jobs)
        replies = await self._execute(jobs)
        if any(isinstance(r, NoScriptError) for r in replies):
            await self.redis.script_load(UNIQUE_ENQUEUE_SCRIPT)  # Redis restarted and forgot it
            replies = await self._execute(jobs)  # safe: none of the first attempt ran
        return [_outcome(job, reply) for job, reply in zip(jobs, replies, strict=True)]

    async def _prepare(self, jobs: list[Job]) -> None:
        """What RQ's enqueue does to a job before its unique-enqueue script, minus the I/O."""
        if self._server_version is None:
            version = (await self.redis.info("server"))["redis_version"]
            major, minor, patch = (int(part) for part in f"{version}.0.0".split(".")[:3])
            self._server_version = (major, minor, patch)
            for q in self.queues.values():
                q.redis_server_version = self._server_version
        for job in jobs:
            self.queues[job.origin]._prepare_for_queue(job)

    async def _execute(self, jobs: list[Job]) -> list[object]:
        pipe = self.redis.pipeline(transaction=False)
        origins = {job.origin for job in jobs}
        for name in origins:
            pipe.sadd(Queue.redis_queues_keys, self.queues[name].key)
        for job in jobs:
            ttl = job.ttl if job.ttl is not None else -1
            keys = (job.key, self.queues[job.origin].key)
            pipe.evalsha(self._script.sha, 2, *keys, job.id, "R", ttl, *_build_hset_args(job))
        replies: list[object] = await pipe.execute(raise_on_error=False)
        return replies[len(origins) :]

    async def ping(self) -> bool:
        try:
            return bool(await self.redis.ping())
        except RedisError:
            return False

    async def close(self) -> None:
        if self._flusher is not None:
            await asyncio.gather(self._flusher, return_exceptions=True)
        await self.redis.aclose()
        self._sync.close()


def _outcome(job: Job, reply: object) -> Enqueued | ServiceUnavailable:
    if isinstance(reply, Exception):
        return queue_unavailable(type(reply).__name__)
    return Enqueued(job.id, job.origin, duplicate=reply == 0)


def _settle(future: asyncio.Future[Enqueued], outcome: Enqueued | ServiceUnavailable) -> None:
    if future.done():  # the client went away
        return
    if isinstance(outcome, Enqueued):
        future.set_result(outcome)
    else:
        future.set_exception(outcome)
