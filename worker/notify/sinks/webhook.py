"""The webhook sink: the event as JSON, signed as Standard Webhooks specifies, with the
`standardwebhooks` library. Each secret of the sink signs it (several while one is rotated),
in one `webhook-signature` header; `webhook-id` is the event's id, the same on every retry."""

from __future__ import annotations

from datetime import UTC, datetime

from standardwebhooks import Webhook

from shared.notify_config import WebhookSink
from worker.notify.sinks.http import post


def signed_headers(sink: WebhookSink, event_id: str, body: str, now: datetime) -> dict[str, str]:
    signatures = " ".join(Webhook(s.reveal()).sign(event_id, now, body) for s in sink.secrets)
    return {
        "content-type": "application/json",
        "webhook-id": event_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": signatures,
        "user-agent": "tuxhook",
    }


def send_webhook(sink: WebhookSink, event_id: str, event: str) -> str:
    headers = signed_headers(sink, event_id, event, datetime.now(UTC))
    return post(sink.url, event.encode("utf-8"), headers, sink.timeout_s)
