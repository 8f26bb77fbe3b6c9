"""Enqueue deliveries as RQ jobs, in batches, without blocking the event loop.

RQ's client is synchronous, so the receiver sends its jobs with redis.asyncio. Each goes
through RQ's own unique-enqueue Lua script: check, save and push in one atomic step, so
concurrent redeliveries of one body queue one job. The job's hash is RQ's, from a template RQ
built (receiver/rq/job_template.py). Requests that arrive while a batch is in flight share the
next one (group commit), sent as one EVALSHA that runs RQ's script for each job
(receiver/rq/enqueue_script.py), and each request is answered only once Redis has acknowledged
its job. A batch that Redis does not answer in time (down, or stalled) fails with the requests
waiting behind it, so that a stall costs each request one socket timeout, not one per batch.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import NamedTuple

import structlog
from redis.asyncio import Redis as AsyncRedis
from redis.asyncio.connection import AbstractConnection
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import NoScriptError, RedisError, ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

from receiver.rq import BATCH_ENQUEUE_SCRIPT, JobArgs, JobTemplate, batch_command, made_at
from shared.constants import (
    ENQUEUE_BATCH_MAX,
    ENQUEUE_BATCH_MAX_BYTES,
    ENQUEUE_BATCHES_IN_FLIGHT,
    KINDS,
)
from shared.errors import QueueUnavailable
from shared.identity import job_id
from shared.jobs import Delivery
from shared.redis_conn import connect, connect_async

log = structlog.get_logger("tuxhook.enqueue")


@dataclass(frozen=True)
class Enqueued:
    job_id: str
    queue: str
    duplicate: bool

    def as_json(self) -> dict[str, object]:
        return {"job_id": self.job_id, "queue": self.queue, "duplicate": self.duplicate}


def queue_unavailable(reason: str) -> QueueUnavailable:
    return QueueUnavailable(f"the queue is unavailable ({reason}); retry later")


class _Pending(NamedTuple):
    job_id: str
    queue: str
    delivery: Delivery
    future: asyncio.Future[Enqueued]


class Enqueuer:
    def __init__(
        self,
        redis_url: str,
        job_timeout_s: int,
        observe_latency: Callable[[float], None] | None = None,
    ) -> None:
        # RQ's Job wants a client to build the templates; this one never does I/O.
        self._sync = connect(redis_url)
        self.redis: AsyncRedis = connect_async(redis_url)
        self.observe_latency = observe_latency
        self.templates = {kind: JobTemplate(kind, job_timeout_s, self._sync) for kind in KINDS}
        self._sha = self.redis.register_script(BATCH_ENQUEUE_SCRIPT).sha.encode()
        self._waiting: list[_Pending] = []
        self._flushers: set[asyncio.Task[None]] = set()  # for close() to wait on
        # Flushers still taking batches: counted down by a flusher in the very step in which it
        # finds nothing waiting, so a request that comes after always finds room to start one.
        self._flushing = 0

    async def enqueue(self, delivery: Delivery) -> Enqueued:
        """Queue `delivery` once; returns only after Redis has acknowledged it.

        The latency observed is what the sender feels: the wait for the batch in flight, then
        the round trip, failed attempts included (a Redis timeout is the latency worth seeing).
        """
        started = time.perf_counter()
        future: asyncio.Future[Enqueued] = asyncio.get_running_loop().create_future()
        jid = job_id(delivery.kind, delivery.uid, delivery.digest)
        self._waiting.append(_Pending(jid, delivery.kind, delivery, future))
        if self._flushing < ENQUEUE_BATCHES_IN_FLIGHT:
            self._flushing += 1
            flusher = asyncio.create_task(self._flush())
            self._flushers.add(flusher)
            flusher.add_done_callback(self._flushers.discard)
        try:
            return await future
        finally:
            if self.observe_latency is not None:
                self.observe_latency(time.perf_counter() - started)

    async def _flush(self) -> None:
        try:
            while self._waiting:
                await self._send(self._next_batch())
        finally:
            self._flushing -= 1

    def _next_batch(self) -> list[_Pending]:
        """The oldest waiting deliveries: at most ENQUEUE_BATCH_MAX of them, and no more than
        ENQUEUE_BATCH_MAX_BYTES of bodies past the first, so that no one command holds Redis."""
        size, count = 0, 0
        for pending in self._waiting[:ENQUEUE_BATCH_MAX]:
            size += len(pending.delivery.body)
            if count and size > ENQUEUE_BATCH_MAX_BYTES:
                break
            count += 1
        batch = self._waiting[:count]
        del self._waiting[:count]
        return batch

    async def _send(self, batch: list[_Pending]) -> None:
        made = made_at(datetime.now(UTC))  # each job is stamped with the time it is sent
        sending, jobs = [], []
        for pending in batch:
            try:
                job = self.templates[pending.queue].job(pending.job_id, pending.delivery, made)
            except Exception as e:  # a bug, or a value JSON cannot hold: this request alone
                log.exception("job_unbuildable", job_id=pending.job_id)
                _settle(pending.future, e)
                continue
            sending.append(pending)
            jobs.append(job)
        if not sending:
            return
        outcomes = await self._outcomes(sending, jobs)
        for pending, outcome in zip(sending, outcomes, strict=True):
            _settle(pending.future, outcome)

    async def _outcomes(
        self, sending: list[_Pending], jobs: list[JobArgs]
    ) -> list[Enqueued | Exception]:
        try:
            return list(await self._write(sending, jobs))
        except (RedisConnectionError, RedisTimeoutError) as e:
            # Redis is down or stalled: the requests waiting behind this batch would each wait
            # as long again for the same answer. They were never sent, so nothing of theirs is
            # queued; this batch's jobs may be (Redis may run the command once it wakes).
            self._fail_waiting(queue_unavailable(type(e).__name__))
            return [queue_unavailable(type(e).__name__)] * len(sending)
        except RedisError as e:
            return [queue_unavailable(type(e).__name__)] * len(sending)
        except Exception as e:  # a bug must fail these requests, not strand them
            log.exception("enqueue_failed")
            return [queue_unavailable(type(e).__name__)] * len(sending)

    def _fail_waiting(self, error: Exception) -> None:
        waiting, self._waiting = self._waiting, []
        for pending in waiting:
            _settle(pending.future, error)

    async def _write(self, batch: list[_Pending], jobs: list[JobArgs]) -> list[Enqueued]:
        packed = batch_command(self._sha, jobs)
        try:
            replies = await self._round_trip(packed)
        except NoScriptError:
            await self.redis.script_load(BATCH_ENQUEUE_SCRIPT)  # Redis restarted and forgot it
            replies = await self._round_trip(packed)  # safe: the first attempt did not run
        return [_outcome(p, r) for p, r in zip(batch, replies, strict=True)]

    async def _round_trip(self, packed: bytes) -> list[object]:
        """Send the batch's command on a pooled connection and read its reply.

        The client's retry policy applies, as to any redis-py command: a stale pooled socket
        after a Redis restart is retried on a new one, and RQ's script makes a job sent twice
        a duplicate, never a second job.
        """
        pool = self.redis.connection_pool
        conn: AbstractConnection = await pool.get_connection()  # type: ignore[no-untyped-call]
        try:
            replies: list[object] = await conn.retry.call_with_retry(
                lambda: _exchange(conn, packed), lambda _: conn.disconnect()
            )
            return replies
        except BaseException:
            await conn.disconnect()  # a reply may be left unread: never reuse this socket
            raise
        finally:
            await pool.release(conn)

    async def ping(self) -> bool:
        try:
            return bool(await self.redis.ping())
        except RedisError:
            return False

    async def close(self) -> None:
        await asyncio.gather(*self._flushers, return_exceptions=True)
        await self.redis.aclose()
        self._sync.close()


async def _exchange(conn: AbstractConnection, packed: bytes) -> list[object]:
    await conn.send_packed_command(packed)
    replies = await conn.read_response()  # an error reply raises ResponseError
    if not isinstance(replies, list):
        raise ResponseError(f"the enqueue script answered {type(replies).__name__}, not a list")
    return replies


def _outcome(pending: _Pending, reply: object) -> Enqueued:
    return Enqueued(pending.job_id, pending.queue, duplicate=reply == 0)


def _settle(future: asyncio.Future[Enqueued], outcome: Enqueued | Exception) -> None:
    if future.done():  # the client went away
        return
    if isinstance(outcome, Enqueued):
        future.set_result(outcome)
    else:
        future.set_exception(outcome)
