"""`tuxhook worker [QUEUE ...] [--burst] [--pool N]`: RQ workers that store outcomes.

Every worker process listens on exactly one queue: RQ then takes each job with an atomic move
into the queue's intermediate list, from which maintenance recovers a job whose worker (or
Redis) died before starting it (worker/rq/stranded.py). With several queues, RQ would pop the job
with BLPOP, and such a job would be lost. So `tuxhook worker` runs N processes for each queue
asked for; one queue and N=1 runs in this process. Every worker is built by `build_worker` from
the same Settings.
"""

from __future__ import annotations

import argparse
from collections import Counter
from collections.abc import Sequence
from multiprocessing import get_context
from multiprocessing.process import BaseProcess

import structlog
from redis import Redis
from redis.exceptions import RedisError
from rq.serializers import JSONSerializer
from rq.worker import BaseWorker
from rq.worker_pool import WorkerData, WorkerPool

from shared.constants import QUEUE_NAMES
from shared.db.engine import create_engine
from shared.db.migrate import check_current
from shared.errors import ConfigError, ServiceUnavailable
from shared.logs import configure_logging
from shared.redis_conn import connect
from shared.settings import Settings, mask_url
from worker.context import CONTEXT
from worker.rq.failures import retry_only_transient
from worker.rq.metered import MeteredWorker
from worker.rq.stranded import RecoveringQueue

# Jobs run in the worker process itself (a SimpleWorker), which keeps its database connection
# from job to job: forking a work horse per job costs more than the job (measured in
# docs/workers.md). Each finished job is counted for /metrics.
WORKER_CLASS: type[BaseWorker] = MeteredWorker


def queue_names(requested: Sequence[str]) -> list[str]:
    unknown = sorted(set(requested) - set(QUEUE_NAMES))
    if unknown:
        raise ConfigError(f"unknown queue {', '.join(unknown)}; queues: {', '.join(QUEUE_NAMES)}")
    return list(dict.fromkeys(requested)) or list(QUEUE_NAMES)


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


class Pool(WorkerPool):
    """rq's WorkerPool (respawning, signal forwarding) with `size` members on each queue, each
    built by `run_worker` on its one queue. A member that dies is replaced on the queue that
    is one short, so every queue keeps its `size` workers."""

    def __init__(self, settings: Settings, queues: Sequence[str], size: int) -> None:
        connection = connect(settings.redis_url, socket_timeout=None)
        super().__init__(
            queues, connection, num_workers=size * len(queues), serializer=JSONSerializer
        )
        self.settings = settings
        self.queue_of: dict[str, str] = {}  # member name -> its queue

    def members(self) -> Counter[str]:
        """Live members per queue, every queue listed."""
        alive = Counter(self.queue_of[name] for name in self.worker_dict)
        return Counter({queue: alive[queue] for queue in self._queue_names})

    def get_worker_process(
        self, name: str, burst: bool, _sleep: float = 0, logging_level: str = "INFO"
    ) -> BaseProcess:
        # RQ's start_worker (at start and to respawn) calls this, then adds the member.
        queue = min(self._queue_names, key=self.members().__getitem__)
        self.queue_of[name] = queue
        return get_context("fork").Process(
            target=run_worker,
            args=(self.settings, queue),
            kwargs={"burst": burst, "name": name},
            name=f"tuxhook worker {queue} {name}",
        )

    def handle_dead_worker(self, worker_data: WorkerData) -> None:
        super().handle_dead_worker(worker_data)
        # Unless the pool is stopping (or draining, in burst mode) a member should not exit.
        log = structlog.get_logger("tuxhook.worker")
        expected = self._burst or self.status == self.Status.STOPPED
        (log.info if expected else log.warning)(
            "worker_exited",
            worker=worker_data.name,
            queue=self.queue_of.pop(worker_data.name, None),
            pid=worker_data.pid,
            exit_code=worker_data.process.exitcode,
        )


def check_redis(settings: Settings) -> None:
    """One clear error now, rather than a traceback from each worker (a pool would respawn)."""
    connection = connect(settings.redis_url)
    try:
        connection.ping()
    except RedisError as e:
        raise ServiceUnavailable(
            f"cannot reach Redis at {mask_url(settings.redis_url)}: {e}"
        ) from e
    finally:
        connection.close()


def check_schema(settings: Settings) -> None:
    engine = create_engine(settings.database_url, lock_timeout_s=settings.database_lock_timeout_s)
    try:
        check_current(engine, settings.database_url)
    finally:
        engine.dispose()


def command(args: argparse.Namespace, settings: Settings) -> int:
    configure_logging(settings.log_level)
    queues = queue_names(args.queues)
    if args.pool < 1:
        raise ConfigError("--pool must be at least 1")
    check_redis(settings)
    check_schema(settings)
    structlog.get_logger("tuxhook.worker").info(
        "worker_starting", queues=queues, pool=args.pool, burst=args.burst, settings=repr(settings)
    )
    if len(queues) == 1 and args.pool == 1:
        run_worker(settings, queues[0], burst=args.burst)
    else:
        Pool(settings, queues, args.pool).start(burst=args.burst, logging_level=settings.log_level)
    return 0
