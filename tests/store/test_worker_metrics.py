"""A real `tuxhook worker` process counts its jobs, and the receiver's /metrics shows them."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from redis import Redis
from rq import Queue
from rq.serializers import JSONSerializer

from receiver.enqueue import Enqueuer
from shared.constants import JOB_OUTCOMES, KINDS
from shared.identity import body_digest
from shared.jobs import Delivery
from shared.settings import Settings
from tests.conftest import Receiver
from tests.store.conftest import LOCK_TIMEOUT_S
from tests.support.api import post_document, wait_outcome, wait_until
from tests.support.builders import callback, encode, job_id_of
from tests.support.database import write_lock_held
from tests.support.keys import KeyPair
from tests.support.metrics import Samples, scrape, value
from tests.support.processes import start_worker

JOBS = "tuxhook_jobs_total"
DURATION = "tuxhook_job_duration_seconds"


async def enqueue_unparsable_build(settings: Settings) -> str:
    """A build job whose body is not JSON: it fails at once, for good, with the usual Retry."""
    doc = callback("build")
    body = encode(doc)
    delivery = Delivery(
        "build",
        doc["status"]["uid"],
        body_digest(body),
        body.decode(),
        "2024-05-01T10:00:00+00:00",
        "x",
    )
    enqueuer = Enqueuer(settings.redis_url, settings.job_timeout_s)
    try:
        bad = dataclasses.replace(delivery, body='{"kind": "build", "status": ')
        return (await enqueuer.enqueue(bad)).job_id
    finally:
        await enqueuer.close()


def expected_counts(succeeded: dict[str, int]) -> dict[tuple[str, str], int]:
    counts = {(queue, outcome): 0 for queue in KINDS for outcome in JOB_OUTCOMES}
    counts |= {(queue, "succeeded"): n for queue, n in succeeded.items()}
    counts[("test", "retried")] = 1  # met the lock once
    counts[("build", "failed")] = 1  # the unparsable body
    return counts


def check_histograms(m: Samples, counts: dict[tuple[str, str], int]) -> None:
    for (queue, outcome), count in counts.items():
        assert value(m, JOBS, queue=queue, outcome=outcome) == count, (queue, outcome)
        labels = {"queue": queue, "outcome": outcome}
        assert value(m, DURATION + "_count", **labels) == count
        assert value(m, DURATION + "_bucket", le="+Inf", **labels) == count
    # The retried job waited for the lock until the lock timeout, and no job took 10 s.
    retried = {"queue": "test", "outcome": "retried"}
    assert value(m, DURATION + "_bucket", le="0.25", **retried) == 0
    assert value(m, DURATION + "_sum", **retried) >= float(LOCK_TIMEOUT_S)
    for queue, outcome in counts:
        labels = {"queue": queue, "outcome": outcome}
        assert value(m, DURATION + "_bucket", le="10.0", **labels) == counts[(queue, outcome)]


async def test_a_worker_process_reports_each_job_once(
    receiver: Receiver,
    keys: KeyPair,
    settings: Settings,
    settings_env: dict[str, str],
    redis_client: Redis,
    database_url: str,
    tmp_path: Path,
) -> None:
    locked = callback("test")
    locked_jid = job_id_of(locked)
    docs = [callback(kind) for kind in (*KINDS, "build", "test")]
    test_queue = Queue("test", connection=redis_client, serializer=JSONSerializer)
    build_queue = Queue("build", connection=redis_client, serializer=JSONSerializer)
    worker = start_worker(settings_env, tmp_path / "worker.log")
    try:
        with write_lock_held(database_url):
            await post_document(receiver, keys, locked)
            await wait_until(lambda: locked_jid in test_queue.scheduled_job_registry, "retried")
        for doc in docs:
            await post_document(receiver, keys, doc)
        bad_jid = await enqueue_unparsable_build(settings)
        for doc in [locked, *docs]:
            await wait_outcome(receiver, doc["kind"], doc["status"]["uid"])
        await wait_until(lambda: bad_jid in build_queue.failed_job_registry, "failed")
    finally:
        # A warm stop: the worker counts the job it is finishing before it exits.
        assert worker.stop() == 0, worker.output()

    m = await scrape(receiver.url, receiver.http)
    check_histograms(m, expected_counts({"build": 2, "oebuild": 1, "test": 3, "plan": 1}))
