"""Pages against the API calls behind them, over a store of 100,000 outcomes.

    python -m bench.pages [--outcomes N] [--rounds R] [--requests N] [--postgres SERVER_URL]

One `tuxhook receiver` process (reads open, on loopback) over a store that bench.page_store
fills with plans of builds and tests in 20 projects over 30 days, and the regressions and fixes
they hold (the build and test pages open ones whose results turned, which they mark). For each
page, in rounds: N times, the page and then the API calls it renders (its JSON twins), or the
other way round, one request at a time, so that whatever else slows the machine slows both
alike. A round's page time is the median of its requests; its API time, the median of the
twins' summed times (what a client that wants the same needs). The ratio reported is the
median of the rounds' page / API ratios (target <= 1.5).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from statistics import median

import aiohttp

from bench.harness import BenchStore
from bench.page_store import Stored, populate
from tests.support.database import engine_for
from tests.support.keys import make_key_pair
from tests.support.processes import start_receiver
from tests.support.redis_server import RedisServer, free_port

TARGET = 1.5  # a page may take this many times the API calls behind it


def pairs(s: Stored) -> dict[str, tuple[str, list[str]]]:
    """Each page and the API calls it renders."""
    failed = f"project={s.project}&kind=test&result=fail"
    regressed = f"project={s.project}&type=regression&device=qemu-arm64"
    return {
        "home": ("/", ["/v1/overview"]),
        "build": (
            f"/outcomes/build/{s.build}",
            [
                f"/v1/outcomes/build/{s.build}",
                f"/v1/outcomes?kind=test&build_uid={s.build}&limit=500",
            ],
        ),
        "test": (f"/outcomes/test/{s.test}", [f"/v1/outcomes/test/{s.test}"]),
        "oebuild": (f"/outcomes/oebuild/{s.oebuild}", [f"/v1/outcomes/oebuild/{s.oebuild}"]),
        "plan": (
            f"/outcomes/plan/{s.plan}",
            [f"/v1/outcomes/plan/{s.plan}", f"/v1/outcomes?plan={s.plan}&limit=500"],
        ),
        "search": ("/outcomes", ["/v1/outcomes"]),
        "search, filtered": (f"/outcomes?{failed}", [f"/v1/outcomes?{failed}"]),
        "regressions": ("/regressions", ["/v1/regressions"]),
        "regressions, filt.": (f"/regressions?{regressed}", [f"/v1/regressions?{regressed}"]),
    }


async def get(http: aiohttp.ClientSession, url: str) -> float:
    """Seconds one GET of `url` took, its body read whole."""
    started = time.perf_counter()
    async with http.get(url) as resp:
        await resp.read()
        if resp.status != 200:
            raise RuntimeError(f"{url}: {resp.status}")
    return time.perf_counter() - started


async def one_round(
    http: aiohttp.ClientSession, base: str, page: str, apis: list[str], requests: int
) -> tuple[float, float]:
    """The median seconds of the page and of its API calls (summed), requested in turn: what
    slows the machine down slows both alike."""
    page_s, api_s = [], []
    for i in range(requests):
        if i % 2:
            page_s.append(await get(http, base + page))
        api_s.append(sum([await get(http, base + a) for a in apis]))
        if not i % 2:
            page_s.append(await get(http, base + page))
    return median(page_s), median(api_s)


async def measure(
    base: str, s: Stored, rounds: int, requests: int
) -> dict[str, list[tuple[float, float]]]:
    """Per page, each round's (page seconds, API seconds)."""
    found: dict[str, list[tuple[float, float]]] = {name: [] for name in pairs(s)}
    async with aiohttp.ClientSession() as http:
        for page, apis in pairs(s).values():  # warm: templates compiled, caches filled
            await one_round(http, base, page, apis, 4)
        for _ in range(rounds):
            for name, (page, apis) in pairs(s).items():
                found[name].append(await one_round(http, base, page, apis, requests))
    return found


def report(backend: str, s: Stored, found: dict[str, list[tuple[float, float]]]) -> bool:
    print(f"\n{backend}: {s.count:,} outcomes; median ms per request, ratio page / API")
    ok = True
    for name, runs in found.items():
        page = median(p for p, _ in runs) * 1000
        api = median(a for _, a in runs) * 1000
        ratio = median(p / a for p, a in runs)
        ok = ok and ratio <= TARGET
        each = ", ".join(f"{p / a:.2f}" for p, a in runs)
        print(f"   {name:17} page {page:7.2f} ms   API {api:7.2f} ms   x{ratio:.2f}  ({each})")
    return ok


def run(tmp: Path, postgres: str | None, args: argparse.Namespace) -> bool:
    redis_server = RedisServer(tmp / "redis")
    redis_server.start()
    store = BenchStore(tmp, postgres)
    try:
        store.reset()
        started = time.monotonic()
        stored = populate(store.url, args.outcomes)
        if postgres:
            engine = engine_for(store.url)
            with engine.begin() as conn:  # as autovacuum would have by now
                conn.exec_driver_sql("ANALYZE")
            engine.dispose()
        took = time.monotonic() - started
        print(f"{store.backend}: stored {stored.count:,} outcomes in {took:.0f} s")
        keys = make_key_pair(tmp / f"keys-{store.backend}")
        env = {
            "TUXHOOK_REDIS_URL": redis_server.url,
            "TUXHOOK_DATABASE_URL": store.url,
            "TUXHOOK_TUXSUITE_KEYS_FILE": str(keys.public_path),
            "TUXHOOK_READ_ACCESS": "open",
            "TUXHOOK_LOG_LEVEL": "WARNING",
        }
        port = free_port()
        receiver = start_receiver(env, port, tmp / f"receiver-{store.backend}.log")
        try:
            found = asyncio.run(
                measure(f"http://127.0.0.1:{port}", stored, args.rounds, args.requests)
            )
        finally:
            receiver.stop()
        return report(store.backend, stored, found)
    finally:
        store.close()
        redis_server.stop()


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.pages")
    parser.add_argument("--outcomes", type=int, default=100_000, help="outcomes in the store")
    parser.add_argument("--rounds", type=int, default=5, help="rounds of every page and its API")
    parser.add_argument("--requests", type=int, default=30, help="requests per page per round")
    parser.add_argument("--postgres", metavar="SERVER_URL", help="also on a scratch database there")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    print(f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f} at start")
    ok = True
    with tempfile.TemporaryDirectory(prefix="tuxhook-bench-") as tmp:
        for postgres in (None, *([args.postgres] if args.postgres else [])):
            ok = run(Path(tmp), postgres, args) and ok
    print(f"\nevery page within x{TARGET} of its API: {'yes' if ok else 'NO'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
