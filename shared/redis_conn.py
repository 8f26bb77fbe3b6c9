"""Redis connections with short timeouts, so an outage is an error within a second, not a hang.

A command is retried once, at once, when its connection broke (a pooled socket left stale by a
Redis restart), never when Redis did not answer in time: a Redis that stalls (SIGSTOP, a swap
storm, a long fork) would otherwise cost each command twice the timeout before its error.
"""

from __future__ import annotations

from redis import Redis
from redis.asyncio import Redis as AsyncRedis
from redis.asyncio.retry import Retry as AsyncRetry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.retry import Retry

from shared.constants import REDIS_CONNECT_TIMEOUT_S, REDIS_SOCKET_TIMEOUT_S

# What a retry may cure: a broken connection. A timeout (redis.exceptions.TimeoutError) is not one.
_RETRIED = (RedisConnectionError,)


def connect(url: str, *, socket_timeout: float | None = REDIS_SOCKET_TIMEOUT_S) -> Redis:
    """A client that retries once at once when its connection broke.

    Workers pass socket_timeout=None: RQ blocks on BLPOP for longer than any short timeout.
    """
    return Redis.from_url(
        url,
        socket_connect_timeout=REDIS_CONNECT_TIMEOUT_S,
        socket_timeout=socket_timeout,
        retry=Retry(NoBackoff(), 1, supported_errors=_RETRIED),
        health_check_interval=30,
    )


def connect_async(url: str) -> AsyncRedis:
    """The asyncio twin of `connect`, for the receiver's event loop."""
    return AsyncRedis.from_url(
        url,
        socket_connect_timeout=REDIS_CONNECT_TIMEOUT_S,
        socket_timeout=REDIS_SOCKET_TIMEOUT_S,
        retry=AsyncRetry(NoBackoff(), 1, supported_errors=_RETRIED),
        health_check_interval=30,
    )
