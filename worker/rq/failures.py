"""Which failures RQ retries. Jobs are enqueued with a Retry; this handler cancels it for failures
that no retry can cure, so that they reach the failed registry at once, with their reason.

RQ runs exception handlers before it decides whether to retry, which is what makes this work,
both when a job raises and when maintenance finds a job abandoned by a worker that died.
"""

from __future__ import annotations

from types import TracebackType

import structlog
from redis.exceptions import RedisError
from rq.exceptions import AbandonedJobError
from rq.job import Job
from rq.timeouts import JobTimeoutException

from shared.errors import TransientError
from worker.db_errors import is_transient_db

log = structlog.get_logger("tuxhook.worker")

# A job ran out of time (waiting for the database), or the worker running the job died (RQ's
# maintenance reports that through these handlers too), or was stopped cold mid-job (a second
# SIGTERM raises SystemExit in the job). Database errors are judged by worker/db_errors.py.
# Running a job again is harmless: the store applies each delivery once.
_TRANSIENT = (
    AbandonedJobError,
    SystemExit,
    TransientError,
    JobTimeoutException,
    ConnectionError,
)


def is_transient(error: BaseException) -> bool:
    return isinstance(error, _TRANSIENT) or is_transient_db(error)


def reason(error: BaseException) -> str:
    """One readable line: the error's class and the first line of its message."""
    cause = getattr(error, "orig", None) or error
    lines = str(cause).strip().splitlines()
    return f"{type(cause).__name__}: {lines[0] if lines else 'no message'}"


def retry_only_transient(
    job: Job,
    _type: type[BaseException] | None,
    error: BaseException | None,
    _tb: TracebackType | None,
) -> bool:
    """RQ exception handler: keep the Retry for transient failures, cancel it for the others."""
    if error is None:
        return True
    why = reason(error)
    if is_transient(error):
        log.warning(
            "job_failed_transiently", job_id=job.id, reason=why, retries_left=job.retries_left
        )
        return True
    job.retries_left = 0
    job.meta["failure"] = f"permanent: {why}"
    try:
        job.save(include_result=False)
    except RedisError:
        # The failed registry still gets the traceback, if Redis is back by then.
        log.warning("failure_reason_not_saved", job_id=job.id)
    log.error("job_failed_permanently", job_id=job.id, reason=why)
    return True
