"""Workers' side of the job metrics: add each finished job to the counters in Redis.

worker/rq/metered.py calls it where RQ decides how a job ended, so that every path is counted,
including a job killed by its timeout (RQ's per-job callbacks miss that one, and cannot tell a
retry from a final failure).
"""

from __future__ import annotations

import math
from typing import Any

import structlog
from redis import Redis
from redis.exceptions import RedisError

from shared.constants import JOB_METRICS_KEY
from shared.job_metrics import bucket_field, check_labels, series_field

log = structlog.get_logger("tuxhook.worker.metrics")


def record_job(connection: Redis, queue: str, outcome: str, duration_s: float) -> None:
    """Count one job of `queue` that ended with `outcome` after `duration_s` seconds.

    Best effort: a Redis error is logged, never raised, so that a hiccup while counting cannot
    turn a job that succeeded into one that failed. A bad queue or outcome is a ValueError.
    """
    check_labels(queue, outcome)
    try:
        # One transaction, so that a scrape never sees a count without its bucket.
        with connection.pipeline(transaction=True) as pipe:
            add_job(pipe, queue, outcome, duration_s)
            pipe.execute()
    except RedisError as e:
        log.warning("job_metrics_not_recorded", queue=queue, outcome=outcome, error=str(e))


def add_job(pipe: Any, queue: str, outcome: str, duration_s: float) -> None:
    """Queue the commands that count one job on `pipe`, a pipeline in a transaction: the
    worker's own (record_job), or the one in which RQ marks a job finished (worker/rq/
    metered.py). A bad queue or outcome is a ValueError."""
    check_labels(queue, outcome)
    duration_s = duration_s if math.isfinite(duration_s) and duration_s > 0 else 0.0
    pipe.hincrby(JOB_METRICS_KEY, series_field(queue, outcome, "count"), 1)
    pipe.hincrbyfloat(JOB_METRICS_KEY, series_field(queue, outcome, "sum"), duration_s)
    pipe.hincrby(JOB_METRICS_KEY, bucket_field(queue, outcome, duration_s), 1)
