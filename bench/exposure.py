"""Exposure benchmark (issue 12): what an anonymous client costs one receiver, before and after.

The receiver of this checkout ("after") and the one of a git ref ("before", default main,
exported with `git archive` and run from there with the same interpreter), one after the
other in the same run, on the same redis-server, each measured for:

- the CPU one gzip bomb costs (4 MiB of gzip, 4 GiB of zeros once inflated) POSTed to /nope,
  a route that reads no body, and the time until it is answered;
- the latency of /healthz and of a signed callback, one request at a time, while four bombs
  are sent at once;
- the receiver's memory (RSS) while 200 uploads of 1 MiB with a garbage signature are held
  open with their last byte unsent, and once they are closed.

Then, for this checkout, what the limits' defaults were chosen from: memory per idle
connection, per connection holding the largest head it may send, and per body being read.

    python -m bench.exposure [--before main] [--bomb-mib 4096] [--held 200]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import aiohttp

from bench.attacks import (
    GARBAGE_SIGNATURE,
    Latencies,
    bomb,
    cpu_s,
    hold_heads,
    hold_uploads,
    poll,
    rss_bytes,
    until_idle,
)
from bench.attacks import gzip_bomb as make_bomb
from bench.exported import export, start_receiver_in
from bench.load import Loopback, loopback, signed_callbacks
from shared.constants import MAX_BUFFERED_BODY_BYTES, MAX_CONNECTIONS, SIGNATURE_HEADER
from tests.support.processes import Process
from tests.support.redis_server import free_port

CACHE = (
    Path(__file__).resolve().parent.parent / "var" / "bench-cache"
)  # the bomb, made once (level 9 takes about 20 s)
MIB = 1 << 20
PARALLEL_BOMBS = 4
HOLD_S = 5.0  # seconds the held uploads are held while memory is sampled
CALLBACKS = 20_000  # signed callbacks ready for the latency probe


@dataclass
class Figures:
    bomb_cpu_s: float
    bomb_answered_s: float
    healthz: Latencies
    callback: Latencies
    rss_idle: int
    rss_held: int
    rss_after: int


def start(env: dict[str, str], work: Path, cwd: Path | None, name: str) -> tuple[Process, int]:
    port = free_port()
    return start_receiver_in(cwd, env, port, work / f"{name}.log"), port


async def under_bombs(
    port: int, payload: bytes, lb: Loopback, pid: int
) -> tuple[Latencies, Latencies]:
    """/healthz's and a callback's latencies while PARALLEL_BOMBS bombs are sent at once."""
    url = f"http://127.0.0.1:{port}"
    bodies = iter(signed_callbacks(lb.keys.private_key, CALLBACKS))

    async def healthz(http: aiohttp.ClientSession) -> None:
        async with http.get(url + "/healthz") as resp:
            await resp.read()

    async def callback(http: aiohttp.ClientSession) -> None:
        body, signature = next(bodies)
        headers = {"Content-Type": "application/json", SIGNATURE_HEADER: signature}
        async with http.post(url + "/v1/callbacks/tuxsuite", data=body, headers=headers) as resp:
            await resp.read()

    stop = asyncio.Event()
    probes = [asyncio.create_task(poll(probe, stop)) for probe in (healthz, callback)]
    await asyncio.sleep(0.2)
    await asyncio.gather(*(bomb(port, payload) for _ in range(PARALLEL_BOMBS)))
    await until_idle(pid)
    stop.set()
    health, callbacks = await asyncio.gather(*probes)
    return health, callbacks


async def measure(port: int, pid: int, payload: bytes, lb: Loopback, held: int) -> Figures:
    await until_idle(pid)
    before = cpu_s(pid)
    answered = await bomb(port, payload)
    await until_idle(pid)
    bomb_cpu = cpu_s(pid) - before
    health, callbacks = await under_bombs(port, payload, lb, pid)
    await until_idle(pid)
    idle = rss_bytes(pid)
    peak, after = await hold_uploads(port, held, GARBAGE_SIGNATURE, MIB, HOLD_S, pid)
    return Figures(bomb_cpu, answered, health, callbacks, idle, peak, after)


def run(
    label: str,
    cwd: Path | None,
    env: dict[str, str],
    lb: Loopback,
    args: argparse.Namespace,
    payload: bytes,
) -> Figures:
    print(f"measuring {label} ...", flush=True)
    proc, port = start(env, lb.work, cwd, label.split()[0])
    try:
        return asyncio.run(measure(port, proc.popen.pid, payload, lb, args.held))
    finally:
        proc.stop()


ROWS: list[tuple[str, Callable[[Figures], str]]] = [
    ("bomb to /nope: receiver CPU, s", lambda f: f"{f.bomb_cpu_s:.2f}"),
    ("bomb to /nope: answered after, ms", lambda f: f"{f.bomb_answered_s * 1000:.1f}"),
    (f"/healthz during {PARALLEL_BOMBS} bombs: median ms", lambda f: f"{f.healthz.median_ms:.1f}"),
    (f"/healthz during {PARALLEL_BOMBS} bombs: worst ms", lambda f: f"{f.healthz.max_ms:.1f}"),
    (f"callback during {PARALLEL_BOMBS} bombs: median ms", lambda f: f"{f.callback.median_ms:.1f}"),
    (f"callback during {PARALLEL_BOMBS} bombs: worst ms", lambda f: f"{f.callback.max_ms:.1f}"),
    ("RSS idle, MiB", lambda f: f"{f.rss_idle / MIB:.0f}"),
    ("RSS with the uploads held, MiB", lambda f: f"{f.rss_held / MIB:.0f}"),
    ("RSS once they closed, MiB", lambda f: f"{f.rss_after / MIB:.0f}"),
]


def report(before: Figures, after: Figures, args: argparse.Namespace, bomb_bytes: int) -> None:
    print(
        f"\nbomb: {bomb_bytes / MIB:.1f} MiB of gzip, {args.bomb_mib} MiB inflated;"
        f" held uploads: {args.held} x 1 MiB, garbage signature, last byte unsent"
    )
    print(f"{'':<42}{'before (' + args.before + ')':>18}{'after':>12}")
    for name, cell in ROWS:
        print(f"{name:<42}{cell(before):>18}{cell(after):>12}")


async def limits(port: int, pid: int, lb: Loopback) -> dict[str, float]:
    """Memory per idle connection, per largest head, per body being read (bytes)."""
    await until_idle(pid)
    base = rss_bytes(pid)
    idle = await hold_heads(port, 1000, b"GET /healthz HTTP/1.1\r\n", 2.0, pid)
    await asyncio.sleep(1.0)
    await until_idle(pid)
    base2 = rss_bytes(pid)
    # 62 fields of 8,000 bytes: as much head as a request may hold without being refused.
    fields = "".join(f"X-Pad-{i}: {'p' * 8000}\r\n" for i in range(62))
    big = await hold_heads(port, 100, f"GET /healthz HTTP/1.1\r\n{fields}".encode(), 2.0, pid)
    await asyncio.sleep(1.0)
    await until_idle(pid)
    base3 = rss_bytes(pid)
    signature = lb.keys.sign(b"a body that stays held")
    bodies, _ = await hold_uploads(port, 64, signature, MIB, 2.0, pid)
    return {
        "idle connection": (idle - base) / 1000,
        "connection holding the largest head": (big - base2) / 100,
        "body of 1 MiB being read": (bodies - base3) / 64,
    }


def report_limits(per: dict[str, float]) -> None:
    print("\nwhat the limits' defaults were chosen from (this checkout):")
    for name, size in per.items():
        print(f"  RSS per {name}: {size / 1024:,.0f} KiB")
    heads = MAX_CONNECTIONS * per["connection holding the largest head"]
    bodies = MAX_BUFFERED_BODY_BYTES // MIB * per["body of 1 MiB being read"]
    print(
        f"  TUXHOOK_MAX_CONNECTIONS={MAX_CONNECTIONS} bounds heads to about {heads / MIB:,.0f} MiB;"
        f" TUXHOOK_MAX_BUFFERED_BYTES={MAX_BUFFERED_BODY_BYTES // MIB} MiB bounds bodies to"
        f" about {bodies / MIB:,.0f} MiB"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.exposure", description=__doc__)
    parser.add_argument("--before", default="main", help="git ref of the code to compare with")
    parser.add_argument("--bomb-mib", type=int, default=4096, help="MiB the bomb inflates to")
    parser.add_argument("--held", type=int, default=200, help="uploads held open at once")
    args = parser.parse_args(argv)
    payload = make_bomb(args.bomb_mib, CACHE)
    with loopback() as lb:
        env = lb.env | {
            "TUXHOOK_LOG_LEVEL": "WARNING",
            "TUXHOOK_DATABASE_URL": f"sqlite:///{lb.work / 'store.sqlite3'}",
        }
        old = export(args.before, lb.work / "before")
        before = run(f"before ({args.before})", old, env, lb, args, payload)
        after = run("after (this checkout)", None, env, lb, args, payload)
        report(before, after, args, len(payload))
        proc, port = start(env | {"TUXHOOK_MAX_CONNECTIONS": "3000"}, lb.work, None, "limits")
        try:
            report_limits(asyncio.run(limits(port, proc.popen.pid, lb)))
        finally:
            proc.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
