"""Receivers on one host: 1 process against 2, with SO_REUSEPORT and with gunicorn.

    python -m bench.receivers [--rounds 3] [--duration 2] [--warmup 0.5] [--concurrency 64]

Every run gets the flushed redis-server of this benchmark, the same distinct signed
callbacks and the same loopback load; the report gives each mode's median callbacks/s and
p50/p99 latency over the rounds, then the ratio of 2 processes to 1. Bounded: about
rounds x 4 x (duration + 2) seconds. Linux only (it reads /proc/net/tcp).
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from redis import Redis

from bench.load import (
    CALLBACKS_PER_S,
    LoadResult,
    Summary,
    load_arguments,
    load_receiver,
    loopback,
    signed_callbacks,
)
from tests.support.processes import Process, child_env, tuxhook_command, wait_http_ok
from tests.support.queues import queued_count
from tests.support.redis_server import free_port
from tests.support.sockets import children, listening_sockets, wait_until


@dataclass(frozen=True)
class Mode:
    name: str
    processes: int
    start: Callable[[dict[str, str], int, Path, int], list[Process]]


def cpu_seconds(procs: list[Process]) -> float:
    """CPU time used so far by the processes and their children (gunicorn's workers)."""
    pids = [p.popen.pid for p in procs]
    pids += [child for pid in pids for child in children(pid)]
    ticks = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


def start_tuxhook(env: dict[str, str], port: int, logs: Path, count: int) -> list[Process]:
    """`tuxhook receiver --processes N`, as shipped: N children sharing the port."""
    args = tuxhook_command("receiver", "--host", "127.0.0.1", "--port", str(port))
    args += ["--processes", str(count)]
    proc = Process(args, child_env(env), logs / f"tuxhook-{count}.log")
    wait_until(lambda: listening_sockets(port) == count, f"{count} receivers on port {port}")
    wait_http_ok(f"http://127.0.0.1:{port}/healthz", proc)
    return [proc]


def start_gunicorn(env: dict[str, str], port: int, logs: Path, count: int) -> list[Process]:
    args = [sys.executable, "-m", "gunicorn", "bench.gunicorn_app:app"]
    args += ["--worker-class", "aiohttp.GunicornWebWorker", "--workers", str(count)]
    args += ["--bind", f"127.0.0.1:{port}", "--log-level", "info", "--graceful-timeout", "5"]
    proc = Process(args, child_env(env), logs / "gunicorn.log")
    wait_until(lambda: proc.output().count("Booting worker") >= count, f"{count} gunicorn workers")
    wait_http_ok(f"http://127.0.0.1:{port}/healthz", proc)
    time.sleep(0.5)  # a booted worker still builds its app before it accepts
    return [proc]


MODES = (
    Mode("tuxhook, single", 1, start_tuxhook),
    Mode("tuxhook, reuse_port", 2, start_tuxhook),
    Mode("gunicorn aiohttp worker", 1, start_gunicorn),
    Mode("gunicorn aiohttp worker", 2, start_gunicorn),
)


@dataclass
class BenchContext:
    env: dict[str, str]
    logs: Path
    redis: Redis
    bodies: list[tuple[bytes, str]]


def measure(mode: Mode, args: argparse.Namespace, ctx: BenchContext) -> LoadResult:
    ctx.redis.flushall()
    port = free_port()
    procs = mode.start(ctx.env, port, ctx.logs, mode.processes)
    try:
        cpu_before = cpu_seconds(procs)
        load = load_receiver(port, ctx.bodies, args)
        load.cpu_s = cpu_seconds(procs) - cpu_before
    finally:
        for proc in procs:
            proc.signal(signal.SIGTERM)
        for proc in procs:
            proc.stop()
    if load.accepted > queued_count(ctx.redis):
        raise RuntimeError(f"{mode.name}: answered 202 for jobs that are not in Redis")
    return load


def rounds(args: argparse.Namespace, ctx: BenchContext) -> list[list[LoadResult]]:
    """Each mode once per round, the order rotated each round: on shared cores a neighbour's
    burst then hurts every mode alike, and the median per mode shrugs it off."""
    results: list[list[LoadResult]] = [[] for _ in MODES]
    for r in range(args.rounds):
        for i in (r + k for k in range(len(MODES))):
            results[i % len(MODES)].append(measure(MODES[i % len(MODES)], args, ctx))
    return results


def report(results: list[list[LoadResult]]) -> None:
    print(f"{'mode':<26}{'procs':>6}{Summary.HEADER}{'cpu ms/cb':>11}")
    rates = []
    for mode, runs in zip(MODES, results, strict=True):
        m = Summary.of(runs)
        rates.append(m.rate)
        print(f"{mode.name:<26}{mode.processes:>6}{m.columns}{m.cpu_ms:>11.2f}{m.note}")
    single, reuse, guni1, guni2 = rates
    print(f"reuse_port, 2 processes vs 1:      x{reuse / single:.2f}")
    print(f"gunicorn, 2 workers vs 1:          x{guni2 / guni1:.2f}")
    print(f"reuse_port 2 vs gunicorn 2:        x{reuse / guni2:.2f}")


def main(argv: list[str] | None = None) -> int:
    args = load_arguments("python -m bench.receivers", __doc__, 2.0).parse_args(argv)
    with loopback() as lb:
        count = int(CALLBACKS_PER_S * (args.warmup + args.duration))
        bodies = signed_callbacks(lb.keys.private_key, count)
        report(rounds(args, BenchContext(lb.env, lb.work, lb.redis.client(), bodies)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
