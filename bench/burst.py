"""End to end: distinct signed callbacks through one receiver process and one `tuxhook worker`
(a worker process per queue), timed from the first POST until the store holds every one."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from pathlib import Path

import aiohttp
from redis import Redis
from rq import Queue, Worker
from rq.serializers import JSONSerializer

from bench.harness import Bench, BenchStore
from shared.constants import KINDS, QUEUE_NAMES
from tests.support.builders import callback, encode, signed_headers
from tests.support.keys import KeyPair, make_key_pair
from tests.support.processes import Process, start_receiver, start_worker
from tests.support.redis_server import free_port

CONCURRENCY = 32  # requests in flight at once
STORED_TIMEOUT_S = 600.0  # seconds to wait for the store to hold every callback
POLL_S = 0.25  # seconds between two counts of the store

Request = tuple[bytes, dict[str, str]]


def signed_requests(keys: KeyPair, count: int) -> list[Request]:
    """Signed before the clock starts: the sender's cost is not the receiver's."""
    requests = []
    for i in range(count):
        body = encode(callback(KINDS[i % len(KINDS)]))
        requests.append((body, signed_headers(keys, body)))
    return requests


async def post_all(url: str, requests: list[Request]) -> Counter[int]:
    statuses: Counter[int] = Counter()
    pending = iter(requests)

    async def sender(session: aiohttp.ClientSession) -> None:
        for body, headers in pending:
            async with session.post(url, data=body, headers=headers) as resp:
                statuses[resp.status] += 1

    connector = aiohttp.TCPConnector(limit=CONCURRENCY)
    async with aiohttp.ClientSession(connector=connector) as session:
        await asyncio.gather(*(sender(session) for _ in range(CONCURRENCY)))
    return statuses


def wait_workers(redis: Redis, count: int) -> None:
    deadline = time.monotonic() + 30
    while Worker.count(connection=redis) < count:
        if time.monotonic() > deadline:
            raise SystemExit(f"{count} workers did not start")
        time.sleep(0.1)


def wait_stored(store: BenchStore, count: int) -> int:
    deadline = time.monotonic() + STORED_TIMEOUT_S
    while (stored := store.counts()[0]) < count and time.monotonic() < deadline:
        time.sleep(POLL_S)
    return stored


def failed_jobs(redis: Redis) -> int:
    return sum(
        Queue(kind, connection=redis, serializer=JSONSerializer).failed_job_registry.count
        for kind in KINDS
    )


def run_burst(bench: Bench, tmp: Path, count: int) -> None:
    redis, store = bench.redis, bench.store
    redis.flushall()
    store.reset()
    keys = make_key_pair(tmp / "keys")
    env = {**bench.env(), "TUXHOOK_TUXSUITE_KEYS_FILE": str(keys.public_path)}
    requests = signed_requests(keys, count)
    port = free_port()
    processes: list[Process] = [start_receiver(env, port, tmp / "receiver.log")]
    try:
        processes.append(start_worker(env, tmp / "worker.log"))
        wait_workers(redis, len(QUEUE_NAMES))
        started = time.perf_counter()
        url = f"http://127.0.0.1:{port}/v1/callbacks/tuxsuite"
        statuses = asyncio.run(post_all(url, requests))
        accepted = time.perf_counter() - started
        stored = wait_stored(store, count)
        total = time.perf_counter() - started
    finally:
        for process in processes:
            process.stop()
    print(
        f"\n3. end to end: {count} signed callbacks, 1 receiver, {len(QUEUE_NAMES)} worker"
        f" processes (one per queue), {store.backend}"
    )
    print(f"   answers                             {dict(statuses)}")
    print(f"   all answered after                  {accepted:8.1f} s ({count / accepted:.0f}/s)")
    print(f"   stored                              {stored:8d} of {count}")
    print(f"   all stored after                    {total:8.1f} s ({count / total:.0f}/s)")
    print(f"   failed jobs                         {failed_jobs(redis):8d}")
    if stored != count:
        raise SystemExit(f"only {stored} of {count} callbacks were stored")
