"""A bounded loopback load generator: distinct signed callbacks POSTed at a fixed concurrency."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from statistics import median

import aiohttp
from cryptography.hazmat.primitives.asymmetric import ec

from shared.cli.signing import sign
from shared.constants import KINDS, SIGNATURE_HEADER
from tests.support.builders import callback
from tests.support.keys import KeyPair, make_key_pair
from tests.support.redis_server import RedisServer

UID_PLACEHOLDER = "U" * 27  # as long as TuxSuite's KSUIDs


# Callbacks signed per second of load: more than the machine's load generator can post, so that
# no run ends for want of them (load.py reports one that does: `exhausted`).
CALLBACKS_PER_S = 12_000


def signed_callbacks(key: ec.EllipticCurvePrivateKey, count: int) -> list[tuple[bytes, str]]:
    """`count` distinct (body, signature) pairs, the kinds in turn; only the uid differs."""
    templates = [json.dumps(callback(kind, uid=UID_PLACEHOLDER)).encode() for kind in KINDS]
    out = []
    for i in range(count):
        uid = f"bench{i:022d}".encode()
        body = templates[i % len(templates)].replace(UID_PLACEHOLDER.encode(), uid)
        out.append((body, sign(key, body)))
    return out


@dataclass
class LoadResult:
    duration_s: float
    latencies_s: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    accepted: int = 0  # 202s over the whole run, warm-up included, to check against Redis
    exhausted: bool = False
    cpu_s: float = 0.0  # CPU seconds the receivers used over the whole run

    @property
    def cpu_ms_per_callback(self) -> float:
        return self.cpu_s / max(1, self.accepted) * 1000

    @property
    def rate(self) -> float:
        return len(self.latencies_s) / self.duration_s

    def percentile_ms(self, q: float) -> float:
        ordered = sorted(self.latencies_s)
        if not ordered:
            return float("nan")
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


@dataclass(frozen=True)
class Summary:
    """The medians of a mode's rounds, as every receiver benchmark prints them."""

    rate: float
    cpu_ms: float
    columns: str  # callbacks/s, (min-max), p50 ms, p99 ms
    note: str  # what to print after the line: whether a round ran out of signed callbacks

    HEADER = f"{'callbacks/s':>13}{'(min-max)':>13}{'p50 ms':>9}{'p99 ms':>9}"

    @classmethod
    def of(cls, runs: list[LoadResult]) -> Summary:
        rate = median(r.rate for r in runs)
        spread = f"{min(r.rate for r in runs):.0f}-{max(r.rate for r in runs):.0f}"
        p50 = median(r.percentile_ms(0.50) for r in runs)
        p99 = median(r.percentile_ms(0.99) for r in runs)
        return cls(
            rate,
            median(r.cpu_ms_per_callback for r in runs),
            f"{rate:>13.0f}{spread:>13}{p50:>9.1f}{p99:>9.1f}",
            " (ran out of callbacks)" if any(r.exhausted for r in runs) else "",
        )


@dataclass
class Window:
    """Requests started before `measure_from` warm up; only those done by `end` count."""

    measure_from: float
    end: float


async def _poster(
    http: aiohttp.ClientSession,
    url: str,
    bodies: Iterator[tuple[bytes, str]],
    window: Window,
    result: LoadResult,
) -> None:
    while time.perf_counter() < window.end:
        try:
            body, signature = next(bodies)
        except StopIteration:
            result.exhausted = True
            return
        headers = {"Content-Type": "application/json", SIGNATURE_HEADER: signature}
        started = time.perf_counter()
        async with http.post(url, data=body, headers=headers) as resp:
            await resp.read()
        done = time.perf_counter()
        result.accepted += resp.status == 202
        if window.measure_from <= started and done <= window.end:
            result.latencies_s.append(done - started)
            result.statuses[resp.status] = result.statuses.get(resp.status, 0) + 1


async def run_load(
    url: str,
    bodies: list[tuple[bytes, str]],
    *,
    concurrency: int,
    warmup_s: float,
    duration_s: float,
) -> LoadResult:
    """POST `bodies` with `concurrency` requests at a time for warmup_s + duration_s seconds."""
    result = LoadResult(duration_s)
    now = time.perf_counter()
    window = Window(now + warmup_s, now + warmup_s + duration_s)
    source = iter(bodies)
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as http:
        posters = (_poster(http, url, source, window, result) for _ in range(concurrency))
        await asyncio.gather(*posters)
    return result


def load_receiver(
    port: int, bodies: list[tuple[bytes, str]], args: argparse.Namespace
) -> LoadResult:
    """`run_load` against the receiver on `port`, with the options of `load_arguments`."""
    return asyncio.run(
        run_load(
            f"http://127.0.0.1:{port}/v1/callbacks/tuxsuite",
            bodies,
            concurrency=args.concurrency,
            warmup_s=args.warmup,
            duration_s=args.duration,
        )
    )


@dataclass(frozen=True)
class Loopback:
    """What a receiver benchmark runs against: its own redis-server, key pair and settings."""

    redis: RedisServer
    keys: KeyPair
    env: dict[str, str]
    work: Path


@contextmanager
def loopback() -> Iterator[Loopback]:
    with tempfile.TemporaryDirectory(prefix="tuxhook-bench-") as tmp:
        work = Path(tmp)
        server = RedisServer(work / "redis")
        server.start()
        try:
            keys = make_key_pair(work / "keys")
            env = {
                "TUXHOOK_REDIS_URL": server.url,
                "TUXHOOK_TUXSUITE_KEYS_FILE": str(keys.public_path),
                "TUXHOOK_LOG_LEVEL": os.environ.get("BENCH_LOG_LEVEL", "INFO"),
            }
            yield Loopback(server, keys, env, work)
        finally:
            server.stop()


def load_arguments(prog: str, doc: str | None, duration: float) -> argparse.ArgumentParser:
    """The options every receiver benchmark takes."""
    parser = argparse.ArgumentParser(prog=prog, description=doc)
    parser.add_argument("--duration", type=float, default=duration, help="seconds measured per run")
    parser.add_argument("--rounds", type=int, default=3, help="runs of each mode")
    parser.add_argument("--warmup", type=float, default=0.5, help="seconds before measuring")
    parser.add_argument("--concurrency", type=int, default=64, help="requests at a time")
    return parser
