"""Intake benchmark: one `tuxhook receiver` process against a bare verify-and-LPUSH handler.

Both get the same number of distinct signed callbacks over loopback, in alternating rounds of
the same run, from the same load generator. Prints req/s, p50/p99 and the ratio (target 0.8).
Run: python -m bench.intake [--requests N] [--rounds R] [--concurrency C]
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bench.loadgen import LoadResult, Request, median_of, run_load
from tests.support.builders import signed_callback
from tests.support.keys import KeyPair, make_key_pair
from tests.support.processes import Process, child_env, start_receiver
from tests.support.redis_server import RedisServer, free_port

KINDS_CYCLE = ("build", "test", "oebuild", "plan")


def signed_requests(keys: KeyPair, count: int) -> list[Request]:
    return [signed_callback(keys, kind=KINDS_CYCLE[i % 4]) for i in range(count)]


@contextmanager
def bare_receiver(keys: KeyPair, redis_url: str, log: Path) -> Iterator[str]:
    import sys

    port = free_port()
    args = [
        sys.executable,
        "-m",
        "bench.bare_receiver",
        str(keys.public_path),
        redis_url,
        str(port),
    ]
    proc = Process(args, child_env({}), log)
    try:
        wait_http_ok_post(port, proc)
        yield f"http://127.0.0.1:{port}/v1/callbacks/tuxsuite"
    finally:
        proc.stop()


def wait_http_ok_post(port: int, proc: Process) -> None:
    """The bare app has no /healthz; wait until its port accepts a connection."""
    import socket
    import time

    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(proc.output())


@contextmanager
def tuxhook_receiver(env: dict[str, str], log: Path) -> Iterator[str]:
    port = free_port()
    proc = start_receiver(env, port, log)
    try:
        yield f"http://127.0.0.1:{port}/v1/callbacks/tuxsuite"
    finally:
        proc.stop()


async def measure(label: str, url: str, keys: KeyPair, args: argparse.Namespace) -> LoadResult:
    await run_load("warm-up", url, signed_requests(keys, args.requests // 10), args.concurrency)
    result = await run_load(label, url, signed_requests(keys, args.requests), args.concurrency)
    print(result.line(), flush=True)
    return result


async def main(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        redis = RedisServer(work / "redis")
        redis.start()
        keys = make_key_pair(work / "keys")
        env = {
            "TUXHOOK_REDIS_URL": redis.url,
            "TUXHOOK_TUXSUITE_KEYS_FILE": str(keys.public_path),
            "TUXHOOK_LOG_LEVEL": args.log_level,
        }
        bare, ours = [], []
        try:
            for round_no in range(args.rounds):
                redis.client().flushall()
                with bare_receiver(keys, redis.url, work / "bare.log") as url:
                    bare.append(
                        await measure(f"bare verify+LPUSH #{round_no + 1}", url, keys, args)
                    )
                redis.client().flushall()
                with tuxhook_receiver(env, work / "tuxhook.log") as url:
                    ours.append(await measure(f"tuxhook receiver #{round_no + 1}", url, keys, args))
        finally:
            redis.stop()
        report(bare, ours)


def report(bare: list[LoadResult], ours: list[LoadResult]) -> None:
    b = median_of([r.rate for r in bare])
    t = median_of([r.rate for r in ours])
    p50 = median_of([r.percentile(0.5) for r in ours])
    p99 = median_of([r.percentile(0.99) for r in ours])
    print(f"\nmedian bare:    {b:8.0f} callbacks/s")
    print(f"median tuxhook: {t:8.0f} verified callbacks/s  p50 {p50:.2f} ms  p99 {p99:.2f} ms")
    print(f"ratio tuxhook/bare: {t / b:.2f}  (target >= 0.80)")


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--requests", type=int, default=5000, help="measured requests per round")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--concurrency", type=int, default=32)
    p.add_argument("--log-level", default="INFO", help="the receiver's TUXHOOK_LOG_LEVEL")
    return p.parse_args()


if __name__ == "__main__":
    asyncio.run(main(parse_args()))
