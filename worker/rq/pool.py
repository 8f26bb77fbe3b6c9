"""`tuxhook worker --pool N` (or several queues): RQ's WorkerPool, N members on each queue."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from multiprocessing import get_context
from multiprocessing.process import BaseProcess

import structlog
from rq.serializers import JSONSerializer
from rq.worker_pool import WorkerData, WorkerPool

from shared.redis_conn import connect
from shared.settings import Settings
from worker.rq.workers import run_worker


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
