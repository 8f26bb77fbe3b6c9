"""SIGTERM to a real `tuxhook worker` (alone or a pool): its job in flight finishes and is stored,
no new job starts, and the process exits 0. This is what `docker-compose stop` relies on."""

from __future__ import annotations

import signal
import time
from pathlib import Path

import pytest
from redis import Redis
from rq import Queue, Worker
from rq.job import Job, JobStatus
from rq.serializers import JSONSerializer

from shared.constants import KINDS, QUEUE_NAMES
from tests.conftest import Receiver
from tests.support.api import outcome, post_document, wait_until
from tests.support.builders import callback, job_id_of
from tests.support.database import write_lock_held
from tests.support.keys import KeyPair
from tests.support.processes import start_worker

# Seconds the store stays locked after SIGTERM: the jobs wait for it, mid-flight, all along.
LOCKED_AFTER_SIGTERM_S = 2.0
# Seconds a job may wait for the lock: well beyond that, so the wait does not fail the job.
LOCK_TIMEOUT_S = "15"
# Seconds for the worker to exit once the lock is released: a deadline, not a measure. Six pool
# members finishing, deregistering and stopping their schedulers took over 20 s (and under 35 s)
# while the rest of the suite loaded both cores in CI.
EXIT_TIMEOUT_S = 60.0
# The cold stop's job waits for the lock too, and SQLite's wait is in C, where no signal handler
# runs: the second SIGTERM takes effect when the wait ends, this many seconds after it began
# (2 s after it began, both SIGTERMs were sent). PostgreSQL's wait is interrupted at once.
COLD_LOCK_TIMEOUT_S = 5.0


def queues(redis: Redis) -> list[Queue]:
    return [Queue(kind, connection=redis, serializer=JSONSerializer) for kind in KINDS]


def started_ids(redis: Redis) -> set[str]:
    return {jid for q in queues(redis) for jid in q.started_job_registry.get_job_ids()}


def queued_ids(redis: Redis) -> set[str]:
    return {jid for q in queues(redis) for jid in q.get_job_ids()}


@pytest.mark.parametrize(
    ("queues", "pool"),
    [(["build"], 1), (["build"], 2), ([], 1)],
    ids=["one worker", "a pool on one queue", "a worker per queue"],
)
async def test_sigterm_finishes_the_jobs_in_flight(
    receiver: Receiver,
    keys: KeyPair,
    settings_env: dict[str, str],
    redis_client: Redis,
    database_url: str,
    tmp_path: Path,
    queues: list[str],
    pool: int,
) -> None:
    env = settings_env | {
        "TUXHOOK_DATABASE_LOCK_TIMEOUT": LOCK_TIMEOUT_S,
        "TUXHOOK_LOG_LEVEL": "INFO",
    }
    # A job for each worker (`pool` on each queue), and one build job more.
    kinds = [kind for kind in queues or KINDS for _ in range(pool)] + ["build"]
    members = len(kinds) - 1
    docs = {job_id_of(d): d for d in (callback(kind) for kind in kinds)}
    worker = start_worker(env, tmp_path / "worker.log", *queues, "--pool", str(pool))
    try:
        with write_lock_held(database_url):
            for doc in docs.values():
                await post_document(receiver, keys, doc)
            # Each worker has taken one job and waits for the store; one job is left queued.
            await wait_until(lambda: len(started_ids(redis_client)) == members, "jobs started")
            in_flight = started_ids(redis_client)
            worker.signal(signal.SIGTERM)
            time.sleep(LOCKED_AFTER_SIGTERM_S)
            assert worker.popen.poll() is None, worker.output()  # still finishing its jobs
        assert worker.wait(EXIT_TIMEOUT_S) == 0, worker.output()
    finally:
        worker.stop()

    for jid in in_flight:
        job = Job.fetch(jid, connection=redis_client, serializer=JSONSerializer)
        assert job.get_status() == JobStatus.FINISHED
        stored = await outcome(receiver, docs[jid]["kind"], docs[jid]["status"]["uid"])
        assert stored["deliveries"] == 1
    assert started_ids(redis_client) == set()
    assert queued_ids(redis_client) == set(docs) - in_flight  # no new job was taken
    assert Worker.all(connection=redis_client) == []  # every worker deregistered
    # Every worker process stops warm, those with no job (the enrich and notify queues') too.
    processes = len(queues or QUEUE_NAMES) * pool
    assert worker.output().count("warm shut down requested") == processes


async def test_a_cold_stop_leaves_the_interrupted_job_to_be_retried(
    receiver: Receiver,
    keys: KeyPair,
    settings_env: dict[str, str],
    redis_client: Redis,
    database_url: str,
    tmp_path: Path,
) -> None:
    """A second SIGTERM interrupts the job: it is scheduled for a retry, not failed for good."""
    env = settings_env | {"TUXHOOK_DATABASE_LOCK_TIMEOUT": str(COLD_LOCK_TIMEOUT_S)}
    doc = callback("build")
    jid = job_id_of(doc)
    worker = start_worker(env, tmp_path / "worker.log")
    try:
        with write_lock_held(database_url):
            await post_document(receiver, keys, doc)
            await wait_until(lambda: started_ids(redis_client) == {jid}, "job started")
            worker.signal(signal.SIGTERM)
            time.sleep(1.5)  # RQ takes a second SIGTERM within a second as a double-press
            worker.signal(signal.SIGTERM)
            worker.wait(COLD_LOCK_TIMEOUT_S + EXIT_TIMEOUT_S)
    finally:
        worker.stop()
    queue = Queue("build", connection=redis_client, serializer=JSONSerializer)
    assert jid not in queue.failed_job_registry, worker.output()
    assert jid in queue.scheduled_job_registry or jid in queue.get_job_ids(), worker.output()
