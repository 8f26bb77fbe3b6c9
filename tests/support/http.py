"""POST to a test receiver and keep what the assertions look at."""

from __future__ import annotations

import asyncio
import io
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp
from multidict import CIMultiDict

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


@dataclass(frozen=True)
class RawAnswer:
    """An HTTP/1.1 answer read off a socket: status, headers (names lower-cased), body."""

    status: int
    headers: dict[str, str]
    body: bytes
    invited: bool = False  # a `100 Continue` came first

    def json(self) -> Any:
        return json.loads(self.body)


CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"


def parse_answer(raw: bytes) -> RawAnswer:
    """The answer in `raw` after any `100 Continue`, its body up to Content-Length."""
    head, _, rest = raw.removeprefix(CONTINUE).partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, _, v in (ln.partition(":") for ln in lines)}
    length = int(headers.get("content-length", len(rest)))
    status = int(status_line.split(" ")[1])
    return RawAnswer(status, headers, rest[:length], raw.startswith(CONTINUE))


@dataclass(frozen=True)
class Fetched:
    """One answer of a one-off request: status, headers (case-insensitive), body."""

    status: int
    headers: CIMultiDict[str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


async def fetch(
    method: str, url: str, *, headers: Mapping[str, str] | None = None, data: Any = None
) -> Fetched:
    """`method url` on a connection of its own."""
    async with (
        aiohttp.ClientSession() as http,
        http.request(method, url, headers=headers, data=data) as resp,
    ):
        return Fetched(resp.status, CIMultiDict(resp.headers), await resp.read())
