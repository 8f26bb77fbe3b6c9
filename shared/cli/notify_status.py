"""`tuxhook status`'s notifications: the sinks (masked), the outbox's backlog and its oldest
undelivered event, read from the store. Shown when TUXHOOK_NOTIFY_FILE is set."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from shared.db.engine import create_engine
from shared.db.migrate import unavailable
from shared.notify_config import load_notify_file
from shared.outbox_status import outbox_status
from shared.settings import Settings


def notify_status(settings: Settings) -> dict[str, Any] | None:
    if settings.notify_file is None:
        return None
    config = load_notify_file(settings.notify_file)
    sinks = [
        {"name": name, "type": sink.type, "target": sink.target()}
        for name, sink in config.sinks.items()
    ]
    url = settings.database_url
    try:
        engine = create_engine(url, lock_timeout_s=settings.database_lock_timeout_s)
        try:
            with engine.connect() as conn:
                found = outbox_status(conn)
        finally:
            engine.dispose()
    except SQLAlchemyError as e:
        # The queues are still worth showing: the store's trouble is said in its place.
        return {"sinks": sinks, "outbox": None, "error": unavailable(url, e).message}
    return {"sinks": sinks, "outbox": found.as_json()}


def _oldest(at: str | None, now: datetime) -> str:
    if at is None:
        return "-"
    waited = (now - datetime.fromisoformat(at)).total_seconds()
    return f"{at.replace('T', ' ').split('.')[0].removesuffix('+00:00')} ({waited:.0f}s ago)"


def render_notify(doc: dict[str, Any], now: datetime | None = None) -> list[str]:
    outbox = doc["outbox"]
    if outbox is None:
        lines = ["", f"notifications: {doc['error']}"]
    else:
        oldest = _oldest(outbox["oldest_undelivered_at"], now or datetime.now(UTC))
        lines = ["", f"notifications: {outbox['undelivered']} undelivered, oldest {oldest}"]
    for sink in doc["sinks"]:
        waiting = "-" if outbox is None else outbox["by_sink"].get(sink["name"], 0)
        lines.append(f"  {sink['name']}  {sink['type']}  {sink['target']}  undelivered={waiting}")
    return lines
