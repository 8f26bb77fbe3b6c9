"""How soon a Redis that stalls (SIGSTOP) is a 503, against one that is down (docs/reliability.md).

    python -m bench.redis_stall [--rounds 3] [--burst 40]

One `tuxhook receiver` process and a redis-server of its own. In each round Redis is down (its
process gone: connections refused), then stalled (SIGSTOP: the kernel still accepts
connections, nothing answers), and under each the receiver gets one callback alone, a burst of
callbacks at once, and a burst spread over the Redis socket timeout (each arriving while the
first batch waits). Prints, per case, the answers' statuses, the median and slowest time to
answer over the rounds, and /readyz's; then the slowest stalled answer as a multiple of the
socket timeout (REDIS_SOCKET_TIMEOUT_S): a stall must cost that once, not once per retry or
per batch waited behind. Bounded: about rounds x 8 x (socket timeout + 0.5) seconds.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from statistics import median

import aiohttp

from bench.load import Loopback, loopback, signed_callbacks
from shared.constants import REDIS_SOCKET_TIMEOUT_S, SIGNATURE_HEADER
from tests.support.processes import start_receiver
from tests.support.redis_server import RedisServer, free_port

TIMEOUT = aiohttp.ClientTimeout(total=30)  # seconds: only a hang reaches it


@contextmanager
def down(redis: RedisServer) -> Iterator[None]:
    redis.stop()
    try:
        yield
    finally:
        redis.start()  # the same port: the receiver reconnects by itself


CONDITIONS: dict[str, Callable[[RedisServer], AbstractContextManager[None]]] = {
    "down": down,
    "stalled": RedisServer.stalled,
}


@dataclass
class Case:
    statuses: dict[int, int] = field(default_factory=dict)
    slowest_s: list[float] = field(default_factory=list)  # one per round
    median_s: list[float] = field(default_factory=list)
    readyz_s: list[float] = field(default_factory=list)


async def timed(request: Awaitable[aiohttp.ClientResponse]) -> tuple[int, float]:
    """The answer's status, and the seconds from sending the request to reading the answer."""
    started = time.perf_counter()
    async with await request as resp:
        await resp.read()
        return resp.status, time.perf_counter() - started


async def post(
    http: aiohttp.ClientSession, base: str, delay_s: float, signed: tuple[bytes, str]
) -> tuple[int, float]:
    await asyncio.sleep(delay_s)
    headers = {"Content-Type": "application/json", SIGNATURE_HEADER: signed[1]}
    url = base + "/v1/callbacks/tuxsuite"
    return await timed(http.post(url, data=signed[0], headers=headers, timeout=TIMEOUT))


async def run_case(
    base: str, bodies: Iterator[tuple[bytes, str]], count: int, gap_s: float, case: Case
) -> None:
    async with aiohttp.ClientSession() as http:
        answers = await asyncio.gather(
            *(post(http, base, i * gap_s, next(bodies)) for i in range(count))
        )
        _, ready_s = await timed(http.get(base + "/readyz", timeout=TIMEOUT))
    for status, _ in answers:
        case.statuses[status] = case.statuses.get(status, 0) + 1
    case.slowest_s.append(max(s for _, s in answers))
    case.median_s.append(median(s for _, s in answers))
    case.readyz_s.append(ready_s)


async def warm(base: str, bodies: Iterator[tuple[bytes, str]]) -> None:
    """One callback accepted: Redis is back, and the receiver holds a pooled connection."""
    async with aiohttp.ClientSession() as http:
        for _ in range(100):  # bounded: Redis restarts within a second or two
            if (await post(http, base, 0, next(bodies)))[0] == 202:
                return
            await asyncio.sleep(0.1)
    raise RuntimeError("the receiver never accepted a callback again")


def shapes(burst: int) -> dict[str, tuple[int, float]]:
    return {
        "one": (1, 0.0),
        f"{burst} at once": (burst, 0.0),
        f"{burst} over the timeout": (burst, REDIS_SOCKET_TIMEOUT_S / burst),
    }


def report(cases: dict[tuple[str, str], Case]) -> None:
    print(
        f"{'redis':<9}{'callbacks':<22}{'answers':<14}"
        f"{'median s':>9}{'slowest s':>10}{'readyz s':>9}"
    )
    for (condition, shape), c in cases.items():
        answers = ",".join(f"{n}x{s}" for s, n in sorted(c.statuses.items()))
        print(
            f"{condition:<9}{shape:<22}{answers:<14}{median(c.median_s):>9.2f}"
            f"{max(c.slowest_s):>10.2f}{max(c.readyz_s):>9.2f}"
        )
    stalled = max(s for (cond, _), c in cases.items() if cond == "stalled" for s in c.slowest_s)
    ratio = stalled / REDIS_SOCKET_TIMEOUT_S
    print(f"slowest stalled answer: {stalled:.2f}s, x{ratio:.2f} the socket timeout")


def measure(ctx: Loopback, args: argparse.Namespace) -> dict[tuple[str, str], Case]:
    per_round = len(CONDITIONS) * sum(1 + n for n, _ in shapes(args.burst).values())
    bodies = iter(signed_callbacks(ctx.keys.private_key, per_round * args.rounds + 200))
    port = free_port()
    receiver = start_receiver(ctx.env, port, ctx.work / "receiver.log")
    base = f"http://127.0.0.1:{port}"
    cases: dict[tuple[str, str], Case] = {}
    try:
        for _ in range(args.rounds):
            for condition, make in CONDITIONS.items():
                for shape, (count, gap_s) in shapes(args.burst).items():
                    asyncio.run(warm(base, bodies))
                    case = cases.setdefault((condition, shape), Case())
                    with make(ctx.redis):
                        asyncio.run(run_case(base, bodies, count, gap_s, case))
    finally:
        receiver.stop()
    return cases


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.redis_stall", description=__doc__)
    parser.add_argument("--rounds", type=int, default=3, help="runs of each case")
    parser.add_argument("--burst", type=int, default=40, help="callbacks in a burst")
    args = parser.parse_args(argv)
    with loopback() as ctx:
        ctx.env["TUXHOOK_LOG_LEVEL"] = "WARNING"
        report(measure(ctx, args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
