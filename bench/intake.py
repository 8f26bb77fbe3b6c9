"""Intake benchmark: one `tuxhook receiver` process against a bare verify-and-LPUSH handler.

Both get distinct signed callbacks over loopback from the same load generator, in alternating
rounds of the same run. Prints verified callbacks/s, p50/p99 latency and CPU per callback for
each, and the ratio tuxhook/bare (target: at least 0.8).

    python -m bench.intake [--rounds 3] [--duration 3] [--concurrency 64] [--before REF]

With --before REF, the receiver of that git ref (exported beside this checkout) is measured
too, in the same rounds: what a change costs, against the same bare handler.
"""

from __future__ import annotations

import argparse
import signal
import sys
from collections.abc import Callable
from pathlib import Path

from bench.bare_receiver import BARE_LIST
from bench.exported import export, start_receiver_in
from bench.load import (
    CALLBACKS_PER_S,
    LoadResult,
    Loopback,
    Summary,
    load_arguments,
    load_receiver,
    loopback,
    signed_callbacks,
)
from bench.receivers import cpu_seconds
from tests.support.keys import KeyPair
from tests.support.processes import Process, child_env, start_receiver
from tests.support.queues import queued_count
from tests.support.redis_server import free_port
from tests.support.sockets import listening_sockets, wait_until

Starter = Callable[[dict[str, str], KeyPair, int, Path], Process]


def start_bare(env: dict[str, str], keys: KeyPair, port: int, logs: Path) -> Process:
    args = [sys.executable, "-m", "bench.bare_receiver", str(keys.public_path)]
    args += [env["TUXHOOK_REDIS_URL"], str(port)]
    proc = Process(args, child_env({}), logs / "bare.log")
    wait_until(lambda: listening_sockets(port) == 1, f"bare receiver on port {port}")
    return proc


def start_tuxhook(env: dict[str, str], _: KeyPair, port: int, logs: Path) -> Process:
    return start_receiver(env, port, logs / "tuxhook.log")


def start_exported(code: Path) -> Starter:
    def start(env: dict[str, str], _: KeyPair, port: int, logs: Path) -> Process:
        return start_receiver_in(code, env, port, logs / "exported.log")

    return start


BARE, TUXHOOK = "bare verify+LPUSH", "tuxhook receiver"
MODES: dict[str, Starter] = {BARE: start_bare, TUXHOOK: start_tuxhook}


def measure(start: Starter, args: argparse.Namespace, ctx: Loopback) -> LoadResult:
    client = ctx.redis.client()
    client.flushall()
    port = free_port()
    proc = start(ctx.env, ctx.keys, port, ctx.work)
    try:
        before = cpu_seconds([proc])
        count = int(CALLBACKS_PER_S * (args.warmup + args.duration))
        bodies = signed_callbacks(ctx.keys.private_key, count)
        load = load_receiver(port, bodies, args)
        load.cpu_s = cpu_seconds([proc]) - before
    finally:
        proc.signal(signal.SIGTERM)
        proc.stop()
    held = queued_count(client) + int(client.llen(BARE_LIST))
    if load.accepted > held:
        raise RuntimeError("answered 202 for callbacks that are not in Redis")
    return load


def report(results: dict[str, list[LoadResult]]) -> None:
    print(f"{'receiver':<22}{Summary.HEADER}{'cpu ms/cb':>11}")
    summary = {name: Summary.of(runs) for name, runs in results.items()}
    for name, m in summary.items():
        print(f"{name:<22}{m.columns}{m.cpu_ms:>11.3f}{m.note}")
    bare = summary[BARE]
    for name in (n for n in summary if n != BARE):
        ours = summary[name]
        print(f"ratio {name}/bare, callbacks/s: {ours.rate / bare.rate:.2f}  (target >= 0.80)")
        print(f"ratio bare/{name}, CPU per callback: {bare.cpu_ms / ours.cpu_ms:.2f}")


def main(argv: list[str] | None = None) -> int:
    parser = load_arguments("python -m bench.intake", __doc__, 3.0)
    parser.add_argument("--before", help="git ref whose receiver to measure too")
    args = parser.parse_args(argv)
    with loopback() as lb:
        modes = dict(MODES)
        if args.before:
            code = export(args.before, lb.work / "before")
            modes[f"{TUXHOOK} ({args.before})"] = start_exported(code)
        results: dict[str, list[LoadResult]] = {name: [] for name in modes}
        for _ in range(args.rounds):
            for name, start in modes.items():
                results[name].append(measure(start, args, lb))
        report(results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
