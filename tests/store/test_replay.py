"""A replayed job runs with its retry budget back: a transient failure is retried, not final."""

from __future__ import annotations

from pathlib import Path

from redis import Redis
from rq import Queue
from rq.job import Job, JobStatus
from rq.serializers import JSONSerializer

from shared.constants import RETRY_INTERVALS_S
from tests.conftest import Receiver
from tests.support.api import post_document, wait_outcome, wait_until
from tests.support.builders import callback, job_id_of
from tests.support.cli import run_cli_async
from tests.support.database import write_lock_held
from tests.support.keys import KeyPair
from tests.support.processes import start_worker


def spend_retries(redis: Redis, jid: str) -> None:
    """As if the job had already been retried through a whole outage."""
    job = Job.fetch(jid, connection=redis, serializer=JSONSerializer)
    job.retries_left = 0
    job.save()


async def test_a_replayed_job_that_meets_a_lock_is_retried(
    receiver: Receiver,
    keys: KeyPair,
    settings_env: dict[str, str],
    redis_client: Redis,
    database_url: str,
    tmp_path: Path,
) -> None:
    doc = callback("build")
    uid, jid = doc["status"]["uid"], job_id_of(doc)
    queue = Queue("build", connection=redis_client, serializer=JSONSerializer)
    await post_document(receiver, keys, doc)
    spend_retries(redis_client, jid)
    worker = start_worker(settings_env, tmp_path / "worker.log")
    try:
        with write_lock_held(database_url):
            await wait_until(lambda: jid in queue.failed_job_registry, "failed with no retry left")
            replayed = await run_cli_async(settings_env, "replay", jid)
            assert replayed.returncode == 0, replayed.stderr
            # The store is still locked: the replayed run fails transiently and is retried.
            await wait_until(lambda: jid in queue.scheduled_job_registry, "scheduled for retry")
            assert jid not in queue.failed_job_registry
        found = await wait_outcome(receiver, "build", uid)
    finally:
        assert worker.stop() == 0, worker.output()
    assert found["deliveries"] == 1
    job = Job.fetch(jid, connection=redis_client, serializer=JSONSerializer)
    assert job.get_status() == JobStatus.FINISHED
    assert job.retries_left == len(RETRY_INTERVALS_S) - 1
