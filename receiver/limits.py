"""What one receiver process holds for its clients, at most: connections, and body bytes.

Past TUXHOOK_MAX_CONNECTIONS a new connection is served by a `BusyProtocol`, which answers
503 busy and closes, instead of by aiohttp (receiver/aiohttp_internals.py). A body is read only
once its bytes fit in the `BodyBudget` of TUXHOOK_MAX_BUFFERED_BYTES, shared by every
connection; otherwise the request is answered 503 busy before a byte of it is read.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import orjson
from aiohttp import web

from shared.constants import LINGER_S, SERVER_NAME
from shared.errors import Busy, ConfigError


def _busy_answer() -> bytes:
    error = Busy("the receiver has as many connections open as it may; retry later")
    body = orjson.dumps(error.as_json())
    head = [
        "HTTP/1.1 503 Service Unavailable",
        "Content-Type: application/json; charset=utf-8",
        f"Content-Length: {len(body)}",
        *(f"{name}: {value}" for name, value in error.headers.items()),
        f"Server: {SERVER_NAME}",
        "Connection: close",
    ]
    return ("\r\n".join(head) + "\r\n\r\n").encode("ascii") + body


BUSY_ANSWER = _busy_answer()


class BusyProtocol(asyncio.Protocol):
    """A connection past the cap: answered at once, then closed once the sender has had
    LINGER_S to read the answer. What it sends meanwhile is discarded unread."""

    def __init__(self) -> None:
        self._closing: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        transport.write(BUSY_ANSWER)
        if transport.can_write_eof():
            transport.write_eof()
        self._closing = asyncio.get_running_loop().call_later(LINGER_S, transport.close)

    def data_received(self, data: bytes) -> None:
        pass

    def eof_received(self) -> bool:
        return False  # the sender is done: close

    def connection_lost(self, exc: Exception | None) -> None:
        if self._closing is not None:
            self._closing.cancel()


class BodyBudget:
    """Bytes of request bodies being read or held, across every connection of the process;
    and, for /metrics, the bytes read and inflated so far."""

    def __init__(
        self, limit: int, max_body_bytes: int, on_refused: Callable[[], None] = lambda: None
    ) -> None:
        if limit < max_body_bytes:
            raise ConfigError(
                f"TUXHOOK_MAX_BUFFERED_BYTES ({limit}) is less than one body may be"
                f" (TUXHOOK_MAX_BODY_BYTES, {max_body_bytes}): no large body could ever be read"
            )
        self.limit = limit
        self.reserved = 0
        self.read_bytes = 0
        self.decoded_bytes = 0
        self._on_refused = on_refused
        self._held: dict[int, int] = {}  # by id() of the request that holds them

    def reserve(self, request: web.Request, size: int) -> None:
        """Hold `size` bytes for `request` until `release`; 503 busy if they do not fit."""
        if self.reserved + size > self.limit:
            self._on_refused()
            raise Busy("the receiver holds as many request bodies as it may; retry later")
        self.reserved += size
        key = id(request)
        self._held[key] = self._held.get(key, 0) + size

    def release(self, request: web.Request) -> None:
        """Give back what `request` held, once it has been answered (nothing if it held none)."""
        self.reserved -= self._held.pop(id(request), 0)

    def count_decoded(self, size: int) -> None:
        self.decoded_bytes += size
