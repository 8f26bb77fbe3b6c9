"""The RQ worker `tuxhook worker` runs: SimpleWorker, counting every finished job in Redis.

RQ decides how a job ended in handle_job_success and handle_job_failure, on every path a
living worker sees (a job that raised, one that timed out), so that is where the job is
counted; /metrics reads the counts back (shared/job_metrics.py). A job whose worker was killed
is not counted: the registry clean-up that later fails it as abandoned calls neither. Nor is a
job found stranded before it started: tuxhook puts it back in its queue (worker/rq/stranded.py)
instead of failing it, and it is counted when it runs.
"""

from __future__ import annotations

from typing import Any

from rq import SimpleWorker

from worker.metrics import failure_outcome, record_finished_job


class MeteredWorker(SimpleWorker):
    def handle_job_success(self, job: Any, queue: Any, *args: Any, **kwargs: Any) -> None:
        super().handle_job_success(job, queue, *args, **kwargs)
        record_finished_job(self.connection, job, "succeeded")

    def handle_job_failure(self, job: Any, queue: Any, *args: Any, **kwargs: Any) -> None:
        outcome = failure_outcome(job)  # before RQ spends one of the job's retries
        super().handle_job_failure(job, queue, *args, **kwargs)
        record_finished_job(self.connection, job, outcome)
