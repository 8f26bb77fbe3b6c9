"""The RQ worker every `tuxhook worker` process runs, built from Settings on one queue.

Every worker process listens on exactly one queue: RQ then takes each job with an atomic move
into the queue's intermediate list, from which maintenance recovers a job whose worker (or
Redis) died before starting it (worker/rq/stranded.py). With several queues, RQ would pop the
job with BLPOP, and such a job would be lost.
"""

from __future__ import annotations

from redis import Redis
from rq.serializers import JSONSerializer
from rq.worker import BaseWorker

from shared.redis_conn import connect
from shared.settings import Settings
from worker.context import CONTEXT
from worker.rq.failures import retry_only_transient
from worker.rq.metered import MeteredWorker
from worker.rq.stranded import RecoveringQueue

# Jobs run in the worker process itself (a SimpleWorker), which keeps its database connection
# from job to job: forking a work horse per job costs more than the job (measured in
# docs/workers.md). Each finished job is counted for /metrics.
WORKER_CLASS: type[BaseWorker] = MeteredWorker


def build_worker(
    settings: Settings,
    queue: str,
    connection: Redis,
    *,
    name: str | None = None,
    worker_class: type[BaseWorker] = WORKER_CLASS,
) -> BaseWorker:
    """A worker on the one queue `queue`."""
    worker = worker_class(
        [queue],
        name=name,
        connection=connection,
        serializer=JSONSerializer,
        # Its maintenance puts stranded jobs back in the queue rather than failing them.
        queue_class=RecoveringQueue,
        exception_handlers=[retry_only_transient],
        maintenance_interval=settings.worker_maintenance_interval_s,
        # RQ waits for a job for worker_ttl - 15 s and runs maintenance only between waits: left
        # at its 420 s, an idle worker would find a dead worker's job after 7 minutes.
        worker_ttl=settings.worker_maintenance_interval_s + 15,
        job_monitoring_interval=settings.worker_job_monitoring_interval_s,
    )
    for q in worker.queues:
        if isinstance(q, RecoveringQueue):
            q.stranded_grace_s = settings.stranded_job_grace_s
    return worker


def run_worker(
    settings: Settings,
    queue: str,
    *,
    burst: bool,
    name: str | None = None,
    worker_class: type[BaseWorker] = WORKER_CLASS,
) -> None:
    """Work on `queue` until stopped (or, with `burst`, until it is empty) with the scheduler
    on, which is what turns a transient failure's scheduled retry back into a queued job."""
    CONTEXT.configure(settings)
    connection = connect(settings.redis_url, socket_timeout=None)
    try:
        worker = build_worker(settings, queue, connection, name=name, worker_class=worker_class)
        worker.work(burst=burst, with_scheduler=True, logging_level=settings.log_level)
    finally:
        CONTEXT.close()
        connection.close()
