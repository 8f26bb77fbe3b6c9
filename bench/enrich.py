"""The enrich queue: what queueing a fetch costs the test jobs, how long a fetch of C cases
takes, and how much of a 50 MB answer is read.

    python -m bench.enrich [--tests N] [--cases 1000,10000,50000] [--rounds R] [--postgres URL]

1. N finished-test deliveries stored by one in-process pass of tuxhook's worker on the test
   queue, with TUXHOOK_TUXSUITE_API_URL set (each job also queues a fetch) and unset (the
   baseline), in paired rounds, alternating which goes first: jobs per second of each, and the
   median of the rounds' ratios.
2. One enrich job fetching and storing C cases from a stand-in of TuxSuite's API on loopback
   (tests/support/tuxsuite_api.py): seconds, the median of R runs.
3. A 50 MB answer, chunked and with its Content-Length: the bytes the stand-in wrote before
   the job refused it (the bound is CASES_DOCUMENT_MAX_BYTES; the rest is socket buffers).

Everything runs with a redis-server of its own on a free port and a store of its own.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from statistics import median

import sqlalchemy as sa
from rq import Queue, Retry
from rq.serializers import JSONSerializer

from bench.harness import Bench, BenchStore
from bench.worker_throughput import jobs_per_second
from shared.constants import (
    CASES_DOCUMENT_MAX_BYTES,
    ENRICH_QUEUE,
    HANDLER_PATHS,
    JOB_RESULT_TTL_S,
    RETRY_INTERVALS_S,
)
from shared.db.schema import outcomes
from shared.identity import body_digest, job_id
from shared.jobs import Delivery
from shared.logs import configure_logging
from shared.settings import Settings
from tests.support.builders import callback, encode, new_uid
from tests.support.database import engine_for
from tests.support.redis_server import RedisServer
from tests.support.tuxsuite_api import Answer, TuxSuiteAPI, cases_document, results, tuxsuite_api
from worker.context import CONTEXT
from worker.enrich import fetch_cases
from worker.rq import run_worker

FIFTY_MB = 50 * 1000 * 1000


def settings(bench: Bench, api_url: str | None) -> Settings:
    env = {"TUXHOOK_REDIS_URL": bench.redis_server.url, "TUXHOOK_DATABASE_URL": bench.store.url}
    env |= {"TUXHOOK_LOG_LEVEL": "WARNING", "TUXHOOK_TUXSUITE_TOKEN": "bench-token"}
    return Settings.from_env(env | ({"TUXHOOK_TUXSUITE_API_URL": api_url} if api_url else {}))


def enqueue_finished_tests(bench: Bench, count: int) -> list[str]:
    queue = Queue("test", connection=bench.redis, serializer=JSONSerializer)
    ids = []
    for _ in range(count):
        uid = new_uid()
        body = encode(callback("test", uid, state="finished"))
        received = datetime.now(UTC).isoformat()
        d = Delivery("test", uid, body_digest(body), body.decode(), received, "key:bench")
        job = queue.enqueue_call(
            HANDLER_PATHS["test"],
            kwargs={"delivery": d.to_job()},
            job_id=job_id(d.kind, d.uid, d.digest),
            timeout=60,
            result_ttl=JOB_RESULT_TTL_S,
            retry=Retry(max=len(RETRY_INTERVALS_S), interval=list(RETRY_INTERVALS_S)),
        )
        ids.append(job.id)
    return ids


def store_tests(bench: Bench, count: int, api_url: str | None) -> float:
    """Fresh Redis and store, `count` finished tests stored: jobs per second."""
    bench.redis.flushall()
    bench.store.reset()
    ids = enqueue_finished_tests(bench, count)
    run_worker(settings(bench, api_url), "test", burst=True)
    queued = Queue(ENRICH_QUEUE, connection=bench.redis, serializer=JSONSerializer).count
    if queued != (count if api_url else 0):
        raise SystemExit(f"{queued} fetches queued for {count} tests")
    return jobs_per_second(bench.redis, ids)


def queueing_cost(bench: Bench, api: TuxSuiteAPI, tests: int, rounds: int) -> None:
    rates: dict[str, list[float]] = {"on": [], "off": []}
    for i in range(rounds):
        for side in ("on", "off")[:: 1 if i % 2 == 0 else -1]:
            rates[side].append(store_tests(bench, tests, api.url if side == "on" else None))
    ratios = [on / off for on, off in zip(rates["on"], rates["off"], strict=True)]
    print(f"\n1. {tests} finished tests, one worker pass, {bench.store.backend}, {rounds} rounds")
    _line("API URL set (each queues a fetch)", rates["on"])
    _line("API URL unset (baseline)", rates["off"])
    _line("ratio", ratios, digits=3, unit="  ")


def one_fetch(bench: Bench, api: TuxSuiteAPI, answer: Answer) -> tuple[float, str]:
    """A stored finished test, then its enrich job run here: seconds, and what it returned."""
    bench.redis.flushall()
    bench.store.reset()
    store_tests(bench, 1, None)
    uid = callback_uid(bench)
    api.answer(uid, answer)
    CONTEXT.configure(settings(bench, api.url))
    try:
        started = time.perf_counter()
        outcome = fetch_cases({"uid": uid})
        return time.perf_counter() - started, outcome
    finally:
        CONTEXT.close()


def callback_uid(bench: Bench) -> str:
    engine = engine_for(bench.store.url)
    try:
        with engine.connect() as conn:
            uid: str = conn.execute(sa.select(outcomes.c.uid)).scalar_one()
            return uid
    finally:
        engine.dispose()


def fetch_times(bench: Bench, api: TuxSuiteAPI, sizes: Sequence[int], rounds: int) -> None:
    print(f"\n2. one enrich job: fetch and store C cases, {bench.store.backend}, {rounds} runs")
    for size in sizes:
        suites = {
            f"{s}_suite-{s}": {f"case{i}": "pass" for i in range(100)} for s in range(size // 100)
        }
        answer = results(cases_document(suites))
        seconds = [one_fetch(bench, api, answer)[0] for _ in range(rounds)]
        _line(f"{size} cases ({len(answer.body) // 1024} KiB)", seconds, digits=3, unit=" s")


def refused(bench: Bench, api: TuxSuiteAPI) -> None:
    print(f"\n3. a 50 MB answer; the bound is {CASES_DOCUMENT_MAX_BYTES} bytes")
    for declared in (False, True):
        api.streamed = 0
        answer = Answer(stream_bytes=FIFTY_MB, declared=declared)
        seconds, outcome = one_fetch(bench, api, answer)
        how = "Content-Length" if declared else "chunked"
        print(f"   {how:15} {outcome}: {api.streamed} bytes written by the API, {seconds:.3f} s")


def _line(label: str, values: list[float], digits: int = 0, unit: str = "/s") -> None:
    each = ", ".join(f"{v:.{digits}f}" for v in values)
    print(f"   {label:36} {median(values):8.{digits}f}{unit}  ({each})")


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.enrich")
    parser.add_argument("--tests", type=int, default=600, help="finished tests per run")
    parser.add_argument("--cases", default="1000,10000,50000", help="cases per fetch")
    parser.add_argument("--rounds", type=int, default=5, help="paired rounds, runs per size")
    parser.add_argument("--postgres", metavar="SERVER_URL", help="a scratch database there")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    configure_logging("WARNING")
    print(f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f} at start")
    with tempfile.TemporaryDirectory(prefix="tuxhook-bench-") as tmp, tuxsuite_api() as api:
        redis_server = RedisServer(Path(tmp) / "redis")
        redis_server.start()
        store = BenchStore(Path(tmp), args.postgres)
        try:
            bench = Bench(redis_server, store)
            queueing_cost(bench, api, args.tests, args.rounds)
            sizes = [int(c) for c in args.cases.split(",")]
            fetch_times(bench, api, sizes, args.rounds)
            refused(bench, api)
        finally:
            store.close()
            redis_server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
