"""Raw HTTP/1.1 over a socket, for what well-behaved clients never do: stall, trickle, hold a
body back, flood headers, or wait for `100 Continue`; and the bodies attackers send."""

from __future__ import annotations

import asyncio
import contextlib
import zlib
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from functools import cache

from tests.support.http import RawAnswer, parse_answer

# Seconds a test waits for a receiver to answer or close: a bound that keeps a broken receiver
# from hanging the test, far above the short timeouts the tests configure.
GUARD_S = 20.0
CHUNK = 1 << 20  # bytes of zeros compressed at a time


@cache
def gzip_bomb(inflated: int) -> bytes:
    """`inflated` bytes of zeros, gzip-compressed (about a thousandth of the size)."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    zeros = bytes(CHUNK)
    parts = [compressor.compress(zeros) for _ in range(inflated // CHUNK)]
    return b"".join(parts) + compressor.flush()


def request_head(
    method: str, path: str, headers: Mapping[str, str] = {}, *, host: str = "tuxhook"
) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


class RawConnection:
    """One TCP connection to a receiver, written and read byte by byte as a test wishes."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    async def send(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()

    async def read_some(self, n: int = 65536) -> bytes:
        async with asyncio.timeout(GUARD_S):
            return await self.reader.read(n)

    async def answer(self) -> RawAnswer:
        """The next answer, once its head and its Content-Length of body have arrived."""
        async with asyncio.timeout(GUARD_S):
            head = await self.reader.readuntil(b"\r\n\r\n")
            if head.startswith(b"HTTP/1.1 100 "):
                head += await self.reader.readuntil(b"\r\n\r\n")
            length = int(parse_answer(head).headers.get("content-length", "0"))
            return parse_answer(head + await self.reader.readexactly(length))

    async def closed_by_peer(self) -> bytes:
        """Everything the receiver sends until it closes the connection (EOF or reset)."""
        received = b""
        async with asyncio.timeout(GUARD_S):
            try:
                while chunk := await self.reader.read(65536):
                    received += chunk
            except ConnectionResetError:
                pass
        return received

    async def close(self) -> None:
        self.writer.close()
        with contextlib.suppress(ConnectionError):
            await self.writer.wait_closed()


@asynccontextmanager
async def connected(port: int) -> AsyncIterator[RawConnection]:
    """A raw connection to 127.0.0.1:port, closed when the block ends."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    conn = RawConnection(reader, writer)
    try:
        yield conn
    finally:
        await conn.close()
