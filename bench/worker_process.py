"""`python -m bench.worker_process simple|fork`: tuxhook's worker in burst mode, of the RQ class
named, so that the two classes run the same code on the same jobs."""

from __future__ import annotations

import sys

from rq import SimpleWorker, Worker
from rq.worker import BaseWorker

from shared.constants import QUEUE_NAMES
from shared.logs import configure_logging
from shared.settings import Settings
from worker.run import run_worker

CLASSES: dict[str, type[BaseWorker]] = {"simple": SimpleWorker, "fork": Worker}


def main() -> int:
    settings = Settings.from_env()
    configure_logging(settings.log_level)
    run_worker(settings, QUEUE_NAMES, burst=True, worker_class=CLASSES[sys.argv[1]])
    return 0


if __name__ == "__main__":
    sys.exit(main())
