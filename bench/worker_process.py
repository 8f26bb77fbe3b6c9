"""`python -m bench.worker_process tuxhook|simple|fork`: tuxhook's worker in burst mode, in one
process, of the class named (tuxhook's own, or RQ's SimpleWorker or forking Worker), so that
the classes run the same code on the same jobs, and one process can be set against one
`rq worker`."""

from __future__ import annotations

import sys

from rq import SimpleWorker, Worker
from rq.worker import BaseWorker

from shared.constants import QUEUE_NAMES
from shared.logs import configure_logging
from shared.settings import Settings
from worker.rq import WORKER_CLASS, run_worker

CLASSES: dict[str, type[BaseWorker]] = {
    "tuxhook": WORKER_CLASS,
    "simple": SimpleWorker,
    "fork": Worker,
}


def main() -> int:
    settings = Settings.from_env()
    configure_logging(settings.log_level)
    # The queues in turn: a worker listens on one queue (worker/rq/workers.py), and `tuxhook worker`
    # would run one process for each.
    for queue in QUEUE_NAMES:
        run_worker(settings, queue, burst=True, worker_class=CLASSES[sys.argv[1]])
    return 0


if __name__ == "__main__":
    sys.exit(main())
