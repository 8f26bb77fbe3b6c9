"""The notify file (TUXHOOK_NOTIFY_FILE): sinks, the rules that route events to them, the outbox.

Read once at start-up into frozen dataclasses, like the users file: every mistake, including a
key the file should not have, a rule naming a sink that is not there and an apprise URL apprise
cannot parse, is one ConfigError naming the file and the key. Secrets (webhook secrets, apprise
URLs, the KCIDB token) are `Secret`s, and a sink shows itself masked (`target`).
"""

from __future__ import annotations

import base64
import binascii
import fnmatch
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from shared.constants import (
    EVENT_TYPES,
    NOTIFY_REDRIVE_MAX_AGE_DAYS,
    NOTIFY_RETENTION_DAYS,
    NOTIFY_SWEEP_GRACE_S,
    NOTIFY_TIMEOUT_MAX_S,
    NOTIFY_TIMEOUT_S,
    SINK_TYPES,
)
from shared.errors import ConfigError
from shared.settings import Secret, mask_url
from shared.toml_table import Table, load_toml_file

# A sink's name is a label value of /metrics and part of an RQ job id.
_SINK_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,39}")
_ORIGIN = re.compile(r"[A-Za-z0-9_]{1,64}")


@dataclass(frozen=True)
class WebhookSink:
    name: str
    # Shown only through target(): a query may carry a token.
    url: str = field(repr=False)
    # Each delivery is signed with every one: several while a secret is rotated.
    secrets: tuple[Secret, ...] = field(repr=False)
    # Seconds to connect, and to wait for each read of the answer (`timeout_seconds`).
    timeout_s: float = NOTIFY_TIMEOUT_S
    type: str = "webhook"

    def target(self) -> str:
        return mask_url(self.url)


@dataclass(frozen=True)
class AppriseSink:
    name: str
    urls: tuple[Secret, ...] = field(repr=False)
    # Seconds to connect, and to wait for each read of the answer (`timeout_seconds`).
    timeout_s: float = NOTIFY_TIMEOUT_S
    type: str = "apprise"

    def target(self) -> str:
        # An apprise URL is a secret whole (a Slack or Matrix token sits in its path): its
        # scheme says what it is, and no more is shown.
        return ", ".join(f"{u.reveal().partition('://')[0]}://***" for u in self.urls)


@dataclass(frozen=True)
class KcidbSink:
    name: str
    # The submission URL without credentials; the token travels as `Authorization: Bearer`.
    url: str = field(repr=False)
    token: Secret = field(repr=False)
    origin: str
    # Seconds to connect, and to wait for each read of the answer (`timeout_seconds`).
    timeout_s: float = NOTIFY_TIMEOUT_S
    type: str = "kcidb"

    def target(self) -> str:
        return f"{mask_url(self.url)} (origin {self.origin})"


Sink = WebhookSink | AppriseSink | KcidbSink


@dataclass(frozen=True)
class Rule:
    events: frozenset[str]
    sinks: tuple[str, ...]
    # Globs over the outcome's project, as `fnmatch` reads them; a project-less outcome is "".
    projects: tuple[str, ...] = ("*",)

    def matches(self, event_type: str, project: str | None) -> bool:
        name = project or ""
        return event_type in self.events and any(
            fnmatch.fnmatchcase(name, p) for p in self.projects
        )


@dataclass(frozen=True)
class NotifyConfig:
    sinks: Mapping[str, Sink] = field(default_factory=dict)
    rules: tuple[Rule, ...] = ()
    # Days an undelivered event is offered again by the daily re-drive.
    redrive_max_age_days: int = NOTIFY_REDRIVE_MAX_AGE_DAYS
    # Days a delivered event stays in the outbox.
    retention_days: int = NOTIFY_RETENTION_DAYS
    # Seconds an event may wait un-handed before maintenance's sweep hands it over.
    sweep_grace_s: int = NOTIFY_SWEEP_GRACE_S

    def sinks_for(self, event_type: str, project: str | None) -> tuple[str, ...]:
        """The sinks an event goes to, each once, in the order the rules name them."""
        names = (s for r in self.rules if r.matches(event_type, project) for s in r.sinks)
        return tuple(dict.fromkeys(names))

    def kcidb_sinks(self) -> tuple[str, ...]:
        return tuple(name for name, sink in self.sinks.items() if isinstance(sink, KcidbSink))


NO_NOTIFICATIONS = NotifyConfig()


def load_notify_file(path: Path | None) -> NotifyConfig:
    """Parse and check the notify file (none: no notifications); ConfigError names the file."""
    if path is None:
        return NO_NOTIFICATIONS
    return load_toml_file(path, "notify file", parse_notify_config)


def parse_notify_config(root: Table) -> NotifyConfig:
    root.only("sinks", "rules", "outbox")
    sinks = {name: _sink(name, table) for name, table in root.subtables("sinks").items()}
    outbox = root.table("outbox").only(
        "redrive_max_age_days", "retention_days", "sweep_grace_seconds"
    )
    return NotifyConfig(
        sinks=sinks,
        rules=tuple(_rule(i, t, sinks) for i, t in enumerate(_rule_tables(root))),
        redrive_max_age_days=outbox.positive_int(
            "redrive_max_age_days", NOTIFY_REDRIVE_MAX_AGE_DAYS
        ),
        retention_days=outbox.positive_int("retention_days", NOTIFY_RETENTION_DAYS),
        sweep_grace_s=outbox.positive_int("sweep_grace_seconds", NOTIFY_SWEEP_GRACE_S),
    )


def _rule_tables(root: Table) -> list[Table]:
    rules = root.data.get("rules", [])
    if not isinstance(rules, list):
        raise ConfigError("rules must be an array of tables: [[rules]]")
    return [Table(rule, f"rules[{i}]") for i, rule in enumerate(rules)]


def _rule(index: int, table: Table, sinks: Mapping[str, Sink]) -> Rule:
    table.only("events", "projects", "sinks")
    events = table.texts("events")
    unknown = sorted(set(events) - set(EVENT_TYPES))
    if unknown or not events:
        raise ConfigError(
            f"{table.name('events')}: {', '.join(unknown) or 'nothing'} is not an event; "
            f"events: {', '.join(EVENT_TYPES)}"
        )
    names = table.texts("sinks")
    missing = [n for n in names if n not in sinks]
    if missing or not names:
        raise ConfigError(
            f"{table.name('sinks')} names {', '.join(missing) or 'no sink'}, not a sink in [sinks]"
        )
    return Rule(frozenset(events), names, table.texts("projects", ("*",)))


def _sink(name: str, table: Table) -> Sink:
    if not _SINK_NAME.fullmatch(name):
        raise ConfigError(
            f"sink name {name!r}: letters, digits, '_' and '-', at most 40, a letter or digit first"
        )
    kind = table.text("type")
    if kind not in SINK_TYPES:
        raise ConfigError(
            f"{table.name('type')} must be one of {', '.join(SINK_TYPES)}, not {kind!r}"
        )
    if kind == "webhook":
        return _webhook(name, table)
    if kind == "apprise":
        return _apprise(name, table)
    return _kcidb(name, table)


def _timeout(table: Table) -> float:
    return table.seconds("timeout_seconds", NOTIFY_TIMEOUT_S, NOTIFY_TIMEOUT_MAX_S)


def _http_url(table: Table, key: str) -> str:
    url = table.required_text(key)
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"{table.name(key)} must be an http(s) URL")
    return url


def _webhook(name: str, table: Table) -> WebhookSink:
    table.only("type", "url", "secrets", "timeout_seconds")
    secrets = table.texts("secrets")
    if not secrets:
        raise ConfigError(f"{table.name('secrets')} must list at least one secret")
    for secret in secrets:
        _check_webhook_secret(table.name("secrets"), secret)
    secret_list = tuple(Secret(s) for s in secrets)
    return WebhookSink(name, _http_url(table, "url"), secret_list, _timeout(table))


def _check_webhook_secret(where: str, secret: str) -> None:
    # As Standard Webhooks writes them: whsec_ and base64 of 24 to 64 random bytes. The
    # message never quotes the secret.
    raw = secret.removeprefix("whsec_")
    try:
        key = base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError) as e:
        raise ConfigError(f"{where}: a secret is not whsec_ followed by base64") from e
    if not 24 <= len(key) <= 64:
        raise ConfigError(f"{where}: a secret must hold 24 to 64 bytes, as base64")


def _apprise(name: str, table: Table) -> AppriseSink:
    table.only("type", "urls", "timeout_seconds")
    urls = table.texts("urls")
    if not urls:
        raise ConfigError(f"{table.name('urls')} must list at least one apprise URL")
    for index, url in enumerate(urls):
        if not _apprise_can_use(url):
            raise ConfigError(
                f"{table.name('urls')}[{index}] ({url.partition('://')[0]}://...) is not a URL "
                "apprise can use"
            )
    return AppriseSink(name, tuple(Secret(u) for u in urls), _timeout(table))


def _apprise_can_use(url: str) -> bool:
    import apprise  # only where a notify file names an apprise sink: a heavy import

    # Apprise logs why it cannot use a URL, over lines of its own: the one line is ours.
    logger = logging.getLogger("apprise")
    level, logger.level = logger.level, logging.CRITICAL + 1
    try:
        return apprise.Apprise.instantiate(url) is not None
    finally:
        logger.setLevel(level)


def _kcidb(name: str, table: Table) -> KcidbSink:
    table.only("type", "url", "token", "origin", "timeout_seconds")
    url = _http_url(table, "url")
    parts = urlsplit(url)
    # KernelCI's KCIDB_REST convention, https://TOKEN@host/submit, or a separate `token`.
    in_url, token = parts.username, table.text("token")
    if in_url and token:
        raise ConfigError(f"{table.name('url')} holds a token and so does {table.name('token')}")
    if not (in_url or token):
        raise ConfigError(f"{table.name('token')} is required (or https://TOKEN@host/submit)")
    origin = table.required_text("origin")
    if not _ORIGIN.fullmatch(origin):
        raise ConfigError(f"{table.name('origin')} must be letters, digits and '_' (KCIDB's)")
    netloc = parts.netloc.rpartition("@")[2]
    bare = urlunsplit(parts._replace(netloc=netloc))
    return KcidbSink(name, bare, Secret(token or str(in_url)), origin, _timeout(table))
