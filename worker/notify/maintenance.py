"""The outbox's part of worker maintenance, run by the notify queue's workers: the sweep (every
pass), then, once a day across all workers, the re-drive and the retention purge.

The re-drive offers again every undelivered event younger than the notify file's
`redrive_max_age_days` whose job ran out of retries (it is in the failed registry) or is gone
from Redis: as the RISC-V KernelCI bridge's daily sync does for KCIDB.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import structlog
from redis import Redis
from redis.exceptions import RedisError
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from shared.cli.failed_jobs import requeue
from shared.constants import (
    NOTIFY_QUEUE,
    NOTIFY_REDRIVE_INTERVAL_S,
    NOTIFY_REDRIVE_KEY,
    NOTIFY_SWEEP_LOCK_KEY,
    NOTIFY_SWEEP_LOCK_TTL_S,
)
from shared.notify_config import NotifyConfig
from shared.notify_metrics import write_backlog
from shared.outbox_status import backlog
from worker.notify.marks import write_marks
from worker.notify.outbox import Key, hand_off, job_id, purge, sweep, undelivered_since

log = structlog.get_logger("tuxhook.notify")


def notify_maintenance(reader: Engine, writer: Engine, redis: Redis, config: NotifyConfig) -> None:
    """One pass; a store or Redis that fails it is logged, and the next pass tries again."""
    if not redis.set(NOTIFY_SWEEP_LOCK_KEY, "1", nx=True, ex=NOTIFY_SWEEP_LOCK_TTL_S):
        return
    try:
        write_marks(redis, writer)  # first: a delivered row is no row to sweep
        swept = sweep(reader, writer, redis, config.sweep_grace_s)
        if swept:
            log.warning("notify_swept", events=swept)
        with reader.connect() as conn:
            write_backlog(redis, *backlog(conn))
        if redis.set(NOTIFY_REDRIVE_KEY, "1", nx=True, ex=NOTIFY_REDRIVE_INTERVAL_S):
            redriven = redrive(reader, redis, config.redrive_max_age_days)
            purged = purge(writer, config.retention_days)
            log.info("notify_daily", redriven=redriven, purged=purged)
    except (RedisError, SQLAlchemyError) as e:
        log.warning("notify_maintenance_failed", reason=str(e).splitlines()[0])
    finally:
        redis.delete(NOTIFY_SWEEP_LOCK_KEY)


def _statuses(redis: Redis, keys: list[Key]) -> list[bytes | None]:
    with redis.pipeline(transaction=False) as pipe:
        for key in keys:
            pipe.hget(f"rq:job:{job_id(*key)}", "status")
        return list(pipe.execute())


def redrive(reader: Engine, redis: Redis, max_age_days: int) -> int:
    """Offer again the undelivered events whose jobs failed or are gone; how many."""
    since = datetime.now(UTC) - timedelta(days=max_age_days)
    after, offered = 0, 0
    while rows := undelivered_since(reader, since, after):
        after = rows[-1][0]
        keys = [key for _, key in rows]
        statuses = _statuses(redis, keys)
        gone = [k for k, s in zip(keys, statuses, strict=True) if s is None]
        failed = [job_id(*k) for k, s in zip(keys, statuses, strict=True) if s == b"failed"]
        replayed = requeue(redis, dict.fromkeys(failed, NOTIFY_QUEUE))
        offered += hand_off(redis, gone) + len(replayed.requeued)
    return offered
