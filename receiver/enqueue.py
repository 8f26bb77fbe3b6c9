"""Enqueue deliveries with RQ. Its client is synchronous, so it runs on a small thread pool."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from redis import Redis
from redis.exceptions import RedisError
from rq import Queue, Retry
from rq.exceptions import DuplicateJobError
from rq.serializers import JSONSerializer

from shared.constants import (
    ENQUEUE_THREADS,
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


class Enqueuer:
    def __init__(
        self,
        connection: Redis,
        job_timeout_s: int,
        observe_latency: Callable[[float], None] | None = None,
    ) -> None:
        self.connection = connection
        self.job_timeout_s = job_timeout_s
        self.observe_latency = observe_latency
        self.queues = {
            name: Queue(name, connection=connection, serializer=JSONSerializer)
            for name in QUEUE_NAMES
        }
        self._pool = ThreadPoolExecutor(ENQUEUE_THREADS, thread_name_prefix="enqueue")

    def enqueue_sync(self, delivery: Delivery) -> Enqueued:
        """One atomic check-and-enqueue (RQ's unique Lua script): redeliveries queue nothing."""
        jid = job_id(delivery.kind, delivery.uid, delivery.digest)
        queue = self.queues[delivery.kind]
        try:
            queue.enqueue_call(
                HANDLER_PATHS[delivery.kind],
                kwargs={"delivery": delivery.to_job()},
                job_id=jid,
                unique=True,
                timeout=self.job_timeout_s,
                result_ttl=JOB_RESULT_TTL_S,
                failure_ttl=JOB_FAILURE_TTL_S,
                retry=Retry(max=len(RETRY_INTERVALS_S), interval=list(RETRY_INTERVALS_S)),
                description=f"{delivery.kind} {delivery.uid}",
            )
        except DuplicateJobError:
            return Enqueued(jid, queue.name, duplicate=True)
        except RedisError as e:
            raise queue_unavailable(type(e).__name__) from e
        return Enqueued(jid, queue.name, duplicate=False)

    async def enqueue(self, delivery: Delivery) -> Enqueued:
        """Queue `delivery`; the latency observed includes the wait for a free thread, as the
        sender feels it, and failed attempts (a Redis timeout is the latency worth seeing)."""
        loop = asyncio.get_running_loop()
        started = time.perf_counter()
        try:
            return await loop.run_in_executor(self._pool, self.enqueue_sync, delivery)
        finally:
            if self.observe_latency is not None:
                self.observe_latency(time.perf_counter() - started)

    def ping_sync(self) -> bool:
        try:
            return bool(self.connection.ping())
        except RedisError:
            return False

    async def ping(self) -> bool:
        return await asyncio.get_running_loop().run_in_executor(self._pool, self.ping_sync)

    def close(self) -> None:
        self._pool.shutdown(wait=True)
        self.connection.close()
