"""What the queues and workers look like right now: for `tuxhook status` and for /metrics.

Read-only: RQ's registry `count` runs the registry's cleanup (which, for the started registry,
fails abandoned jobs), and that is the workers' maintenance to do, not an observer's.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from redis import Redis
from rq import Queue, Worker
from rq.job import Job
from rq.serializers import JSONSerializer
from rq.worker import BaseWorker
from rq.worker_registration import get_keys

from shared.constants import QUEUE_NAMES


@dataclass(frozen=True)
class QueueStatus:
    name: str
    queued: int
    started: int
    failed: int
    scheduled: int
    oldest_queued_age_s: float | None


@dataclass(frozen=True)
class WorkerStatus:
    name: str
    state: str
    queues: list[str]
    current_job: str | None
    last_heartbeat: str | None


@dataclass(frozen=True)
class Status:
    queues: list[QueueStatus]
    workers: list[WorkerStatus]

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def queue(name: str, connection: Redis) -> Queue:
    return Queue(name, connection=connection, serializer=JSONSerializer)


def _oldest_age_s(q: Queue, now: datetime) -> float | None:
    """Age of the job at the head of the queue: RQ pushes at the tail and pops at the head."""
    head = q.get_job_ids(0, 1)
    if not head:
        return None
    job = Job.fetch_many(head, connection=q.connection, serializer=JSONSerializer)[0]
    if job is None or job.enqueued_at is None:
        return None
    return max(0.0, (now - job.enqueued_at).total_seconds())


def queue_status(name: str, connection: Redis, now: datetime) -> QueueStatus:
    q = queue(name, connection)
    return QueueStatus(
        name=name,
        queued=q.count,
        started=q.started_job_registry.get_job_count(cleanup=False),
        failed=q.failed_job_registry.get_job_count(cleanup=False),
        scheduled=q.scheduled_job_registry.get_job_count(cleanup=False),
        oldest_queued_age_s=_oldest_age_s(q, now),
    )


def _worker_status(worker: BaseWorker) -> WorkerStatus:
    beat = worker.last_heartbeat
    return WorkerStatus(
        name=worker.name,
        state=worker.get_state(),
        queues=worker.queue_names(),
        current_job=worker.get_current_job_id(),
        last_heartbeat=beat.isoformat() if beat else None,
    )


def workers(connection: Redis) -> list[WorkerStatus]:
    found = Worker.all(connection=connection, serializer=JSONSerializer)
    return sorted((_worker_status(w) for w in found), key=lambda w: w.name)


def workers_alive(connection: Redis) -> int:
    """Registered workers whose key has not expired: a worker that died without saying so
    stays registered until its heartbeat's TTL runs out, then disappears from here."""
    keys = list(get_keys(connection=connection))
    if not keys:
        return 0
    with connection.pipeline(transaction=False) as pipe:
        for key in keys:
            pipe.exists(key)
        return sum(1 for found in pipe.execute() if found)


def status(connection: Redis) -> Status:
    now = datetime.now(UTC)
    return Status(
        queues=[queue_status(name, connection, now) for name in QUEUE_NAMES],
        workers=workers(connection),
    )
