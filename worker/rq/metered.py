"""The RQ worker `tuxhook worker` runs: SimpleWorker, counting every finished job in Redis.

RQ decides how a job ended in handle_job_success and handle_job_failure, on every path a
living worker sees (a job that raised, one that timed out), so that is where the job is
counted; /metrics reads the counts back (shared/job_metrics.py). A job that succeeded, nearly
every one, is counted in the transaction in which RQ marks it finished (RQ's
increment_successful_job_count is given that pipeline), which spares each job a round trip of
its own: the count and the job's end are written together, or neither is. A job whose worker
was killed is not counted: the registry clean-up that later fails it as abandoned calls
neither. Nor is a job found stranded before it started: tuxhook puts it back in its queue
(worker/rq/stranded.py) instead of failing it, and it is counted when it runs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from redis import Redis
from rq import SimpleWorker

from shared.constants import NOTIFY_QUEUE
from worker.context import CONTEXT
from worker.metrics import add_job, record_job
from worker.notify.maintenance import notify_maintenance


def job_duration_s(job: Any) -> float:
    """Seconds between an RQ job's start and end, or 0 when RQ did not record both."""
    if job.started_at is None or job.ended_at is None:
        return 0.0
    return float((job.ended_at - job.started_at).total_seconds())


def failure_outcome(job: Any) -> str:
    """ "retried" while RQ will run the job again, "failed" once it goes to the failed registry.

    Call it before RQ's handle_job_failure, which spends one of the job's retries.
    """
    return "retried" if job.should_retry else "failed"


def record_finished_job(connection: Redis, job: Any, outcome: str) -> None:
    """record_job for an RQ job, whose origin is its queue."""
    record_job(connection, job.origin, outcome, job_duration_s(job))


class MeteredWorker(SimpleWorker):
    # The job handle_job_success is finishing, for increment_successful_job_count.
    _succeeded: Any = None

    def handle_job_success(self, job: Any, queue: Any, *args: Any, **kwargs: Any) -> None:
        self._succeeded = job
        try:
            super().handle_job_success(job, queue, *args, **kwargs)
        finally:
            self._succeeded = None

    def increment_successful_job_count(self, pipeline: Any = None) -> None:
        """RQ's count, and ours in the same transaction (RQ calls this inside the MULTI of
        handle_job_success, and again with a fresh one if a WATCH made it start over)."""
        super().increment_successful_job_count(pipeline)
        job = self._succeeded
        if job is None:
            return
        if pipeline is None:
            record_finished_job(self.connection, job, "succeeded")
        else:
            add_job(pipeline, job.origin, "succeeded", job_duration_s(job))

    def handle_job_failure(self, job: Any, queue: Any, *args: Any, **kwargs: Any) -> None:
        outcome = failure_outcome(job)  # before RQ spends one of the job's retries
        super().handle_job_failure(job, queue, *args, **kwargs)
        record_finished_job(self.connection, job, outcome)

    def run_maintenance_tasks(self) -> None:
        """RQ's maintenance, and on the notify queue the outbox's (worker/notify/maintenance.py):
        the workers that deliver notifications are the ones that keep their outbox."""
        rq_maintenance: Callable[[], None] = super().run_maintenance_tasks  # unannotated in RQ
        rq_maintenance()
        if NOTIFY_QUEUE in self.queue_names():
            notify_maintenance(
                CONTEXT.reader(), CONTEXT.engine(), self.connection, CONTEXT.notify()
            )
