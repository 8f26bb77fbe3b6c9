"""`tuxhook notify test SINK`: a test event to one sink of the notify file, and its answer.

The event is of type `test`, with no outcome: a webhook receives it signed as any other, apprise
posts a short text, and KCIDB a submission holding only the schema's version, which checks the
URL and the token without adding anything to KCIDB.
"""

from __future__ import annotations

import argparse
import secrets
from datetime import UTC, datetime

import orjson

from shared.errors import ConfigError, UsageError
from shared.notify_config import load_notify_file
from shared.settings import Settings
from worker.notify.sinks import send


def trial_event(public_url: str | None) -> tuple[str, str]:
    event_id = f"evt_test_{secrets.token_hex(16)}"
    doc = {
        "id": event_id,
        "type": "test",
        "created_at": datetime.now(UTC).isoformat(),
        "outcome": None,
        "url": public_url.rstrip("/") + "/" if public_url else None,
    }
    return event_id, orjson.dumps(doc).decode("utf-8")


def command(args: argparse.Namespace, settings: Settings) -> int:
    if settings.notify_file is None:
        raise ConfigError("TUXHOOK_NOTIFY_FILE is not set: there are no sinks to test")
    config = load_notify_file(settings.notify_file)
    sink = config.sinks.get(args.sink)
    if sink is None:
        known = ", ".join(config.sinks) or "none"
        raise UsageError(f"no sink {args.sink!r} in {settings.notify_file}; sinks: {known}")
    event_id, event = trial_event(settings.public_url)
    answer = send(sink, event_id, event)
    print(f"{sink.name} ({sink.type} {sink.target()}) took test event {event_id}: {answer}")
    return 0
