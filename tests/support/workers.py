"""Run the workers' code in the test process: SimpleWorker in burst mode, built as `tuxhook
worker` builds its workers, for tests whose point is what one pass over the queues does."""

from __future__ import annotations

import signal
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from redis import Redis

from shared.constants import QUEUE_NAMES
from shared.settings import Settings
from worker.context import CONTEXT
from worker.rq import WORKER_CLASS, build_worker
from worker.rq.metered import MeteredWorker


class PassWorker(MeteredWorker):
    """`tuxhook worker`'s worker, without RQ's command channel: nothing sends commands to a pass
    in a test, and tearing down its listener thread cost about a second of most passes (RQ
    unsubscribes before it stops the thread, which then often waits for a next subscription
    until RQ's one-second join gives up on it)."""

    def subscribe(self) -> None:
        pass


# PassWorker must stay a subclass of the class `tuxhook worker` runs.
assert WORKER_CLASS is MeteredWorker


@contextmanager
def _signals_kept() -> Iterator[None]:
    """RQ installs its own SIGINT/SIGTERM handlers; give pytest its own back afterwards."""
    saved = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in saved.items():
            signal.signal(sig, handler)


def drain(settings: Settings, redis: Redis, queues: Sequence[str] = QUEUE_NAMES) -> None:
    """Run every queued job once (and any retry already due), then return: one worker per
    queue in turn (`queues`, in their order), as `tuxhook worker` runs one process per queue."""
    CONTEXT.configure(settings)
    try:
        for queue in queues:
            worker = build_worker(settings, queue, redis, worker_class=PassWorker)
            with _signals_kept():
                worker.work(burst=True, with_scheduler=True, logging_level="WARNING")
            # RQ's scheduler opens a connection pool of its own and leaves it open: close it,
            # or a test of many passes ends with unclosed sockets.
            if worker.scheduler is not None:
                worker.scheduler.connection.connection_pool.disconnect()
    finally:
        CONTEXT.close()
