"""The outcome store unavailable while callbacks arrive: locked (SQLite's write lock, a
PostgreSQL table lock), or PostgreSQL refusing connections. Workers fail fast (the lock
timeout, a refused connection), RQ retries each job after RETRY_INTERVALS_S, and once the store
is back every accepted callback is stored exactly once, with nothing left failed or scheduled.

The normal run has short outages; the soak run has the 30 s ones.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections import Counter
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from redis import Redis
from rq.job import Job, JobStatus
from rq.serializers import JSONSerializer

from shared.constants import RETRY_INTERVALS_S
from tests.support.burst import Sender, Sent, callbacks, deliveries
from tests.support.database import connections_refused, ledger, truncate, write_lock_held
from tests.support.keys import KeyPair
from tests.support.logs import log_events
from tests.support.processes import Process, start_receiver, start_worker
from tests.support.queues import failed_job_ids, scheduled_job_ids, scheduler_locked
from tests.support.waiting import eventually

BURST = 12  # callbacks that arrive during the outage
WORKERS = 2
# Seconds the store is out. The retries after 1, 3 and 8 s (RETRY_INTERVALS_S added up) fail
# in the short one and the next succeeds; the long one lasts until the retry after 38 s.
SHORT_OUTAGE_S = 6.0
LONG_OUTAGE_S = 30.0
OUTAGES = [
    SHORT_OUTAGE_S,
    pytest.param(LONG_OUTAGE_S, marks=[pytest.mark.soak, pytest.mark.timeout(240)]),
]
# Seconds a worker's write waits for a lock: short, so that an outage is many fast failures.
LOCK_TIMEOUT_S = "0.2"

Outage = Callable[[str], AbstractContextManager[None]]


def retried_by(outage_s: float) -> float:
    """Seconds after its first failure by which a job is retried after the store is back."""
    waits = itertools.accumulate(RETRY_INTERVALS_S)
    return next(w for w in waits if w > outage_s + 1)


def retry_bound(outage_s: float) -> int:
    """Most retries a job may use when it backs off as RETRY_INTERVALS_S says."""
    return 1 + sum(1 for w in itertools.accumulate(RETRY_INTERVALS_S) if w <= outage_s + 1)


@dataclass
class Outcome:
    sent: list[Sent]
    used: list[int]  # retries each job used
    while_out: Counter[str]  # job id -> its failures while the store was out
    out_s: float  # seconds the store was out, as it happened


async def through_outage(
    env: dict[str, str],
    keys: KeyPair,
    redis: Redis,
    database_url: str,
    outage: Outage,
    outage_s: float,
    logs: Path,
) -> Outcome:
    """Send a burst while the store is out for `outage_s`; wait until every accepted
    callback is stored. What happened to the callbacks and their jobs."""
    env = env | {"TUXHOOK_DATABASE_LOCK_TIMEOUT": LOCK_TIMEOUT_S}
    port = int(env["TUXHOOK_PORT"])
    started: list[Process] = []
    sent = callbacks(keys, BURST)
    try:
        started.append(start_receiver(env, port, logs / "receiver.log"))
        started += [start_worker(env, logs / f"worker{i}.log") for i in range(WORKERS)]
        await eventually(lambda: scheduler_locked(redis), "the scheduler running")
        with outage(database_url):
            began = time.monotonic()
            await Sender(f"http://127.0.0.1:{port}").send_all(sent)
            await asyncio.sleep(outage_s - (time.monotonic() - began))
        out_s, back_at = time.monotonic() - began, datetime.now(UTC)
        wait_s = retried_by(out_s) + 10
        stored = deliveries(sent)
        await eventually(
            lambda: ledger(database_url).stored_once(stored), "all stored", wait_s, poll_s=0.25
        )
    finally:
        for process in started:
            process.stop()
    failures = [e for p in started for e in log_events(p, "job_failed_transiently")]
    assert failures
    while_out = Counter(
        e["job_id"] for e in failures if datetime.fromisoformat(e["timestamp"]) < back_at
    )
    return Outcome(sent, retries_used(redis, sent), while_out, out_s)


def retries_used(redis: Redis, sent: list[Sent]) -> list[int]:
    used = []
    for s in sent:
        job = Job.fetch(s.job_id, connection=redis, serializer=JSONSerializer)
        assert job.get_status() == JobStatus.FINISHED
        assert job.retries_left is not None
        used.append(len(RETRY_INTERVALS_S) - job.retries_left)
    return used


def check_nothing_lost(redis: Redis, outcome: Outcome) -> None:
    assert all(s.accepted for s in outcome.sent)
    assert failed_job_ids(redis) == set()
    assert scheduled_job_ids(redis) == set()
    # Every job met the outage, and backed off rather than hammering the store: while it was
    # out, each failed at most once per retry interval that fits in the outage. Once it is
    # back, a retry may meet another worker's write on a busy machine: one retry more each.
    assert all(n >= 1 for n in outcome.used), outcome.used
    bound = retry_bound(outcome.out_s)
    assert all(outcome.while_out[s.job_id] <= bound for s in outcome.sent), outcome.while_out
    print(
        f"{outcome.out_s:.0f} s outage: retries per job {sorted(outcome.used)}, failures while"
        f" out {sorted(outcome.while_out.values())} (at most {bound})"
    )


@pytest.mark.parametrize("outage_s", OUTAGES)
async def test_a_locked_store_loses_nothing(
    store_env: dict[str, str],
    keys: KeyPair,
    redis_client: Redis,
    database_url: str,
    port: int,
    tmp_path: Path,
    outage_s: float,
) -> None:
    env = store_env | {"TUXHOOK_PORT": str(port)}
    outcome = await through_outage(
        env, keys, redis_client, database_url, write_lock_held, outage_s, tmp_path
    )
    check_nothing_lost(redis_client, outcome)


@pytest.mark.postgres
@pytest.mark.parametrize("outage_s", OUTAGES)
async def test_postgres_refusing_connections_loses_nothing(
    settings_env: dict[str, str],
    keys: KeyPair,
    redis_client: Redis,
    postgres_database: str,
    port: int,
    tmp_path: Path,
    outage_s: float,
) -> None:
    truncate(postgres_database)
    env = settings_env | {"TUXHOOK_DATABASE_URL": postgres_database, "TUXHOOK_PORT": str(port)}
    outcome = await through_outage(
        env, keys, redis_client, postgres_database, connections_refused, outage_s, tmp_path
    )
    check_nothing_lost(redis_client, outcome)
