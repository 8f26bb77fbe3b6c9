"""Notification figures in Redis, which workers write and /metrics reads: deliveries by sink
and outcome, and the outbox's backlog.

Deliveries: one hash (NOTIFY_METRICS_KEY), field "<sink>:<outcome>" -> attempts. Sinks are the
notify file's names (a few), outcomes NOTIFY_OUTCOMES: both bounded, as label values must be.
"""

from __future__ import annotations

from datetime import datetime

import structlog
from redis import Redis
from redis.exceptions import RedisError

from shared.constants import NOTIFY_BACKLOG_KEY, NOTIFY_METRICS_KEY, NOTIFY_OUTCOMES

log = structlog.get_logger("tuxhook.notify")


def record_delivery(connection: Redis, sink: str, outcome: str) -> None:
    """Count one attempt; best effort, as job metrics are: a Redis error is logged, not raised."""
    if outcome not in NOTIFY_OUTCOMES:
        raise ValueError(f"unknown delivery outcome {outcome!r}")
    try:
        connection.hincrby(NOTIFY_METRICS_KEY, f"{sink}:{outcome}", 1)
    except RedisError as e:
        log.warning("notify_metrics_not_recorded", sink=sink, outcome=outcome, error=str(e))


def read_deliveries(connection: Redis) -> dict[tuple[str, str], int]:
    """(sink, outcome) -> attempts."""
    out: dict[tuple[str, str], int] = {}
    for key, value in connection.hgetall(NOTIFY_METRICS_KEY).items():
        text = key.decode() if isinstance(key, bytes) else str(key)
        sink, _, outcome = text.rpartition(":")
        if sink and outcome in NOTIFY_OUTCOMES:
            out[(sink, outcome)] = int(value)
    return out


def write_backlog(connection: Redis, undelivered: int, oldest: datetime | None) -> None:
    """The outbox's backlog as maintenance last counted it, for /metrics, which reads Redis
    only: it lags the store by at most a maintenance interval."""
    with connection.pipeline(transaction=True) as pipe:
        pipe.hset(NOTIFY_BACKLOG_KEY, "undelivered", undelivered)
        pipe.hset(NOTIFY_BACKLOG_KEY, "oldest", oldest.timestamp() if oldest else "")
        pipe.execute()


def read_backlog(connection: Redis, now: datetime) -> tuple[int, float]:
    """(undelivered events, seconds the oldest has waited; 0 when none)."""
    raw = {
        (k.decode() if isinstance(k, bytes) else str(k)): (
            v.decode() if isinstance(v, bytes) else str(v)
        )
        for k, v in connection.hgetall(NOTIFY_BACKLOG_KEY).items()
    }
    oldest = raw.get("oldest") or ""
    age = max(0.0, now.timestamp() - float(oldest)) if oldest else 0.0
    return int(raw.get("undelivered") or 0), age
