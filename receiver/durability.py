"""How durable Redis's acknowledgement is, said once when the receiver starts.

The receiver answers 2xx once Redis has acknowledged a callback's job, so "every 2xx is
stored" holds only as far as Redis keeps what it acknowledged (docs/reliability.md):
`appendonly yes` with `appendfsync always` writes and fsyncs before it replies, and survives a
crash of Redis or of the host. Anything less can lose acknowledged jobs, so the receiver says
so at start-up rather than leaving it to be found out after a crash.
"""

from __future__ import annotations

from collections.abc import Mapping

import structlog
from redis.asyncio import Redis as AsyncRedis
from redis.exceptions import RedisError

log = structlog.get_logger("tuxhook.receiver")


def risk(config: Mapping[str, str]) -> str | None:
    """What a crash can lose of what Redis acknowledged, with this configuration; None: nothing."""
    if config.get("appendonly") != "yes":
        return "the append-only file is off: a Redis restart loses the queued callbacks"
    fsync = config.get("appendfsync")
    if fsync == "everysec":
        return (
            "appendfsync everysec: a crash of the host loses the last second or two of accepted"
            " callbacks, and so can a crash of Redis while its disk is slow"
        )
    if fsync != "always":
        return f"appendfsync {fsync}: a crash of the host loses what the OS had not yet written"
    return None


def _text(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


async def report_durability(redis: AsyncRedis) -> None:
    """Log whether Redis's persistence keeps every acknowledged job; a warning if not."""
    try:
        raw = await redis.config_get("append*")
    except RedisError as e:
        # Redis is down (the receiver answers 503 until it is back), or CONFIG is disabled,
        # as managed services often do: nothing can be said.
        log.info("redis_durability_unknown", reason=type(e).__name__)
        return
    config = {_text(k): _text(v) for k, v in raw.items()}
    shown = {"appendonly": config.get("appendonly"), "appendfsync": config.get("appendfsync")}
    what = risk(config)
    if what is None:
        log.info("redis_durable", **shown)
    else:
        log.warning("redis_not_durable", risk=what, **shown)
