"""The compose stack without Docker: redis-server with compose's AOF settings, `tuxhook db
upgrade`, one receiver and three workers (each a process per queue), as real processes with
compose's environment. A burst of signed callbacks of every kind goes through, and each is
persisted exactly once."""

from __future__ import annotations

import asyncio
import json
import time
from asyncio.subprocess import PIPE
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import sqlalchemy as sa

from shared.constants import KINDS, QUEUE_NAMES
from shared.db.schema import deliveries, outcomes
from tests.support.builders import signed_callback
from tests.support.database import POSTGRES_SERVER_URL, create_database, drop_database, engine_for
from tests.support.keys import KeyPair
from tests.support.logs import log_events
from tests.support.metrics import Samples, scrape
from tests.support.redis_server import RedisServer, free_port
from tests.support.stack import TUXHOOK, Addresses, Stack, environment, migrate, redis_options
from tests.support.users import READER

PER_KIND = 100  # distinct callbacks of each kind in the burst
REDELIVERED = 40  # of those, sent again once answered
CONCURRENCY = 32  # requests in flight at once
WORKERS = 3  # `tuxhook worker` processes, as containers; each runs a worker per queue
SETTLE_TIMEOUT_S = 90.0  # seconds for the stack to store the burst and empty its queues

Callback = tuple[bytes, dict[str, str]]


@pytest.fixture
def stack_redis(tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path / "redis", appendonly=True)
    server.start()
    yield server
    server.stop()


@pytest.fixture(params=[pytest.param("postgres", marks=pytest.mark.postgres), "sqlite"])
def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A store with no schema yet: migrating it is the stack's job."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'stack.sqlite3'}"
        return
    url = create_database(POSTGRES_SERVER_URL)
    try:
        yield url
    finally:
        drop_database(POSTGRES_SERVER_URL, url)


async def post_all(url: str, callbacks: list[Callback]) -> list[tuple[int, dict[str, Any]]]:
    gate = asyncio.Semaphore(CONCURRENCY)
    async with aiohttp.ClientSession() as http:

        async def post(body: bytes, headers: dict[str, str]) -> tuple[int, dict[str, Any]]:
            async with gate, http.post(url, data=body, headers=headers) as resp:
                return resp.status, await resp.json()

        return await asyncio.gather(*(post(body, headers) for body, headers in callbacks))


async def listed_outcomes(http: aiohttp.ClientSession, base: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        params = {"limit": "500"} | ({"cursor": cursor} if cursor else {})
        async with http.get(base + "/v1/outcomes", params=params, headers=READER.basic()) as resp:
            assert resp.status == 200, await resp.text()
            page = await resp.json()
        found += page["outcomes"]
        cursor = page["next_cursor"]
        if cursor is None:
            return found


async def tuxhook_status(stack: Stack) -> dict[str, Any]:
    """`tuxhook status --json`, run as `docker-compose exec receiver` would run it."""
    proc = await asyncio.create_subprocess_exec(
        TUXHOOK, "status", "--json", env=environment("receiver", stack.at), stdout=PIPE
    )
    out, _ = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode == 0
    doc: dict[str, Any] = json.loads(out)
    return doc


def settled(status: dict[str, Any]) -> bool:
    counts = ("queued", "started", "failed", "scheduled")
    return all(q[c] == 0 for q in status["queues"] for c in counts)


async def wait_settled(stack: Stack, expected: int) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Every outcome listed and every queue empty, or the test fails at the deadline."""
    deadline = time.monotonic() + SETTLE_TIMEOUT_S
    async with aiohttp.ClientSession() as http:
        while True:
            listed = await listed_outcomes(http, stack.url)
            status = await tuxhook_status(stack)
            if len(listed) >= expected and settled(status):
                return listed, status
            if time.monotonic() > deadline:
                raise AssertionError(f"{len(listed)} stored; {status}\n{stack.output()}")
            await asyncio.sleep(0.5)


def stored_rows(url: str) -> tuple[list[Any], int]:
    engine = engine_for(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(sa.select(outcomes.c.kind, outcomes.c.uid, outcomes.c.deliveries))
            count = conn.execute(sa.select(sa.func.count()).select_from(deliveries)).scalar_one()
            return list(rows), count
    finally:
        engine.dispose()


def total(m: Samples, name: str, **labels: str) -> float:
    """The sum over the series of `name` that carry these labels."""
    wanted = set(labels.items())
    return sum(v for (n, lab), v in m.items() if n == name and wanted <= lab)


def check_metrics(m: Samples, sent: int) -> None:
    assert total(m, "tuxhook_callbacks_total", outcome="accepted") == sent
    assert total(m, "tuxhook_callbacks_total", outcome="duplicate") == REDELIVERED
    assert total(m, "tuxhook_jobs_total", outcome="succeeded") == sent
    assert total(m, "tuxhook_jobs_total", outcome="failed") == 0
    assert total(m, "tuxhook_job_duration_seconds_count", outcome="succeeded") == sent
    assert total(m, "tuxhook_queue_depth") == 0
    assert total(m, "tuxhook_workers_alive") == WORKERS * len(QUEUE_NAMES)


def check_redis_is_configured_as_compose_says(redis: RedisServer) -> None:
    options = redis_options()
    assert options == {"appendonly": "yes", "appendfsync": "everysec"}
    client = redis.client()
    try:
        for name, value in options.items():
            assert client.config_get(name) == {name: value}
    finally:
        client.close()


def check_each_worker_took_a_share(stack: Stack, sent: int) -> None:
    """One `job` log line per job, each job stored by one worker, and every worker had some."""
    jobs = [log_events(worker, "job") for worker in stack.workers]
    assert all(jobs), [len(j) for j in jobs]
    done = [e for share in jobs for e in share]
    assert len({e["job_id"] for e in done}) == len(done) == sent
    assert {e["stored"] for e in done} == {"applied"}


async def test_a_burst_through_the_stack_is_stored_exactly_once(
    stack_redis: RedisServer, empty_database: str, keys: KeyPair, tmp_path: Path
) -> None:
    check_redis_is_configured_as_compose_says(stack_redis)
    users = tmp_path / "users.toml"
    users.write_text(READER.toml(), encoding="utf-8")
    at = Addresses(stack_redis.url, empty_database, free_port(), keys.public_path, users)
    migrated = migrate(at)
    assert migrated.returncode == 0, migrated.stderr
    callbacks = [signed_callback(keys, kind=kind) for kind in KINDS for _ in range(PER_KIND)]
    stack = Stack(at, tmp_path)
    try:
        stack.start(WORKERS)
        answers = await post_all(stack.url + "/v1/callbacks/tuxsuite", callbacks)
        again = await post_all(stack.url + "/v1/callbacks/tuxsuite", callbacks[::10][:REDELIVERED])
        listed, status = await wait_settled(stack, len(callbacks))
        async with aiohttp.ClientSession() as http:
            async with http.get(stack.url + "/readyz") as resp:
                assert resp.status == 200
            m = await scrape(stack.url, http)
    finally:
        exits = stack.stop()
    assert exits == [0] * (WORKERS + 1), stack.output()

    assert [code for code, _ in answers] == [202] * len(callbacks)
    assert all(code == 200 and doc["duplicate"] for code, doc in again)
    sent = {(json.loads(body)["kind"], json.loads(body)["status"]["uid"]) for body, _ in callbacks}
    assert {(o["kind"], o["uid"]) for o in listed} == sent
    assert len(listed) == len(sent) and all(o["deliveries"] == 1 for o in listed)
    rows, delivery_count = stored_rows(empty_database)
    assert sorted((k, u) for k, u, _ in rows) == sorted(sent)
    assert {d for _, _, d in rows} == {1} and delivery_count == len(sent)
    assert sorted(q for w in status["workers"] for q in w["queues"]) == sorted(
        QUEUE_NAMES * WORKERS
    )
    check_metrics(m, len(sent))
    check_each_worker_took_a_share(stack, len(sent))
