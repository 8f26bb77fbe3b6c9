"""Redis stopped, then started again: 503 with Retry-After within about a second, then 202."""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import structlog
from structlog.testing import capture_logs

from shared.settings import Settings
from tests.conftest import serving
from tests.support.builders import new_uid, signed_callback
from tests.support.keys import KeyPair
from tests.support.queues import queued_count
from tests.support.redis_server import RedisServer

CALLBACK = "/v1/callbacks/tuxsuite"


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
        started = time.monotonic()
        async with http.post(url + CALLBACK, data=body, headers=headers) as resp:
            elapsed = time.monotonic() - started
            assert resp.status == 503
            assert int(resp.headers["Retry-After"]) > 0
            assert (await resp.json())["error"] == "queue_unavailable"
        assert elapsed < 5, "an outage must be an answer, not a hang"
        async with http.get(url + "/readyz") as resp:
            assert (resp.status, (await resp.json())["error"]) == (503, "queue_unavailable")

        own_redis.start()  # same port; the receiver reconnects by itself
        async with http.post(url + CALLBACK, data=body, headers=headers) as resp:
            assert resp.status == 202, await resp.text()
        async with http.get(url + "/readyz") as resp:
            assert resp.status == 200
    assert queued_count(own_redis.client()) == 1  # Redis kept nothing on disk; only the new one


async def test_hung_redis_answers_503_not_a_hang(
    own_redis: RedisServer, settings_env: dict[str, str], keys: KeyPair
) -> None:
    settings_env["TUXHOOK_REDIS_URL"] = own_redis.url
    assert own_redis.process is not None
    async with serving(Settings.from_env(settings_env)) as served:
        try:
            own_redis.process.send_signal(signal.SIGSTOP)
            body, headers = signed_callback(keys)
            started = time.monotonic()
            async with served.http.post(served.at(CALLBACK), data=body, headers=headers) as resp:
                assert resp.status == 503
            assert time.monotonic() - started < 5
        finally:
            own_redis.process.send_signal(signal.SIGCONT)
        # The timed-out enqueue may still run once Redis wakes: the retry is then a duplicate.
        async with served.http.post(served.at(CALLBACK), data=body, headers=headers) as resp:
            assert resp.status in (200, 202)
    assert queued_count(own_redis.client()) == 1


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
