"""Storing with notifications against storing without: the same burst, in the same run.

    python -m bench.notify_burst [--burst N] [--rounds R] [--postgres SERVER_URL] [--no-delivery]

Each round sends N distinct signed callbacks (every kind in turn, each finished) through one
receiver and one `tuxhook worker` on the storing queues (a process per queue), twice, in
alternating order: without a notify file, and with one whose rule sends every outcome to a
webhook receiver on loopback, delivered meanwhile by a `tuxhook worker notify` process. The rate
is N / (time from the first POST until the store holds all N); the ratio reported is the median
of the rounds' ratios (target >= 0.9: storing does not wait for sinks). With notifications,
the time until the webhook receiver has every event, and whether each came once, are printed
too. With --no-delivery, no notify worker runs: what the outbox's write and the hand-off to the
notify queue cost storing, alone.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from statistics import median

from bench.burst import post_all, signed_requests, wait_stored, wait_workers
from bench.harness import Bench, BenchStore
from shared.constants import KINDS
from tests.support.keys import KeyPair, make_key_pair
from tests.support.notify_files import SECRET, rule, webhook_sink, write_notify_file
from tests.support.processes import Process, start_receiver, start_worker
from tests.support.redis_server import RedisServer, free_port
from tests.support.sinks import WebhookReceiver

DELIVERED_TIMEOUT_S = 600.0  # seconds to wait for the webhook receiver to hold every event
POLL_S = 0.25


@dataclass(frozen=True)
class Round:
    stored_per_s: float
    delivered_after_s: float | None = None
    delivered: int = 0
    distinct: int = 0


def wait_delivered(hook: WebhookReceiver, count: int) -> None:
    deadline = time.monotonic() + DELIVERED_TIMEOUT_S
    while len(hook.received) < count and time.monotonic() < deadline:
        time.sleep(POLL_S)


def one_burst(
    bench: Bench, tmp: Path, keys: KeyPair, count: int, notify: bool, deliver: bool = True
) -> Round:
    bench.redis.flushall()
    bench.store.reset()
    env = {**bench.env(), "TUXHOOK_TUXSUITE_KEYS_FILE": str(keys.public_path)}
    hook = WebhookReceiver(SECRET)
    if notify:
        hook.start()
        path = write_notify_file(
            tmp, webhook_sink("hook", hook.url("/hook")), rule(["outcome"], ["hook"])
        )
        env["TUXHOOK_NOTIFY_FILE"] = str(path)
    requests = signed_requests(keys, count)
    port = free_port()
    processes: list[Process] = [start_receiver(env, port, tmp / "receiver.log")]
    try:
        processes.append(start_worker(env, tmp / "worker.log", *KINDS))
        delivering = notify and deliver
        if delivering:
            processes.append(start_worker(env, tmp / "notify.log", "notify"))
        wait_workers(bench.redis, len(KINDS) + delivering)
        started = time.perf_counter()
        asyncio.run(post_all(f"http://127.0.0.1:{port}/v1/callbacks/tuxsuite", requests))
        stored = wait_stored(bench.store, count)
        stored_s = time.perf_counter() - started
        if stored != count:
            raise SystemExit(f"only {stored} of {count} callbacks were stored")
        if not delivering:
            return Round(count / stored_s)
        wait_delivered(hook, count)
        ids = hook.ids()
        return Round(count / stored_s, time.perf_counter() - started, len(ids), len(set(ids)))
    finally:
        for process in processes:
            process.stop()
        hook.stop()


def _line(label: str, values: list[float], digits: int = 0, unit: str = "/s") -> None:
    each = ", ".join(f"{v:.{digits}f}" for v in values)
    print(f"   {label:38} {median(values):7.{digits}f}{unit}  ({each})")


def compare(bench: Bench, tmp: Path, count: int, rounds: int, deliver: bool) -> None:
    keys = make_key_pair(tmp / "keys")
    results: dict[bool, list[Round]] = {False: [], True: []}
    for i in range(rounds):
        for notify in (False, True) if i % 2 == 0 else (True, False):
            results[notify].append(one_burst(bench, tmp, keys, count, notify, deliver))
    without = [r.stored_per_s for r in results[False]]
    with_ = [r.stored_per_s for r in results[True]]
    ratios = [w / o for w, o in zip(with_, without, strict=True)]
    print(
        f"\nburst of {count} callbacks stored, {bench.store.backend}, {rounds} rounds,"
        " 1 receiver, a worker process per storing queue"
    )
    _line("without notifications", without)
    _line("with a rule matching all (webhook)", with_)
    _line("ratio (target 0.9)", ratios, digits=2, unit="  ")
    if not deliver:
        print("   (--no-delivery: events written and handed over, none delivered)")
        return
    delivered = [r.delivered_after_s or 0.0 for r in results[True]]
    _line("every event delivered after", delivered, digits=1, unit=" s")
    for r in results[True]:
        if (r.delivered, r.distinct) != (count, count):
            raise SystemExit(f"{r.delivered} deliveries of {r.distinct} events, not {count}")
    print(f"   each round: {count} events delivered, {count} distinct ids")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.notify_burst")
    parser.add_argument("--burst", type=int, default=1000, help="callbacks per burst")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of both sides")
    parser.add_argument("--postgres", metavar="SERVER_URL", help="a scratch database there")
    parser.add_argument(
        "--no-delivery", action="store_true", help="run no notify worker: storing's own cost"
    )
    args = parser.parse_args(argv)
    print(f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f} at start")
    with tempfile.TemporaryDirectory(prefix="tuxhook-bench-") as tmp:
        redis_server = RedisServer(Path(tmp) / "redis")
        redis_server.start()
        store = BenchStore(Path(tmp), args.postgres)
        try:
            bench = Bench(redis_server, store)
            compare(bench, Path(tmp), args.burst, args.rounds, not args.no_delivery)
        finally:
            store.close()
            redis_server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
