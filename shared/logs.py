"""structlog set-up: JSON lines, context variables first, secrets never printed."""

from __future__ import annotations

import logging
import sys
from collections.abc import MutableMapping
from typing import Any

import orjson
import structlog

# Event keys whose values are secrets; a log line shows them redacted, whatever the caller passed.
SECRET_KEYS = frozenset(
    {"signature", "authorization", "token", "access_key", "key", "password", "jwt", "credential"}
)


def redact_secrets(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    for name in SECRET_KEYS.intersection(event):
        event[name] = "[redacted]"
    return event


def configure_logging(level: str = "INFO") -> None:
    """JSON logs on stderr for tuxhook and for the libraries it drives (aiohttp, RQ)."""
    numeric = logging.getLevelName(level)
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        redact_secrets,
    ]
    structlog.configure(
        processors=[
            *shared,
            structlog.processors.format_exc_info,
            # structlog's fast path (its performance guide): orjson, and bytes written as such.
            structlog.processors.JSONRenderer(serializer=orjson.dumps),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        # One write() per line: print() writes the line and its newline separately, which an
        # unbuffered stderr (PYTHONUNBUFFERED) turns into two syscalls, so the lines of several
        # processes on one stream (receiver --processes, worker --pool) would interleave.
        logger_factory=structlog.BytesLoggerFactory(sys.stderr.buffer),
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.JSONRenderer(),
            ],
            foreign_pre_chain=[*shared, structlog.stdlib.add_logger_name],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(numeric)
    # One canonical line per request is ours; aiohttp's access log would double it.
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
