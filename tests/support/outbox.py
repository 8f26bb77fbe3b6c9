"""What the outbox holds, read from the store: for assertions on events and their deliveries."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson
import sqlalchemy as sa

from shared.db.schema import outbox
from tests.support.database import engine_for


@dataclass(frozen=True)
class OutboxRow:
    id: int
    event_id: str
    sink: str
    type: str
    kind: str
    uid: str
    handed: bool
    delivered: bool
    attempts: int
    last_error: str | None
    event: dict[str, Any]


def outbox_rows(url: str) -> list[OutboxRow]:
    engine = engine_for(url)
    x = outbox.c
    try:
        with engine.connect() as conn:
            rows = conn.execute(sa.select(outbox).order_by(x.id)).all()
    finally:
        engine.dispose()
    return [
        OutboxRow(
            r.id, r.event_id, r.sink, r.type, r.kind, r.uid, r.handed_at is not None,
            r.delivered_at is not None, r.attempts, r.last_error, orjson.loads(r.event),
        )
        for r in rows
    ]  # fmt: skip
