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


def _at(side: dict[str, Any]) -> str:
    sha = side.get("git_sha")
    return str(side.get("git_describe") or (sha[:12] if isinstance(sha, str) else None) or "-")


def transition_summary(event: dict[str, Any]) -> tuple[str, str]:
    """(title, body) of a `regression`, `fix` or `superseded` event."""
    t = event.get("regression") or {}
    before, after, env = t.get("before") or {}, t.get("after") or {}, t.get("environment") or {}
    what = str(t.get("type"))
    if event.get("type") == "superseded":
        what = f"{what} withdrawn"
    title = f"tuxhook: {t.get('kind')} {what}: {env.get('project') or '-'}"
    where = " ".join(str(env[k]) for k in ("device", "target_arch", "toolchain") if env.get(k))
    lines = [
        f"{t.get('test')}: {before.get('result')} -> {after.get('result')} on {where or '-'}",
        f"before: {before.get('uid')} at {_at(before)}",
        f"after: {after.get('uid')} at {_at(after)}",
    ]
    if event.get("type") == "superseded":
        lines.append("a run stored late changed the history: this no longer stands")
    if event.get("url"):
        lines.append(str(event["url"]))
    return title, "\n".join(lines)


def summary(event: dict[str, Any]) -> tuple[str, str]:
    """(title, body) for people."""
    if event.get("type") == "test":
        return "tuxhook: test notification", f"tuxhook reaches this sink. {event.get('url') or ''}"
    if event.get("regression") is not None:
        return transition_summary(event)
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
