"""The outbox: events written with their outcome, handed to the notify queue, marked delivered.

A row is written in the transaction that stores its outcome (`add_events`), so an event exists
exactly when its outcome does. After the commit, the worker that stored it hands it to the
notify queue (`hand_off`), without touching the store again: the RQ job's id is the event's and
the sink's, `notify_<event id>_<sink>`, and RQ's unique enqueue queues it only if no job of that
id exists, so that a row handed over twice is delivered by one job.

A worker that died between its commit and its hand-off leaves rows that no job was made for:
maintenance's sweep takes rows not yet marked handed over that are older than a grace a living
worker never needs, queues a job for those that have none, and marks them all (`sweep`). A
row's first delivery attempt marks it too (worker/notify/deliver.py); either way, once.
Delivered rows are purged after the notify file's retention.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

from redis import Redis
from rq import Queue, Retry
from rq.exceptions import DuplicateJobError
from rq.serializers import JSONSerializer
from sqlalchemy import Connection, Engine, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql.dml import Insert

from shared.constants import (
    JOB_FAILURE_TTL_S,
    JOB_RESULT_TTL_S,
    NOTIFY_BATCH,
    NOTIFY_HANDLER_PATH,
    NOTIFY_JOB_TIMEOUT_S,
    NOTIFY_QUEUE,
    NOTIFY_RETRY_INTERVALS_S,
)
from shared.db.schema import outbox
from worker.notify.events import OutboxEvent

_x = outbox.c
RETRY = Retry(max=len(NOTIFY_RETRY_INTERVALS_S), interval=list(NOTIFY_RETRY_INTERVALS_S))

# (event id, sink): an outbox row's identity, and its job's.
Key = tuple[str, str]


def job_id(event_id: str, sink: str) -> str:
    return f"notify_{event_id}_{sink}"


@cache
def _insert(dialect_name: str) -> Insert:
    dialect = postgresql if dialect_name == "postgresql" else sqlite
    # An event already there (the same verdict stored again) is kept as it was.
    stmt: Insert = dialect.insert(outbox).on_conflict_do_nothing()
    return stmt


def outbox_rows(events: Sequence[OutboxEvent], now: datetime) -> list[dict[str, Any]]:
    """The outbox rows of an outcome's events, as both stores write them (PostgreSQL in its
    one statement: worker/chain.py's `events`)."""
    return [
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


def add_events(conn: Connection, events: Sequence[OutboxEvent], now: datetime) -> None:
    """Write a stored outcome's events, in the transaction that stores it (SQLite)."""
    if events:
        conn.execute(_insert(conn.dialect.name), outbox_rows(events, now))


def notify_queue(redis: Redis) -> Queue:
    return Queue(NOTIFY_QUEUE, connection=redis, serializer=JSONSerializer)


def hand_off(redis: Redis, keys: Iterable[Key]) -> int:
    """A job for each row that has none in Redis (one queued, scheduled, running, failed or
    finished is left as it is); how many were queued."""
    queue, queued = notify_queue(redis), 0
    for event_id, sink in keys:
        try:
            queue.enqueue_call(
                NOTIFY_HANDLER_PATH,
                args=(event_id, sink),
                job_id=job_id(event_id, sink),
                retry=RETRY,
                timeout=NOTIFY_JOB_TIMEOUT_S,
                result_ttl=JOB_RESULT_TTL_S,
                failure_ttl=JOB_FAILURE_TTL_S,
                description=f"notify {sink} {event_id}",
                unique=True,
            )
            queued += 1
        except DuplicateJobError:
            continue
    return queued


def mark_handed(writer: Engine, ids: Sequence[int]) -> None:
    """Mark rows handed over, once: a row marked already keeps its first mark."""
    mark = (
        update(outbox)
        .where(_x.id.in_(ids), _x.handed_at.is_(None))
        .values(handed_at=datetime.now(UTC))
    )
    with writer.begin() as conn:
        conn.execute(mark)


def sweep(reader: Engine, writer: Engine, redis: Redis, grace_s: float) -> int:
    """Hand over rows that a worker which died after its commit left behind; how many needed
    a job."""
    before = datetime.now(UTC) - timedelta(seconds=grace_s)
    query = (
        select(_x.id, _x.event_id, _x.sink)
        .where(_x.handed_at.is_(None), _x.created_at < before)
        .order_by(_x.created_at)
        .limit(NOTIFY_BATCH)
    )
    with reader.connect() as conn:
        rows = conn.execute(query).all()
    if not rows:
        return 0
    queued = hand_off(redis, ((r.event_id, r.sink) for r in rows))
    mark_handed(writer, [r.id for r in rows])
    return queued


def undelivered_since(reader: Engine, since: datetime, after_id: int) -> list[tuple[int, Key]]:
    """Undelivered rows handed over and written since `since`, a batch after row `after_id`."""
    query = (
        select(_x.id, _x.event_id, _x.sink)
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
        return [(r.id, (r.event_id, r.sink)) for r in conn.execute(query)]


def purge(writer: Engine, retention_days: int) -> int:
    """Delete the rows delivered longer ago than the retention; how many."""
    before = datetime.now(UTC) - timedelta(days=retention_days)
    with writer.begin() as conn:
        return conn.execute(delete(outbox).where(_x.delivered_at < before)).rowcount or 0
