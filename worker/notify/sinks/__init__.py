"""The sinks, each through the library made for it: one `send` for every type."""

from __future__ import annotations

from collections.abc import Mapping

from shared.notify_config import AppriseSink, KcidbSink, Sink, WebhookSink
from worker.notify.sinks.apprise_urls import send_apprise
from worker.notify.sinks.kcidb import send_kcidb
from worker.notify.sinks.webhook import send_webhook


def send(
    sink: Sink, event_id: str, event: str, cases: Mapping[str, str | None] | None = None
) -> str:
    """Deliver the event (JSON text) to `sink`; what it answered. SinkUnavailable when a retry
    may succeed, SinkRejected when none would. `cases`, a test's per-case results, go to KCIDB
    alone."""
    if isinstance(sink, WebhookSink):
        return send_webhook(sink, event_id, event)
    if isinstance(sink, AppriseSink):
        return send_apprise(sink, event)
    assert isinstance(sink, KcidbSink)
    return send_kcidb(sink, event, cases)
