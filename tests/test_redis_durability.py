"""The receiver says at start-up whether Redis keeps every job it acknowledged."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from receiver.durability import report_durability, risk
from shared.redis_conn import connect_async
from tests.support.redis_server import RedisServer, free_port


@pytest.mark.parametrize(
    ("config", "lost"),
    [
        ({"appendonly": "yes", "appendfsync": "always"}, None),
        ({"appendonly": "yes", "appendfsync": "everysec"}, "a crash of the host loses"),
        ({"appendonly": "yes", "appendfsync": "no"}, "a crash of the host loses"),
        ({"appendonly": "no", "appendfsync": "always"}, "a Redis restart loses"),
        ({}, "a Redis restart loses"),
    ],
)
def test_risk_names_what_a_crash_loses(config: dict[str, str], lost: str | None) -> None:
    found = risk(config)
    assert found == lost if lost is None else lost in (found or "")


@pytest.fixture(params=[(True, "always"), (True, "everysec"), (False, "always")])
def configured_redis(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[RedisServer]:
    appendonly, fsync = request.param
    server = RedisServer(tmp_path / "redis", appendonly=appendonly, appendfsync=fsync)
    server.start()
    yield server
    server.stop()


async def test_start_up_reports_redis_persistence(configured_redis: RedisServer) -> None:
    redis = connect_async(configured_redis.url)
    try:
        with capture_logs() as logs:
            await report_durability(redis)
    finally:
        await redis.aclose()
    [line] = logs
    durable = configured_redis.appendonly and configured_redis.appendfsync == "always"
    assert line["event"] == ("redis_durable" if durable else "redis_not_durable")
    assert line["log_level"] == ("info" if durable else "warning")
    assert line["appendonly"] == ("yes" if configured_redis.appendonly else "no")


async def test_start_up_with_redis_down_says_nothing_certain() -> None:
    redis = connect_async(f"redis://127.0.0.1:{free_port()}/0")
    try:
        with capture_logs() as logs:
            await report_durability(redis)
    finally:
        await redis.aclose()
    assert [(e["event"], e["reason"]) for e in logs] == [
        ("redis_durability_unknown", "ConnectionError")
    ]
