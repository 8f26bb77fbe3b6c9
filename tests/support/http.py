"""POST to a test receiver and keep what the assertions look at."""

from __future__ import annotations

import asyncio
import io
from dataclasses import dataclass
from typing import Any

from tests.conftest import Receiver
from tests.support.builders import callback, encode

EVENTS = "/v1/events"


@dataclass(frozen=True)
class Answer:
    status: int
    body: dict[str, Any]
    challenge: str | None

    @property
    def error(self) -> tuple[int, str | None]:
        return self.status, self.body.get("error")


async def post(
    receiver: Receiver, headers: dict[str, str], body: bytes | None = None, path: str = EVENTS
) -> Answer:
    """POST `body` (default: a fresh build event) as JSON with `headers`."""
    data = encode(callback()) if body is None else body
    headers = {"Content-Type": "application/json"} | headers
    # A BytesIO, as aiohttp asks for large bodies; it still sends Content-Length.
    async with receiver.http.post(
        receiver.at(path), data=io.BytesIO(data), headers=headers
    ) as resp:
        return Answer(resp.status, await resp.json(), resp.headers.get("WWW-Authenticate"))


RAW_TIMEOUT_S = 10.0  # seconds for the receiver to answer a raw request and close


async def exchange_raw(receiver: Receiver, request: bytes) -> bytes:
    """Send `request` as bytes on a fresh connection (for what aiohttp's client won't send)
    and return everything the receiver wrote back before closing."""
    reader, writer = await asyncio.open_connection(receiver.server.host, receiver.server.port)
    try:
        writer.write(request)
        async with asyncio.timeout(RAW_TIMEOUT_S):
            return await reader.read()
    finally:
        writer.close()
