"""Redis killed with SIGKILL during a burst, and restarted from its append-only file, while the
receiver and the workers keep running.

While Redis is down the receiver answers 503 (never a 2xx, never a hang). After the restart
every callback that got a 2xx still has its job in Redis; a sender that retries its 503s gets
everything in; and the workers, which ran through the outage, store each callback exactly once.
A worker that was between taking a job and starting it when Redis went away leaves the job in
its queue's intermediate list, where maintenance finds it and puts it back in the queue
(worker/rq/stranded.py); one that was in a job finds it abandoned and retries it.

Workers exit when Redis fails outside their wait for a job; `tuxhook worker`'s pool replaces a
member that exits, and this test restarts the whole command only if it exits, as compose's
`restart: unless-stopped` would (never before).

Run with both fsync policies: a SIGKILL of the Redis process loses nothing Redis has written
to the kernel, which with `everysec` is every acknowledged write unless a slow disk made Redis
postpone writing (docs/reliability.md). `always` also survives a crash of the host.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from redis import Redis
from rq import Worker
from rq.job import Job

from shared.constants import QUEUE_NAMES
from tests.support.burst import Attempt, Sender, Sent, callbacks, deliveries
from tests.support.database import ledger
from tests.support.keys import KeyPair
from tests.support.logs import log_events
from tests.support.processes import Process, start_receiver, start_worker
from tests.support.queues import (
    expire_started,
    failed_job_ids,
    queued_count,
    scheduled_job_ids,
    started_job_ids,
)
from tests.support.redis_server import RedisServer
from tests.support.stranding import intermediate_ids
from tests.support.waiting import eventually

BURST = 300  # distinct callbacks
KILL_AFTER = 60  # 2xx answers before Redis is killed
DOWN_S = 2.0  # seconds Redis stays down
ANSWER_BOUND_S = 5.0  # longest an answer may take, outage or not
RETRY_FOR_S = 60.0  # seconds the sender keeps retrying its 503s
# Maintenance every second, and a job timeout of 5 s: a job stranded by the outage comes back
# after RQ's one-minute grace, one abandoned mid-job once its entry expires (5 + 60 s).
WORKER_ENV = {
    "TUXHOOK_WORKER_MAINTENANCE_INTERVAL": "1",
    "TUXHOOK_JOB_TIMEOUT": "5",
    "TUXHOOK_STRANDED_JOB_GRACE": "3",  # a live worker starts its job within milliseconds
}
STORED_BOUND_S = 120.0  # seconds after the burst by which every accepted callback is stored
SUPERVISE_S = 0.5  # seconds between two looks at whether `tuxhook worker` still runs


@pytest.fixture(params=["everysec", "always"])
def aof_redis(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[RedisServer]:
    """A redis-server of the test's own, with the append-only file on."""
    server = RedisServer(tmp_path / "redis", appendonly=True, appendfsync=request.param)
    server.start()
    yield server
    server.stop()


@dataclass
class Outage:
    """Kills Redis once enough callbacks were accepted, and restarts it DOWN_S later; notes
    whether the workers ran when Redis was killed and when it was back."""

    redis: RedisServer
    workers_running: Callable[[], bool]
    accepted: int = 0
    down: tuple[float, float] | None = None  # (killed, restarting), time.monotonic()
    workers_ran: list[bool] = field(default_factory=list)  # at the kill, after the restart
    reached: asyncio.Event = field(default_factory=asyncio.Event)

    def count(self, _: Sent, attempt: Attempt) -> None:
        if attempt.status is not None and 200 <= attempt.status < 300:
            self.accepted += 1
            if self.accepted >= KILL_AFTER:
                self.reached.set()

    async def run(self) -> None:
        await self.reached.wait()
        await asyncio.to_thread(self.redis.kill)
        killed = time.monotonic()
        self.workers_ran.append(self.workers_running())
        await asyncio.sleep(DOWN_S)
        self.down = (killed, time.monotonic())
        await asyncio.to_thread(self.redis.start)  # same port and directory: AOF reloaded
        self.workers_ran.append(self.workers_running())

    def while_down(self, sent: list[Sent]) -> list[Attempt]:
        """The attempts made and answered entirely while Redis was down."""
        assert self.down is not None
        killed, restarting = self.down
        return [
            a
            for s in sent
            for a in s.attempts
            if a.started >= killed and a.started + a.elapsed_s <= restarting
        ]


class Restarted:
    """`tuxhook worker` under a restart policy: started again if it exits, never before."""

    def __init__(self, env: dict[str, str], logs: Path) -> None:
        self.env, self.logs = env, logs
        self.processes: list[Process] = []
        self.start()

    def start(self) -> None:
        log = self.logs / f"worker-{len(self.processes)}.log"
        self.processes.append(start_worker(self.env, log))

    def running(self) -> bool:
        return self.processes[-1].popen.poll() is None

    async def supervise(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            if not self.running():
                self.start()
            await asyncio.sleep(SUPERVISE_S)

    def stop(self) -> None:
        for process in self.processes:
            process.stop()

    def events(self, event: str) -> list[dict[str, Any]]:
        return [e for p in self.processes for e in log_events(p, event)]

    def summary(self) -> str:
        exited, recovered = len(self.events("worker_exited")), len(self.events("job_recovered"))
        failed = self.events("job_failed_transiently")
        abandoned = sum(1 for e in failed if e["reason"].startswith("AbandonedJobError"))
        return (
            f"worker processes exited {exited}, jobs put back from an intermediate list"
            f" {recovered}, abandoned jobs retried {abandoned}, `tuxhook worker` restarted"
            f" {len(self.processes) - 1}"
        )


def listening(redis: Redis) -> bool:
    """A worker is registered on every queue."""
    return {q for w in Worker.all(connection=redis) for q in w.queue_names()} == set(QUEUE_NAMES)


def lost(redis: Redis, sent: list[Sent]) -> list[str]:
    """Accepted callbacks whose job Redis no longer has (a finished job's stays for days)."""
    return [s.job_id for s in sent if s.accepted and not redis.exists(Job.key_for(s.job_id))]


def check_answers(outage: Outage, sent: list[Sent]) -> list[Attempt]:
    attempts = [a for s in sent for a in s.attempts]
    assert all(a.status is not None and a.elapsed_s < ANSWER_BOUND_S for a in attempts)
    down = outage.while_down(sent)
    assert down, "no request met the outage"
    assert {a.status for a in down} == {503}
    assert all(s.accepted for s in sent)  # the sender retried its way through
    return down


def settled(redis: Redis) -> bool:
    """No job left anywhere but finished: none queued, started, taken, scheduled or failed."""
    return (
        queued_count(redis) == 0
        and started_job_ids(redis) == set()
        and all(intermediate_ids(redis, name) == [] for name in QUEUE_NAMES)
        and scheduled_job_ids(redis) == set()
    )


@pytest.mark.slow
@pytest.mark.timeout(2 * STORED_BOUND_S + 60)
async def test_redis_killed_and_restarted_loses_no_accepted_callback(
    aof_redis: RedisServer,
    settings_env: dict[str, str],
    sqlite_store: str,
    keys: KeyPair,
    port: int,
    tmp_path: Path,
) -> None:
    env = settings_env | WORKER_ENV
    env |= {"TUXHOOK_REDIS_URL": aof_redis.url, "TUXHOOK_DATABASE_URL": sqlite_store}
    redis = aof_redis.client()
    sent = callbacks(keys, BURST)
    workers = Restarted(env, tmp_path)
    outage = Outage(aof_redis, workers.running)
    stop = asyncio.Event()
    supervisor = asyncio.create_task(workers.supervise(stop))
    receiver: Process | None = None
    try:
        receiver = start_receiver(env, port, tmp_path / "receiver.log")
        await eventually(lambda: listening(redis), "workers listening")
        sender = Sender(
            f"http://127.0.0.1:{port}",
            concurrency=6,
            pause_s=0.02,
            retry_until=time.monotonic() + RETRY_FOR_S,
            request_timeout_s=ANSWER_BOUND_S * 2,
            on_answer=outage.count,
        )
        await asyncio.gather(sender.send_all(sent), outage.run())
        sent_by = time.monotonic()
        lost_jobs = lost(redis, sent)
        stored = deliveries(sent)
        await eventually(
            lambda: ledger(sqlite_store).stored_once(stored),
            "all stored",
            STORED_BOUND_S,
            poll_s=0.25,
        )
        stored_after_s = time.monotonic() - sent_by
        # Every callback is stored. A job still marked started was stored by a worker that then
        # died in the outage; its entry would expire the job timeout + 60 s later (how soon
        # RQ's maintenance then retries it is test_worker_kill's): expire it now.
        expire_started(redis)
        await eventually(lambda: settled(redis), "every job finished", STORED_BOUND_S, poll_s=0.25)
    finally:
        stop.set()
        await supervisor
        if receiver is not None:
            receiver.stop()
        workers.stop()
    down = check_answers(outage, sent)
    print(
        f"appendfsync {aof_redis.appendfsync}: {len(down)} answers 503 while down, the slowest"
        f" in {max(a.elapsed_s for a in down):.3f} s; accepted {len(sent)}, lost after the"
        f" restart {len(lost_jobs)}; all stored {stored_after_s:.1f} s after the burst;"
        f" {workers.summary()}"
    )
    assert lost_jobs == []
    assert outage.workers_ran == [True, True]
    assert ledger(sqlite_store).stored_once(stored)  # any job run again changed nothing
    assert failed_job_ids(redis) == set()
