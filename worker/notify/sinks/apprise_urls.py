"""The apprise sink: a short text and a link to the outcome to every URL the sink lists (Slack,
Matrix, Teams, Discord, e-mail, ...). Chat and e-mail cannot drop a repeat: a delivery retried
after a partial failure reaches again the URLs that had taken it."""

from __future__ import annotations

from typing import Any

import apprise
import orjson

from shared.errors import SinkUnavailable
from shared.notify_config import AppriseSink

_TITLES = {
    "build_failed": "build failed",
    "build_error": "build error",
    "test_failed": "test failed",
    "infra_error": "infrastructure error",
    "plan_finished": "plan finished",
    "outcome": "finished",
}


def summary(event: dict[str, Any]) -> tuple[str, str]:
    """(title, body) for people."""
    if event.get("type") == "test":
        return "tuxhook: test notification", f"tuxhook reaches this sink. {event.get('url') or ''}"
    outcome = event.get("outcome") or {}
    what = _TITLES.get(str(event.get("type")), str(event.get("type")))
    kind, uid = outcome.get("kind", "event"), outcome.get("uid", "")
    project = outcome.get("project") or "-"
    title = f"tuxhook: {kind} {what}: {project}"
    lines = [f"{kind} {uid} in {project}: {what}, result {outcome.get('result') or '-'}"]
    for name in ("build_name", "device", "git_describe", "name"):
        if outcome.get(name):
            lines.append(f"{name}: {outcome[name]}")
    if event.get("url"):
        lines.append(str(event["url"]))
    return title, "\n".join(lines)


def _notifier(sink: AppriseSink) -> apprise.Apprise:
    """The sink's URLs, each bounded by its `timeout_seconds`: apprise's own connect and read
    timeouts (its `cto` and `rto`), which an SMTP server or a chat service's API honours."""
    notifier = apprise.Apprise()
    for url in sink.urls:
        service = apprise.Apprise.instantiate(url.reveal())
        if service is None:  # checked at start-up; a plugin gone since is apprise's failure
            raise SinkUnavailable(f"apprise can no longer use a URL of sink {sink.name}")
        service.socket_connect_timeout = service.socket_read_timeout = sink.timeout_s
        notifier.add(service)
    return notifier


def send_apprise(sink: AppriseSink, event: str) -> str:
    notifier = _notifier(sink)
    title, body = summary(orjson.loads(event))
    if not notifier.notify(title=title, body=body):
        raise SinkUnavailable(f"apprise could not notify every URL of sink {sink.name}")
    return f"notified {len(sink.urls)} URL(s)"
