"""Marking deliveries in the outbox, a batch at a time.

A delivery that succeeded is marked in Redis first, in the pipeline that counts it for
/metrics: its row id and time on a list (NOTIFY_MARKS_KEY). The worker writes the marks it finds
there into the outbox, in one UPDATE of many rows in one transaction, once NOTIFY_MARK_BATCH are
waiting or its queue is empty; and maintenance writes any that a worker which died left there.
On SQLite, one write transaction per delivery was a second writer beside the storing workers,
for its single write lock, which slowed storing by about a fifth in a burst (bench.notify_burst);
on PostgreSQL it was a commit per delivery.

While a mark waits, the event's RQ job is finished, which keeps it from being queued again
(hand-off and sweep queue an event only when no job of its id exists). A mark lost with Redis
leaves its event undelivered in the outbox, and the daily re-drive offers it again: a repeat,
which a receiver drops by id.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

import structlog
from redis import Redis
from redis.exceptions import RedisError
from sqlalchemy import Engine, bindparam, func, update
from sqlalchemy.exc import SQLAlchemyError

from shared.constants import (
    NOTIFY_BATCH,
    NOTIFY_MARK_BATCH,
    NOTIFY_MARKS_KEY,
    NOTIFY_METRICS_KEY,
)
from shared.db.schema import outbox

log = structlog.get_logger("tuxhook.notify")
_x = outbox.c

_MARK = (
    update(outbox)
    .where(_x.id == bindparam("row_id"), _x.delivered_at.is_(None))
    .values(
        attempts=_x.attempts + 1,
        last_error=None,
        delivered_at=bindparam("at"),
        handed_at=func.coalesce(_x.handed_at, bindparam("at")),
    )
)


def push_mark(redis: Redis, row_id: int, sink: str, queue_key: str) -> bool:
    """Mark a delivery in Redis and count it; whether the marks are to be written now."""
    with redis.pipeline(transaction=False) as pipe:
        pipe.hincrby(NOTIFY_METRICS_KEY, f"{sink}:delivered", 1)
        pipe.rpush(NOTIFY_MARKS_KEY, f"{row_id} {time.time()}")
        pipe.llen(queue_key)
        _, waiting_marks, queued = pipe.execute()
    return int(waiting_marks) >= NOTIFY_MARK_BATCH or int(queued) == 0


def _rows(raw: list[bytes | str]) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    for item in raw:
        text = item.decode("ascii") if isinstance(item, bytes) else item
        row_id, _, at = text.partition(" ")
        rows.append({"row_id": int(row_id), "at": datetime.fromtimestamp(float(at), UTC)})
    return rows


def write_marks(redis: Redis, writer: Engine) -> int:
    """Write every mark waiting in Redis into the outbox, a batch per transaction; how many.
    A batch the store refuses goes back on the list, for the next worker or pass."""
    written = 0
    while raw := redis.lpop(NOTIFY_MARKS_KEY, NOTIFY_BATCH):
        assert isinstance(raw, list)
        try:
            with writer.begin() as conn:
                conn.execute(_MARK, _rows(raw))
        except SQLAlchemyError:
            redis.rpush(NOTIFY_MARKS_KEY, *raw)
            raise
        written += len(raw)
    return written


def write_marks_now(redis: Redis, writer: Engine) -> None:
    """write_marks after a delivery: a failure is logged, and maintenance writes them later."""
    try:
        write_marks(redis, writer)
    except (RedisError, SQLAlchemyError) as e:
        log.warning("notify_marks_deferred", reason=str(e).splitlines()[0])
