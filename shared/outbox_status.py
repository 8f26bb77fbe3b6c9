"""The outbox's backlog, read from the store: for `tuxhook status` and for maintenance, which
copies it to Redis for /metrics (shared/notify_metrics.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, select

from shared.db.schema import outbox
from shared.timestamps import as_utc, iso

_x = outbox.c


def backlog(conn: Connection) -> tuple[int, datetime | None]:
    """Events not delivered yet, and when the oldest of them was written."""
    count, oldest = conn.execute(
        select(func.count(), func.min(_x.created_at)).where(_x.delivered_at.is_(None))
    ).one()
    return int(count), None if oldest is None else as_utc(oldest)


@dataclass(frozen=True)
class OutboxStatus:
    undelivered: int
    oldest_undelivered_at: datetime | None
    # Sink -> events not delivered to it yet.
    by_sink: dict[str, int]

    def as_json(self) -> dict[str, Any]:
        return {
            "undelivered": self.undelivered,
            "oldest_undelivered_at": iso(self.oldest_undelivered_at),
            "by_sink": self.by_sink,
        }


def outbox_status(conn: Connection) -> OutboxStatus:
    by_sink = select(_x.sink, func.count()).where(_x.delivered_at.is_(None)).group_by(_x.sink)
    return OutboxStatus(*backlog(conn), {sink: int(n) for sink, n in conn.execute(by_sink)})
