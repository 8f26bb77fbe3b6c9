"""What `appendfsync always` costs the receiver, against `everysec` (docs/reliability.md).

    python -m bench.redis_fsync [--rounds 3] [--duration 3] [--warmup 0.5] [--concurrency 64]

One `tuxhook receiver` process, the same distinct signed callbacks and the same loopback load
against a redis-server with the append-only file on, fsynced once a second or before every
reply. Redis answers a whole event-loop iteration's commands after one fsync, and the
receiver sends each batch of callbacks in one pipeline, so the fsync is shared by a batch.
The report gives each policy's median callbacks/s and p50/p99 latency over the rounds.
Bounded: about rounds x 2 x (warmup + duration + 3) seconds.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path
from statistics import median

from bench.load import CALLBACKS_PER_S, LoadResult, Summary, load_receiver, signed_callbacks
from tests.support.keys import KeyPair, make_key_pair
from tests.support.processes import start_receiver
from tests.support.queues import queued_count
from tests.support.redis_server import RedisServer, free_port

POLICIES = ("everysec", "always")


def measure(
    policy: str,
    args: argparse.Namespace,
    work: Path,
    keys: KeyPair,
    bodies: list[tuple[bytes, str]],
) -> LoadResult:
    redis = RedisServer(work / f"redis-{policy}", appendonly=True, appendfsync=policy)
    redis.start()
    try:
        redis.client().flushall()
        env = {
            "TUXHOOK_REDIS_URL": redis.url,
            "TUXHOOK_TUXSUITE_KEYS_FILE": str(keys.public_path),
            "TUXHOOK_LOG_LEVEL": os.environ.get("BENCH_LOG_LEVEL", "WARNING"),
        }
        port = free_port()
        receiver = start_receiver(env, port, work / f"receiver-{policy}.log")
        try:
            load = load_receiver(port, bodies, args)
        finally:
            receiver.stop()
        if load.accepted > queued_count(redis.client()):
            raise RuntimeError(f"{policy}: answered 202 for jobs that are not in Redis")
        return load
    finally:
        redis.stop()


def report(results: dict[str, list[LoadResult]]) -> None:
    print(f"{'appendfsync':<13}{Summary.HEADER}")
    for policy, runs in results.items():
        m = Summary.of(runs)
        print(f"{policy:<13}{m.columns}{m.note}")
    ratio = median(r.rate for r in results["always"]) / median(r.rate for r in results["everysec"])
    print(f"always vs everysec: x{ratio:.2f}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.redis_fsync", description=__doc__)
    parser.add_argument("--duration", type=float, default=3.0, help="seconds measured per run")
    parser.add_argument("--rounds", type=int, default=3, help="runs of each policy")
    parser.add_argument("--warmup", type=float, default=0.5, help="seconds before measuring")
    parser.add_argument("--concurrency", type=int, default=64, help="requests at a time")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="tuxhook-bench-") as tmp:
        work = Path(tmp)
        keys = make_key_pair(work / "keys")
        bodies = signed_callbacks(
            keys.private_key, int(CALLBACKS_PER_S * (args.warmup + args.duration))
        )
        results: dict[str, list[LoadResult]] = {policy: [] for policy in POLICIES}
        for r in range(args.rounds):  # alternate, so a neighbour's burst hurts both alike
            for policy in POLICIES[r % 2 :] + POLICIES[: r % 2]:
                results[policy].append(measure(policy, args, work, keys, bodies))
        report(results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
