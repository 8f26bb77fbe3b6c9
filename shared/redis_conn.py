"""Redis connections with short timeouts, so an outage is an error within a second, not a hang."""

from __future__ import annotations

from redis import Redis
from redis.asyncio import Redis as AsyncRedis
from redis.asyncio.retry import Retry as AsyncRetry
from redis.backoff import NoBackoff
from redis.retry import Retry

from shared.constants import REDIS_CONNECT_TIMEOUT_S, REDIS_SOCKET_TIMEOUT_S


def connect(url: str, *, socket_timeout: float | None = REDIS_SOCKET_TIMEOUT_S) -> Redis:
    """A client that retries once at once (a pooled socket may be stale after a restart).

    Workers pass socket_timeout=None: RQ blocks on BLPOP for longer than any short timeout.
    """
    return Redis.from_url(
        url,
        socket_connect_timeout=REDIS_CONNECT_TIMEOUT_S,
        socket_timeout=socket_timeout,
        retry=Retry(NoBackoff(), 1),
        health_check_interval=30,
    )


def connect_async(url: str) -> AsyncRedis:
    """The asyncio twin of `connect`, for the receiver's event loop."""
    return AsyncRedis.from_url(
        url,
        socket_connect_timeout=REDIS_CONNECT_TIMEOUT_S,
        socket_timeout=REDIS_SOCKET_TIMEOUT_S,
        retry=AsyncRetry(NoBackoff(), 1),
        health_check_interval=30,
    )
