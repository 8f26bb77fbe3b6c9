"""Notify files (TUXHOOK_NOTIFY_FILE) for tests: sinks and rules as TOML text."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from tests.support.sinks import new_webhook_secret

SECRET = new_webhook_secret(1)
OLD_SECRET = new_webhook_secret(2)
KCIDB_TOKEN = "kcidb-token-0123456789abcdef"


def webhook_sink(
    name: str, url: str, secrets: Sequence[str] = (SECRET,), timeout_s: float | None = None
) -> str:
    timeout = "" if timeout_s is None else f"timeout_seconds = {timeout_s}\n"
    return (
        f'[sinks.{name}]\ntype = "webhook"\nurl = "{url}"\nsecrets = {json.dumps(list(secrets))}\n'
        + timeout
    )


def apprise_sink(name: str, *urls: str, timeout_s: float | None = None) -> str:
    timeout = "" if timeout_s is None else f"timeout_seconds = {timeout_s}\n"
    return f'[sinks.{name}]\ntype = "apprise"\nurls = {json.dumps(list(urls))}\n' + timeout


def kcidb_sink(name: str, url: str, token: str = KCIDB_TOKEN, origin: str = "tuxhook_test") -> str:
    return (
        f'[sinks.{name}]\ntype = "kcidb"\nurl = "{url}"\ntoken = "{token}"\norigin = "{origin}"\n'
    )


def rule(events: Sequence[str], sinks: Sequence[str], projects: Sequence[str] = ("*",)) -> str:
    return (
        f"[[rules]]\nevents = {json.dumps(list(events))}\nsinks = {json.dumps(list(sinks))}\n"
        f"projects = {json.dumps(list(projects))}\n"
    )


def outbox(sweep_grace_s: int) -> str:
    return f"[outbox]\nsweep_grace_seconds = {sweep_grace_s}\n"


def write_notify_file(folder: Path, *parts: str) -> Path:
    path = folder / "notify.toml"
    path.write_text("\n".join(parts), encoding="utf-8")
    return path
