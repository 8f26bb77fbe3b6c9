"""The outbox: events written with their outcome, handed to the notify queue, marked delivered.

A row is written in the transaction that stores its outcome (`add_events`), so an event exists
exactly when its outcome does. After the commit, the worker that stored it hands it to the
notify queue (`hand_off`): RQ's job id is the row's, `notify_<id>`, so that handing a row over
twice queues it once. A worker that died between its commit and its hand-off leaves rows with
no `handed_at`; maintenance's sweep hands those over once they are older than a grace that a
living worker never needs (`sweep`). Delivered rows are kept for the notify file's retention.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from functools import cache

from redis import Redis
from rq import Queue, Retry
from rq.serializers import JSONSerializer
from sqlalchemy import Connection, Engine, bindparam, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql.dml import Insert

from shared.constants import (
    JOB_FAILURE_TTL_S,
    JOB_RESULT_TTL_S,
    NOTIFY_BATCH,
    NOTIFY_HANDLER_PATH,
    NOTIFY_QUEUE,
    NOTIFY_RETRY_INTERVALS_S,
)
from shared.db.schema import outbox
from worker.notify.events import OutboxEvent

_x = outbox.c
RETRY = Retry(max=len(NOTIFY_RETRY_INTERVALS_S), interval=list(NOTIFY_RETRY_INTERVALS_S))


def job_id(row_id: int) -> str:
    return f"notify_{row_id}"


@cache
def _insert(dialect_name: str) -> Insert:
    dialect = postgresql if dialect_name == "postgresql" else sqlite
    # An event already there (the same verdict stored again) is kept as it was.
    stmt: Insert = dialect.insert(outbox).on_conflict_do_nothing()
    return stmt


def add_events(conn: Connection, events: Sequence[OutboxEvent], now: datetime) -> None:
    """Write a stored outcome's events, in the transaction that stores it."""
    if not events:
        return
    rows = [
        {
            "event_id": e.event_id,
            "sink": e.sink,
            "type": e.type,
            "kind": e.kind,
            "uid": e.uid,
            "project": e.project,
            "event": e.event,
            "created_at": now,
            "attempts": 0,
        }
        for e in events
    ]
    conn.execute(_insert(conn.dialect.name), rows)


_UNHANDED_OF = select(_x.id).where(
    _x.kind == bindparam("kind"), _x.uid == bindparam("uid"), _x.handed_at.is_(None)
)


def hand_off_outcome(reader: Engine, writer: Engine, redis: Redis, kind: str, uid: str) -> int:
    """Hand an outcome's new events to the notify queue, right after the commit that wrote
    them; how many were handed over."""
    with reader.connect() as conn:
        ids = list(conn.execute(_UNHANDED_OF, {"kind": kind, "uid": uid}).scalars())
    return hand_off(writer, redis, ids)


def notify_queue(redis: Redis) -> Queue:
    return Queue(NOTIFY_QUEUE, connection=redis, serializer=JSONSerializer)


def enqueue(redis: Redis, ids: Sequence[int]) -> None:
    """A job for each row that has none in Redis: one that is queued, scheduled, running or
    failed is left as it is, so that a row handed over twice is delivered by one job."""
    if not ids:
        return
    queue = notify_queue(redis)
    with redis.pipeline(transaction=False) as pipe:
        for row_id in ids:
            pipe.exists(f"rq:job:{job_id(row_id)}")
        present = pipe.execute()
    new = [row_id for row_id, found in zip(ids, present, strict=True) if not found]
    if not new:
        return
    queue.enqueue_many(
        [
            Queue.prepare_data(
                NOTIFY_HANDLER_PATH,
                args=(row_id,),
                job_id=job_id(row_id),
                retry=RETRY,
                result_ttl=JOB_RESULT_TTL_S,
                failure_ttl=JOB_FAILURE_TTL_S,
                description=f"notify {row_id}",
            )
            for row_id in new
        ]
    )


def hand_off(engine: Engine, redis: Redis, ids: Sequence[int]) -> int:
    """Queue a job for each row, then mark the rows handed over (once: a row already marked
    keeps its first mark)."""
    if not ids:
        return 0
    enqueue(redis, ids)
    mark = (
        update(outbox)
        .where(_x.id.in_(ids), _x.handed_at.is_(None))
        .values(handed_at=datetime.now(UTC))
    )
    with engine.begin() as conn:
        conn.execute(mark)
    return len(ids)


def sweep(reader: Engine, writer: Engine, redis: Redis, grace_s: float) -> int:
    """Hand over rows that a worker which died after its commit left behind."""
    before = datetime.now(UTC) - timedelta(seconds=grace_s)
    query = (
        select(_x.id)
        .where(_x.handed_at.is_(None), _x.created_at < before)
        .order_by(_x.created_at)
        .limit(NOTIFY_BATCH)
    )
    with reader.connect() as conn:
        ids = list(conn.execute(query).scalars())
    return hand_off(writer, redis, ids)


def undelivered_since(reader: Engine, since: datetime, after_id: int) -> list[int]:
    query = (
        select(_x.id)
        .where(
            _x.delivered_at.is_(None),
            _x.handed_at.is_not(None),
            _x.created_at >= since,
            _x.id > after_id,
        )
        .order_by(_x.id)
        .limit(NOTIFY_BATCH)
    )
    with reader.connect() as conn:
        return list(conn.execute(query).scalars())


def purge(engine: Engine, retention_days: int) -> int:
    """Delete the rows delivered longer ago than the retention; how many."""
    before = datetime.now(UTC) - timedelta(days=retention_days)
    with engine.begin() as conn:
        return conn.execute(delete(outbox).where(_x.delivered_at < before)).rowcount or 0
