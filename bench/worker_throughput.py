"""Workers: events stored per second against RQ's own ceiling, forking or not, and a burst.

    python -m bench.worker_throughput [--events N] [--burst N] [--postgres SERVER_URL]
                                      [--before REF]

1. One process of tuxhook's worker (the queues in turn, `bench.worker_process tuxhook`) stores
   N events; RQ's own SimpleWorker (`rq worker`, one process on the four queues)
   drains N no-op jobs of the same size. Rate = jobs / (last job's end - first job's start),
   so process start-up is left out of both. The sides run in pairs, back to back; the ratio
   reported is the median of the pairs' ratios. With --before REF, the worker of that git ref
   (exported, on a store its own `db upgrade` made) runs in the same rounds, a third side.
2. The same handlers under RQ's forking Worker and under its SimpleWorker.
3. End to end: --burst distinct signed callbacks through one receiver and one `tuxhook worker`.

Everything runs on loopback, with a redis-server of its own on a free port.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from statistics import median
from typing import Any

from redis import Redis
from rq import Queue, Retry
from rq.job import Job, JobStatus
from rq.serializers import JSONSerializer

from bench.burst import run_burst
from bench.exported import export
from bench.harness import Bench, BenchStore, ExportedStore
from shared.constants import HANDLER_PATHS, JOB_RESULT_TTL_S, KINDS, RETRY_INTERVALS_S, STATES
from shared.identity import body_digest, job_id
from shared.jobs import Delivery
from tests.support.builders import callback, encode, new_uid
from tests.support.redis_server import RedisServer

RUN_TIMEOUT_S = 300  # seconds one worker run may take before the benchmark gives up
NOOP = "bench.noop.noop"
EPOCH = datetime(2025, 1, 1, tzinfo=UTC)


def compared(kind: str, i: int, build: str) -> dict[str, Any]:
    """Fields that make each finished build and test a run the store compares: a commit per
    build, tests of the latest build, ltp-smoke passing and failing in turn (a regression or a
    fix every other test), times in order."""
    fields: dict[str, Any] = {"finished_time": (EPOCH + timedelta(seconds=i)).isoformat()}
    if kind == "build":
        fields["git_sha"] = f"{i:040x}"
    if kind == "test":
        ltp = "fail" if i // (len(STATES) * len(KINDS)) % 2 else "pass"
        fields |= {"waiting_for": f"BUILD#{build}", "results": {"boot": "pass", "ltp-smoke": ltp}}
    return fields


def deliveries(count: int) -> Iterator[Delivery]:
    """`count` deliveries: each job's provisioning, running and finished, the kinds in turn;
    each finished build and test is compared with the previous one (`compared`)."""
    uid = build = ""
    for i in range(count):
        kind, state = KINDS[(i // len(STATES)) % len(KINDS)], STATES[i % len(STATES)]
        uid = new_uid() if i % len(STATES) == 0 else uid
        build = uid if kind == "build" else build
        body = encode(callback(kind, uid, state=state, **compared(kind, i, build)))
        received = datetime.now(UTC).isoformat()
        yield Delivery(kind, uid, body_digest(body), body.decode(), received, "key:bench")


def enqueue(redis: Redis, count: int, noop: bool) -> list[str]:
    """Jobs as the receiver enqueues them; the no-op ones carry the same delivery."""
    queues = {kind: Queue(kind, connection=redis, serializer=JSONSerializer) for kind in KINDS}
    ids = []
    for d in deliveries(count):
        job = queues[d.kind].enqueue_call(
            NOOP if noop else HANDLER_PATHS[d.kind],
            kwargs={"delivery": d.to_job()},
            job_id=job_id(d.kind, d.uid, d.digest),
            timeout=60,
            result_ttl=JOB_RESULT_TTL_S,
            retry=Retry(max=len(RETRY_INTERVALS_S), interval=list(RETRY_INTERVALS_S)),
        )
        ids.append(job.id)
    return ids


def jobs_per_second(redis: Redis, ids: Sequence[str]) -> float:
    jobs = [j for j in Job.fetch_many(list(ids), connection=redis, serializer=JSONSerializer) if j]
    done = [j for j in jobs if j.get_status() == JobStatus.FINISHED]
    if len(done) != len(ids):
        raise SystemExit(f"only {len(done)} of {len(ids)} jobs finished")
    start = min(j.started_at for j in done if j.started_at)
    end = max(j.ended_at for j in done if j.ended_at)
    return len(ids) / (end - start).total_seconds()


def run(
    bench: Bench, command: list[str], count: int, noop: bool = False, cwd: Path | None = None
) -> float:
    """Fresh Redis and store, `count` jobs, one burst worker: its jobs per second. Its CPU time
    per job goes into CPU_MS, a figure the machine's load sways less than the rate."""
    bench.redis.flushall()
    bench.store.reset()
    ids = enqueue(bench.redis, count, noop)
    used = _children_cpu_s()
    subprocess.run(command, env=bench.env(), check=True, timeout=RUN_TIMEOUT_S, cwd=cwd)
    CPU_MS.append((_children_cpu_s() - used) * 1000 / count)
    stored = bench.store.counts()[1]
    if not noop and stored != count:
        raise SystemExit(f"stored {stored} deliveries, not {count}")
    return jobs_per_second(bench.redis, ids)


# The worker process's CPU milliseconds per job (user and system), of each run in turn.
CPU_MS: list[float] = []


def _children_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def rq_simple_worker(url: str) -> list[str]:
    rq = Path(sys.executable).with_name("rq")
    return [
        str(rq), "worker", "--burst", "--with-scheduler", "--logging_level", "WARNING",
        "-w", "rq.worker.SimpleWorker", "-S", "rq.serializers.JSONSerializer", "-u", url,
        *KINDS,
    ]  # fmt: skip


Side = tuple[list[str], bool]
# Another version's side: its command, and the bench and code folder it runs with.
Exported = tuple[list[str], Bench, Path]


def paired(
    bench: Bench,
    sides: dict[str, Side],
    events: int,
    rounds: int,
    exported: dict[str, Exported] | None = None,
) -> dict[str, list[float]]:
    """Each round runs every side once, back to back, in alternating order, so that the
    machine's load (it is shared) weighs on both sides alike. Rates per side, by round."""
    names = [*sides, *(exported or {})]
    rates: dict[str, list[float]] = {name: [] for name in names}
    for i in range(rounds):
        for name in names[:: 1 if i % 2 == 0 else -1]:
            if name in sides:
                command, noop = sides[name]
                rates[name].append(run(bench, command, events, noop))
            else:
                command, other, code = (exported or {})[name]
                rates[name].append(run(other, command, events, cwd=code))
            rates[f"{name} cpu"] = [*rates.get(f"{name} cpu", []), CPU_MS[-1]]
    return rates


WORKER = [sys.executable, "-m", "bench.worker_process", "tuxhook"]


def throughput(bench: Bench, events: int, rounds: int, before: Bench | None = None) -> None:
    sides = {
        # `tuxhook worker --burst` would run a process per queue; this is one, as RQ's side.
        "ours": (WORKER, False),
        "ceiling": (rq_simple_worker(bench.redis_server.url), True),
    }
    exported = {}
    if before is not None:
        assert isinstance(before.store, ExportedStore)
        exported["before"] = (WORKER, before, before.store.code)
    rates = paired(bench, sides, events, rounds, exported)
    ratios = [o / c for o, c in zip(rates["ours"], rates["ceiling"], strict=True)]
    print(f"\n1. one worker process, {events} events, {bench.store.backend}, {rounds} rounds")
    _line("tuxhook worker (stores events)", rates["ours"])
    _line("rq SimpleWorker (no-op jobs)", rates["ceiling"])
    _line("ratio (target 0.8)", ratios, digits=2, unit="  ")
    if before is not None:
        old = [b / c for b, c in zip(rates["before"], rates["ceiling"], strict=True)]
        cost = [1 - o / b for o, b in zip(rates["ours"], rates["before"], strict=True)]
        _line("worker before (--before)", rates["before"])
        _line("its ratio to the ceiling", old, digits=2, unit="  ")
        _line("cost against before (1 - ours/before)", cost, digits=3, unit="  ")
        _line("CPU per job, ours", rates["ours cpu"], digits=2, unit="ms")
        _line("CPU per job, before", rates["before cpu"], digits=2, unit="ms")
        more = [o / b - 1 for o, b in zip(rates["ours cpu"], rates["before cpu"], strict=True)]
        _line("CPU cost against before", more, digits=3, unit="  ")


def worker_classes(bench: Bench, events: int, rounds: int) -> None:
    module = [sys.executable, "-m", "bench.worker_process"]
    sides = {"simple": ([*module, "simple"], False), "fork": ([*module, "fork"], False)}
    rates = paired(bench, sides, events, rounds)
    print(
        f"\n2. worker class, same handlers, {events} events, {bench.store.backend}, {rounds} rounds"
    )
    _line("SimpleWorker (in process)", rates["simple"])
    _line("Worker (fork per job)", rates["fork"])


def _line(label: str, values: list[float], digits: int = 0, unit: str = "/s") -> None:
    each = ", ".join(f"{v:.{digits}f}" for v in values)
    print(f"   {label:33} {median(values):7.{digits}f}{unit}  ({each})")


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.worker_throughput")
    parser.add_argument("--events", type=int, default=1500, help="events per throughput run")
    parser.add_argument("--class-events", type=int, default=300, help="events per class run")
    parser.add_argument("--burst", type=int, default=10_000, help="callbacks end to end")
    parser.add_argument("--rounds", type=int, default=5, help="paired runs of both sides")
    parser.add_argument("--postgres", metavar="SERVER_URL", help="a scratch database there")
    parser.add_argument("--only", choices=("throughput", "classes", "burst"), action="append")
    parser.add_argument("--before", metavar="REF", help="a git ref whose worker to measure too")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    sections = args.only or ["throughput", "classes", "burst"]
    print(f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f} at start")
    with tempfile.TemporaryDirectory(prefix="tuxhook-bench-") as tmp:
        redis_server = RedisServer(Path(tmp) / "redis")
        redis_server.start()
        store = BenchStore(Path(tmp), args.postgres)
        before = None
        if args.before:
            code = export(args.before, Path(tmp) / "before")
            stores = Path(tmp) / "before-stores"
            stores.mkdir()
            before = Bench(redis_server, ExportedStore(stores, args.postgres, code))
        try:
            bench = Bench(redis_server, store)
            if "throughput" in sections:
                throughput(bench, args.events, args.rounds, before)
            if "classes" in sections:
                worker_classes(bench, args.class_events, min(args.rounds, 3))
            if "burst" in sections:
                run_burst(bench, Path(tmp), args.burst)
        finally:
            store.close()
            if before is not None:
                before.store.close()
            redis_server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
