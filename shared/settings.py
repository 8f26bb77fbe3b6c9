"""The one Settings object, built from the environment at the entry point and passed down."""

from __future__ import annotations

import dataclasses
import hmac
import math
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

from shared.constants import (
    BODY_TIMEOUT_S,
    HEADER_TIMEOUT_S,
    JOB_TIMEOUT_S,
    MAX_BUFFERED_BODY_BYTES,
    MAX_CONNECTIONS,
    STRANDED_JOB_GRACE_S,
    WORKER_MAINTENANCE_INTERVAL_S,
)
from shared.errors import ConfigError

PREFIX = "TUXHOOK_"
# TUXHOOK_READ_ACCESS: "users", reads need a user with the read role; "open", anyone may read.
READ_ACCESS_MODES = ("users", "open")
DEFAULT_DATABASE_URL = "sqlite:///var/tuxhook.sqlite3"


class Secret:
    """A secret string that never shows itself: not a `str` (as Starlette's Secret is not), so
    `str()`, `repr()`, f-strings and structlog's JSON show a mask, and orjson refuses it. Read
    the value with .reveal()."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('**********')"

    def __str__(self) -> str:
        return "**********"

    def __bool__(self) -> bool:
        return bool(self._value)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Secret):
            return NotImplemented
        return hmac.compare_digest(self._value.encode("utf-8"), other._value.encode("utf-8"))

    def __hash__(self) -> int:
        return hash((Secret, self._value))


def mask_url(url: str) -> str:
    """The URL with its password and its query's values replaced, for logs and reprs: a keys
    URL or an API URL may carry a token in either."""
    parts = urlsplit(url)
    if parts.password is None and not parts.query:
        return url
    netloc = parts.netloc
    if parts.password is not None:
        netloc = netloc.replace(f":{parts.password}@", ":***@", 1)
    query = "&".join(
        f"{name}=***" if sep else name
        for name, sep, _ in (pair.partition("=") for pair in parts.query.split("&") if pair)
    )
    return urlunsplit(parts._replace(netloc=netloc, query=query))


def scrub_url_secrets(text: str, url: str) -> str:
    """`text` (an error's message, say) without the password or query values of `url`, which
    a library may have quoted in it."""
    parts = urlsplit(url)
    secrets = [parts.password or ""] + [
        v for _, _, v in (p.partition("=") for p in parts.query.split("&"))
    ]
    for secret in {s for raw in secrets for s in (raw, unquote(raw)) if s}:
        text = text.replace(secret, "***")
    return text


# A parser's ValueError says what is wrong with the value; the field's `expects` (below) says
# what would be right. Numbers are repeated in the message; URLs, which may hold a password, not.


def _whole(raw: str) -> int:
    # isascii: str.isdigit() also accepts digits such as '²', which int() refuses.
    if not (raw.isascii() and raw.isdigit()):
        raise ValueError(f"{raw!r} is not a whole number")
    return int(raw)


def _positive_int(raw: str) -> int:
    value = _whole(raw)
    if value <= 0:
        raise ValueError(f"{raw!r} is not a positive integer")
    return value


def _positive_float(raw: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value > 0):
        raise ValueError(f"{raw!r} is not a positive number")
    return value


def _port(raw: str) -> int:
    value = _whole(raw)
    if not 0 <= value <= 65535:
        raise ValueError(f"{raw!r} is not a port number")
    return value


def _log_level(raw: str) -> str:
    level = raw.upper()
    if level not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
        raise ValueError("must be one of DEBUG, INFO, WARNING, ERROR")
    return level


def _url(raw: str) -> str:
    if not urlsplit(raw).scheme or "://" not in raw:
        raise ValueError("not a URL with a scheme")
    return raw


# The stores tuxhook ships a driver for. A bare `postgresql://` means psycopg 3 too.
DATABASE_SCHEMES = ("sqlite:///", "postgresql+psycopg://", "postgresql://")


def _database_url(raw: str) -> str:
    if not raw.startswith(DATABASE_SCHEMES):
        scheme, sep, _ = raw.partition("://")
        if sep and scheme.replace("+", "").isalnum():
            raise ValueError(f"{scheme}:// is not a store tuxhook supports")
        raise ValueError("not the URL of a store tuxhook supports")
    return raw


def _read_access(raw: str) -> str:
    if raw not in READ_ACCESS_MODES:
        raise ValueError(f"{raw!r} is not a read access mode")
    return raw


def _path(raw: str) -> Path:
    return Path(raw)


# The settings these parse are URLs, masked in every repr: they may hold a password or a token.
_URL_PARSERS = (_url, _database_url)


def _secret(raw: str) -> Secret:
    return Secret(raw)


def _env(
    name: str,
    parse: Callable[[str], Any],
    default: Any = None,
    *,
    expects: str | None = None,
    **kw: Any,
) -> Any:
    """A setting read from TUXHOOK_<name>; `expects` says what a good value looks like."""
    metadata = {"env": PREFIX + name, "parse": parse, "expects": expects}
    return field(default=default, metadata=metadata, **kw)


_SECONDS = "a number of seconds above 0, like {}"
_WHOLE_SECONDS = "a whole number of seconds above 0, like {}"


@dataclass(frozen=True)
class Settings:
    """Every setting of tuxhook; `from_env` is the only place that reads the environment."""

    redis_url: str = _env(
        "REDIS_URL",
        _url,
        "redis://127.0.0.1:6379/0",
        expects="a URL like redis://127.0.0.1:6379/0",
    )
    database_url: str = _env(
        "DATABASE_URL",
        _database_url,
        DEFAULT_DATABASE_URL,
        expects="sqlite:///PATH or postgresql+psycopg://USER@HOST/DATABASE (or postgresql://)",
    )
    tuxsuite_keys_file: Path | None = _env("TUXSUITE_KEYS_FILE", _path)
    tuxsuite_keys_url: str | None = _env(
        "TUXSUITE_KEYS_URL", _url, expects="a URL like https://HOST/v1/groups/G/projects/P/keys"
    )
    tuxsuite_token: Secret | None = _env("TUXSUITE_TOKEN", _secret)
    # Where a finished test's per-case results are fetched from (worker/enrich.py); none: the
    # callbacks alone. The token above goes with each request, as with the keys URL.
    tuxsuite_api_url: str | None = _env(
        "TUXSUITE_API_URL", _url, expects="a URL like https://tuxapi.tuxsuite.com"
    )
    users_file: Path | None = _env("USERS_FILE", _path)
    access_key: Secret | None = _env("ACCESS_KEY", _secret)
    max_body_bytes: int = _env(
        "MAX_BODY_BYTES",
        _positive_int,
        1_048_576,
        expects="an integer number of bytes, like 1048576",
    )
    # Who may read outcomes, pages and /metrics (docs/auth.md).
    read_access: str = _env(
        "READ_ACCESS", _read_access, "users", expects=" or ".join(READ_ACCESS_MODES)
    )
    # Bounds on what one receiver process holds for its clients (docs/operations.md).
    max_connections: int = _env(
        "MAX_CONNECTIONS",
        _positive_int,
        MAX_CONNECTIONS,
        expects=f"a whole number of connections, like {MAX_CONNECTIONS}",
    )
    max_buffered_bytes: int = _env(
        "MAX_BUFFERED_BYTES",
        _positive_int,
        MAX_BUFFERED_BODY_BYTES,
        expects=f"an integer number of bytes, like {MAX_BUFFERED_BODY_BYTES}",
    )
    header_timeout_s: float = _env(
        "HEADER_TIMEOUT", _positive_float, HEADER_TIMEOUT_S, expects=_SECONDS.format(10)
    )
    body_timeout_s: float = _env(
        "BODY_TIMEOUT", _positive_float, BODY_TIMEOUT_S, expects=_SECONDS.format(15)
    )
    host: str = _env("HOST", str, "127.0.0.1")
    port: int = _env("PORT", _port, 8080, expects="a port number from 0 to 65535, like 8080")
    receiver_processes: int = _env(
        "RECEIVER_PROCESSES", _positive_int, 1, expects="a whole number of processes, like 2"
    )
    log_level: str = _env("LOG_LEVEL", _log_level, "INFO")
    keys_refetch_interval_s: float = _env(
        "KEYS_REFETCH_INTERVAL", _positive_float, 30.0, expects=_SECONDS.format(30)
    )
    keys_max_age_s: float = _env(
        "KEYS_MAX_AGE", _positive_float, 3600.0, expects=_SECONDS.format(3600)
    )
    job_timeout_s: int = _env(
        "JOB_TIMEOUT", _positive_int, JOB_TIMEOUT_S, expects=_WHOLE_SECONDS.format(JOB_TIMEOUT_S)
    )
    worker_maintenance_interval_s: int = _env(
        "WORKER_MAINTENANCE_INTERVAL",
        _positive_int,
        WORKER_MAINTENANCE_INTERVAL_S,
        expects=_WHOLE_SECONDS.format(WORKER_MAINTENANCE_INTERVAL_S),
    )
    worker_job_monitoring_interval_s: int = _env(
        "WORKER_MONITORING_INTERVAL", _positive_int, 10, expects=_WHOLE_SECONDS.format(10)
    )
    stranded_job_grace_s: float = _env(
        "STRANDED_JOB_GRACE",
        _positive_float,
        float(STRANDED_JOB_GRACE_S),
        expects=_SECONDS.format(STRANDED_JOB_GRACE_S),
    )
    shutdown_timeout_s: float = _env(
        "SHUTDOWN_TIMEOUT", _positive_float, 30.0, expects=_SECONDS.format(30)
    )
    # Seconds a database write waits for a lock before the job fails and RQ retries it later.
    database_lock_timeout_s: float = _env(
        "DATABASE_LOCK_TIMEOUT", _positive_float, 10.0, expects=_SECONDS.format(10)
    )
    # Rules and sinks of notifications (docs/notifications.md); its secrets live in the file.
    notify_file: Path | None = _env("NOTIFY_FILE", _path)
    # Where people reach tuxhook: links in notifications; none without it.
    public_url: str | None = _env(
        "PUBLIC_URL", _url, expects="a URL like https://tuxhook.example.org"
    )

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Build from `environ` (default: os.environ); unknown TUXHOOK_* names are errors."""
        env = os.environ if environ is None else environ
        specs = {f.metadata["env"]: f for f in dataclasses.fields(cls)}
        unknown = sorted(k for k in env if k.startswith(PREFIX) and k not in specs)
        if unknown:
            raise ConfigError(f"unknown setting {', '.join(unknown)}")
        values = {}
        for name, spec in specs.items():
            raw = env.get(name, "")
            if raw.strip():
                values[spec.name] = _parse(name, spec.metadata, raw.strip())
        return cls(**values)

    def replace(self, **changes: Any) -> Settings:
        return dataclasses.replace(self, **changes)

    def __repr__(self) -> str:
        """Every setting, with URLs masked (mask_url) and secrets shown as Secret's mask."""
        shown = ", ".join(
            f"{f.name}={_shown(f.metadata['parse'], getattr(self, f.name))!r}"
            for f in dataclasses.fields(self)
        )
        return f"Settings({shown})"


def _shown(parse: Callable[[str], Any], value: Any) -> Any:
    return mask_url(value) if parse in _URL_PARSERS and value is not None else value


def _parse(name: str, metadata: Mapping[str, Any], raw: str) -> Any:
    try:
        return metadata["parse"](raw)
    except ValueError as e:
        expects = metadata.get("expects")
        raise ConfigError(f"{name}: {e}" + (f"; expected {expects}" if expects else "")) from e
