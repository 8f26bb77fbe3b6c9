"""Redis killed with SIGKILL during a burst, and restarted from its append-only file.

While Redis is down the receiver answers 503 (never a 2xx, never a hang). After the restart
every callback that got a 2xx is still queued, so the number of callbacks lost across the
restart is 0; a sender that retries its 503s gets everything in; a worker then stores each
callback exactly once.

Run with both fsync policies: a SIGKILL of the Redis process loses nothing Redis has written
to the kernel, which with `everysec` is every acknowledged write unless a slow disk made Redis
postpone writing (docs/reliability.md). `always` also survives a crash of the host.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.support.burst import Attempt, Sender, Sent, callbacks, deliveries
from tests.support.database import ledger
from tests.support.keys import KeyPair
from tests.support.processes import run_tuxhook, start_receiver
from tests.support.queues import queued_jobs
from tests.support.redis_server import RedisServer

BURST = 300  # distinct callbacks
KILL_AFTER = 60  # 2xx answers before Redis is killed
DOWN_S = 2.0  # seconds Redis stays down
ANSWER_BOUND_S = 5.0  # longest an answer may take, outage or not
RETRY_FOR_S = 60.0  # seconds the sender keeps retrying its 503s


@pytest.fixture(params=["everysec", "always"])
def aof_redis(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[RedisServer]:
    """A redis-server of the test's own, with the append-only file on."""
    server = RedisServer(tmp_path / "redis", appendonly=True, appendfsync=request.param)
    server.start()
    yield server
    server.stop()


@dataclass
class Outage:
    """Kills Redis once enough callbacks were accepted, and restarts it DOWN_S later."""

    redis: RedisServer
    accepted: int = 0
    down: tuple[float, float] | None = None  # (killed, restarting), time.monotonic()
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
        await asyncio.sleep(DOWN_S)
        self.down = (killed, time.monotonic())
        await asyncio.to_thread(self.redis.start)  # same port and directory: AOF reloaded

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


async def test_redis_killed_and_restarted_loses_no_accepted_callback(
    aof_redis: RedisServer,
    settings_env: dict[str, str],
    sqlite_store: str,
    keys: KeyPair,
    port: int,
    tmp_path: Path,
) -> None:
    env = settings_env | {"TUXHOOK_REDIS_URL": aof_redis.url, "TUXHOOK_DATABASE_URL": sqlite_store}
    sent = callbacks(keys, BURST)
    outage = Outage(aof_redis)
    receiver = start_receiver(env, port, tmp_path / "receiver.log")
    try:
        sender = Sender(
            f"http://127.0.0.1:{port}",
            concurrency=6,
            pause_s=0.02,
            retry_until=time.monotonic() + RETRY_FOR_S,
            request_timeout_s=ANSWER_BOUND_S * 2,
            on_answer=outage.count,
        )
        await asyncio.gather(sender.send_all(sent), outage.run())
    finally:
        receiver.stop()
    attempts = [a for s in sent for a in s.attempts]
    assert all(a.status is not None and a.elapsed_s < ANSWER_BOUND_S for a in attempts)
    down = outage.while_down(sent)
    assert down, "no request met the outage"
    assert {a.status for a in down} == {503}
    assert all(s.accepted for s in sent)  # the sender retried its way through

    queued = {job.id for job in queued_jobs(aof_redis.client())}
    lost = [s.job_id for s in sent if s.accepted and s.job_id not in queued]
    slowest = max(a.elapsed_s for a in down)
    print(
        f"appendfsync {aof_redis.appendfsync}: {len(down)} answers 503 while down, the slowest"
        f" in {slowest:.3f} s; accepted {len(sent)}, lost after the restart {len(lost)}"
    )
    assert lost == []

    drained = run_tuxhook(env, "worker", "--burst")
    assert drained.returncode == 0, drained.stderr
    assert ledger(sqlite_store).stored_once(deliveries(sent))
