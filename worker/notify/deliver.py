"""The notify queue's job: deliver one outbox event to its one sink.

A sink that answers 5xx, 408 or 429, times out or cannot be reached raises SinkUnavailable, a
TransientError: RQ retries the job on NOTIFY_RETRY_INTERVALS_S, then leaves it in the failed
registry, from which the daily re-drive or `tuxhook replay` takes it again. Any other refusal
raises SinkRejected, a PermanentError: the failed registry at once, with the sink's reason.
Every attempt sends the event as the outbox holds it, so a retry carries the same event id.
A test's KCIDB submission also carries the per-case results the store holds when it is sent
(worker/notify/case_events.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import structlog
from redis import Redis
from redis.exceptions import RedisError
from rq import Queue, get_current_job
from rq.job import Job
from sqlalchemy import Engine, func, select, update

from shared.db.cases import case_results
from shared.db.schema import outbox
from shared.errors import PermanentError, SinkUnavailable, TuxhookError
from shared.notify_config import KcidbSink, Sink
from shared.notify_metrics import record_delivery
from worker.context import CONTEXT
from worker.notify.marks import push_mark, write_marks_now
from worker.notify.sinks import send

log = structlog.get_logger("tuxhook.notify")
_x = outbox.c


@dataclass(frozen=True)
class Row:
    id: int
    event_id: str
    sink: str
    kind: str
    uid: str
    event: str
    delivered: bool


def load(engine: Engine, event_id: str, sink: str) -> Row | None:
    query = select(_x.id, _x.event_id, _x.sink, _x.kind, _x.uid, _x.event, _x.delivered_at).where(
        _x.event_id == event_id, _x.sink == sink
    )
    with engine.connect() as conn:
        found = conn.execute(query).one_or_none()
    if found is None:
        return None
    delivered = found.delivered_at is not None
    return Row(found.id, found.event_id, found.sink, found.kind, found.uid, found.event, delivered)


def cases_for(reader: Engine, row: Row, sink: Sink) -> dict[str, str | None] | None:
    """The test's cases, read now, for a KCIDB submission of it; None for anything else."""
    if not isinstance(sink, KcidbSink) or row.kind != "test":
        return None
    with reader.connect() as conn:
        return case_results(conn, row.uid)


def record_attempt(engine: Engine, row_id: int, error: str | None) -> None:
    """Count an attempt; the first marks the row handed over, if the sweep has not."""
    now = datetime.now(UTC)
    values: dict[str, object] = {
        "attempts": _x.attempts + 1,
        "last_error": error,
        "handed_at": func.coalesce(_x.handed_at, now),
    }
    if error is None:
        values["delivered_at"] = now
    with engine.begin() as conn:
        conn.execute(update(outbox).where(_x.id == row_id).values(**values))


def deliver(event_id: str, sink_name: str) -> str:
    """Deliver event `event_id` to `sink_name`; what the sink answered, or why nothing was
    sent."""
    job = get_current_job()
    engine = CONTEXT.engine()
    row = load(CONTEXT.reader(), event_id, sink_name)
    if row is None:
        return "gone: purged from the outbox"
    if row.delivered:
        return "already delivered"
    sink = CONTEXT.notify().sinks.get(row.sink)
    if sink is None:
        raise PermanentError(f"sink {row.sink!r} is no longer in the notify file")
    cases = cases_for(CONTEXT.reader(), row, sink)
    return _attempt(engine, job, row, sink, cases)


def _retries_left(job: Job | None) -> int:
    left = getattr(job, "retries_left", None)
    return left if isinstance(left, int) else 0


def _attempt(
    engine: Engine, job: Job | None, row: Row, sink: Sink, cases: dict[str, str | None] | None
) -> str:
    try:
        answer = send(sink, row.event_id, row.event, cases)
    except TuxhookError as e:
        record_attempt(engine, row.id, e.message)
        retried = isinstance(e, SinkUnavailable) and _retries_left(job) > 0
        outcome = "retried" if retried else "failed"
        _count(job.connection if job is not None else None, sink.name, outcome)
        log.warning(
            "notify_failed",
            sink=sink.name,
            event_id=row.event_id,
            outcome=outcome,
            reason=e.message,
        )
        raise
    _mark_delivered(engine, job, row, sink)
    log.info("notify_delivered", sink=sink.name, event_id=row.event_id, answer=answer)
    return answer


def _mark_delivered(engine: Engine, job: Job | None, row: Row, sink: Sink) -> None:
    """Mark it in Redis, and write the marks when enough wait (worker/notify/marks.py); run
    outside RQ, or with Redis refusing, write this one now."""
    if job is None:
        record_attempt(engine, row.id, None)
        return
    queue_key = Queue.redis_queue_namespace_prefix + job.origin
    try:
        write_now = push_mark(job.connection, row.id, sink.name, queue_key)
    except RedisError:
        record_attempt(engine, row.id, None)
        return
    if write_now:
        write_marks_now(job.connection, engine)


def _count(redis: Redis | None, sink: str, outcome: str) -> None:
    if redis is not None:
        record_delivery(redis, sink, outcome)
