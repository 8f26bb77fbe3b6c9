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


def send_apprise(sink: AppriseSink, event: str) -> str:
    notifier = apprise.Apprise()
    for url in sink.urls:
        notifier.add(url.reveal())
    title, body = summary(orjson.loads(event))
    if not notifier.notify(title=title, body=body):
        raise SinkUnavailable(f"apprise could not notify every URL of sink {sink.name}")
    return f"notified {len(sink.urls)} URL(s)"
