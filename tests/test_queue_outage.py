"""Redis stopped, then started again, or stalled (SIGSTOP): 503 with Retry-After, then 202."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest
import structlog
from structlog.testing import capture_logs

from shared.constants import REDIS_SOCKET_TIMEOUT_S
from shared.settings import Settings
from tests.conftest import Receiver, serving
from tests.support.builders import new_uid, signed_callback
from tests.support.keys import KeyPair
from tests.support.queues import queued_count
from tests.support.redis_server import RedisServer

CALLBACK = "/v1/callbacks/tuxsuite"
# A bound on each answer that only a hang reaches: how fast the answer comes is measured, and
# printed, not asserted.
NOT_A_HANG = aiohttp.ClientTimeout(total=30)


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[RedisServer]:
    """A redis-server of this test's own, which it may stop without harming the others."""
    server = RedisServer(tmp_path / "redis")
    server.start()
    yield server
    server.stop()


async def test_redis_outage_answers_503_and_recovers(
    own_redis: RedisServer, settings_env: dict[str, str], keys: KeyPair
) -> None:
    settings_env["TUXHOOK_REDIS_URL"] = own_redis.url
    async with serving(Settings.from_env(settings_env)) as served:
        http, url = served.http, served.url
        body, headers = signed_callback(keys)
        async with http.post(url + CALLBACK, data=body, headers=headers) as resp:
            assert resp.status == 202

        own_redis.stop()
        body, headers = signed_callback(keys)
        async with http.post(
            url + CALLBACK, data=body, headers=headers, timeout=NOT_A_HANG
        ) as resp:
            assert resp.status == 503
            assert int(resp.headers["Retry-After"]) > 0
            assert (await resp.json())["error"] == "queue_unavailable"
        async with http.get(url + "/readyz") as resp:
            assert (resp.status, (await resp.json())["error"]) == (503, "queue_unavailable")

        own_redis.start()  # same port; the receiver reconnects by itself
        async with http.post(url + CALLBACK, data=body, headers=headers) as resp:
            assert resp.status == 202, await resp.text()
        async with http.get(url + "/readyz") as resp:
            assert resp.status == 200
    assert queued_count(own_redis.client()) == 1  # Redis kept nothing on disk; only the new one


@dataclass(frozen=True)
class Answer:
    status: int
    error: str
    retry_after: str | None
    elapsed_s: float


async def post_after(
    served: Receiver, delay_s: float, body: bytes, headers: dict[str, str]
) -> Answer:
    await asyncio.sleep(delay_s)
    started = time.monotonic()
    async with served.http.post(
        served.at(CALLBACK), data=body, headers=headers, timeout=NOT_A_HANG
    ) as resp:
        error = (await resp.json()).get("error", "")
        return Answer(
            resp.status, error, resp.headers.get("Retry-After"), time.monotonic() - started
        )


# (callbacks, seconds between them): one alone; a burst that queues behind the first batch; and
# callbacks arriving all through the first batch's wait, which must not each wait again.
STALL_LOADS = {
    "one": (1, 0.0),
    "40-at-once": (40, 0.0),
    "40-over-the-timeout": (40, REDIS_SOCKET_TIMEOUT_S / 40),
}


@pytest.mark.parametrize("count, gap_s", STALL_LOADS.values(), ids=STALL_LOADS.keys())
async def test_stalled_redis_answers_503_as_when_it_is_down(
    own_redis: RedisServer, settings_env: dict[str, str], keys: KeyPair, count: int, gap_s: float
) -> None:
    settings_env["TUXHOOK_REDIS_URL"] = own_redis.url
    bodies = [signed_callback(keys) for _ in range(count)]
    async with serving(Settings.from_env(settings_env)) as served:
        warm = await post_after(served, 0, *signed_callback(keys))  # a pooled connection
        assert warm.status == 202
        with own_redis.stalled():
            answers = await asyncio.gather(
                *(post_after(served, i * gap_s, *bb) for i, bb in enumerate(bodies))
            )
            started = time.monotonic()
            async with served.http.get(served.at("/readyz"), timeout=NOT_A_HANG) as resp:
                ready = (resp.status, (await resp.json())["error"], time.monotonic() - started)
        slowest = max(a.elapsed_s for a in answers)
        print(
            f"stalled Redis, {count} callback(s): slowest 503 in {slowest:.2f}s;"
            f" /readyz {ready[2]:.2f}s"
        )
        # Nothing is claimed as queued: every answer is the outage's, as when Redis is down.
        assert {(a.status, a.error) for a in answers} == {(503, "queue_unavailable")}
        assert all(a.retry_after is not None and int(a.retry_after) > 0 for a in answers)
        assert ready[:2] == (503, "queue_unavailable")
        # A 503'd callback may still have been queued (Redis ran the command once it woke):
        # its redelivery is then a duplicate, never a second job.
        again = [await post_after(served, 0, *bb) for bb in bodies]
        duplicates = sum(a.status == 200 for a in again)
        print(f"redelivered after the stall: {duplicates} duplicate(s), {count - duplicates} new")
        assert {a.status for a in again} <= {200, 202}
    assert queued_count(own_redis.client()) == 1 + count


async def test_the_line_of_a_callback_refused_for_the_outage_names_its_kind_and_uid(
    own_redis: RedisServer, settings_env: dict[str, str], keys: KeyPair
) -> None:
    settings_env["TUXHOOK_REDIS_URL"] = own_redis.url
    uid = new_uid()
    body, headers = signed_callback(keys, kind="plan", uid=uid)
    async with serving(Settings.from_env(settings_env)) as served:
        own_redis.stop()
        with capture_logs(processors=[structlog.contextvars.merge_contextvars]) as entries:
            async with served.http.post(served.url + CALLBACK, data=body, headers=headers) as r:
                assert r.status == 503
    [line] = [entry for entry in entries if entry["event"] == "request"]
    assert (line["kind"], line["uid"], line["outcome"]) == ("plan", uid, "queue_unavailable")
    assert "job_id" not in line
