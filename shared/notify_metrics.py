"""Notification deliveries counted in Redis by sink and outcome: workers add, /metrics reads.

One hash (NOTIFY_METRICS_KEY), field "<sink>:<outcome>" -> attempts. Sinks are the notify
file's names (a few), outcomes NOTIFY_OUTCOMES: both bounded, as label values must be.
"""

from __future__ import annotations

import structlog
from redis import Redis
from redis.exceptions import RedisError

from shared.constants import NOTIFY_METRICS_KEY, NOTIFY_OUTCOMES

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
