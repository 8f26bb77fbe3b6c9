"""Content-Encoding, decoded by the receiver itself and bounded while it inflates.

aiohttp's own decoding is off (`auto_decompress=False`, receiver/app.py): it would inflate a
body whether or not a handler reads it, so a gzip bomb sent to a route that reads nothing cost
seconds of CPU. Here, only a handler that reads its body decodes it, at most `limit` bytes.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable

from aiohttp import hdrs, web

from shared.errors import BadBody, PayloadTooLarge, UnsupportedMediaType

IDENTITY = ("", "identity")
GZIP = ("gzip", "x-gzip")
DEFLATE = "deflate"
# zlib's wbits: a gzip stream; a zlib stream; raw deflate (RFC 9110 says "deflate" is zlib, but
# senders use both, as aiohttp accepts both).
GZIP_WBITS, ZLIB_WBITS, RAW_WBITS = 16 + zlib.MAX_WBITS, zlib.MAX_WBITS, -zlib.MAX_WBITS


def too_large(limit: int) -> PayloadTooLarge:
    return PayloadTooLarge(f"body is larger than {limit} bytes")


def content_encoding(request: web.Request) -> str:
    """The body's one encoding, lower-case ("" for none); 415 for any other."""
    if hdrs.CONTENT_ENCODING not in request.headers:
        return ""
    values = request.headers.getall(hdrs.CONTENT_ENCODING)
    encoding = ",".join(values).strip().lower()
    if encoding not in (*IDENTITY, *GZIP, DEFLATE):
        raise UnsupportedMediaType(
            f"Content-Encoding {encoding[:32]!r} is not supported: send gzip, deflate or none"
        )
    return "" if encoding in IDENTITY else encoding


class Decoder:
    """Inflates a gzip or deflate body chunk by chunk, never past `limit` bytes."""

    def __init__(self, encoding: str, limit: int, counted: Callable[[int], None]) -> None:
        self.encoding = encoding
        self.limit = limit
        self.produced = 0
        self._counted = counted
        self._zlib: zlib._Decompress | None = None

    def _start(self, first: bytes) -> zlib._Decompress:
        if self.encoding in GZIP:
            return zlib.decompressobj(GZIP_WBITS)
        # A zlib stream's first byte names the deflate method (8) in its low bits.
        return zlib.decompressobj(ZLIB_WBITS if first[0] & 0x0F == 8 else RAW_WBITS)

    def feed(self, chunk: bytes) -> bytes:
        """The bytes `chunk` inflates to; 413 once they pass the limit."""
        if not chunk:
            return b""
        if self._zlib is None:
            self._zlib = self._start(chunk)
        out = bytearray()
        data = chunk
        while data:
            # One byte past what may still be produced tells "over the limit" from "at it".
            piece = self._inflate(data, self.limit - self.produced + 1)
            self.produced += len(piece)
            self._counted(len(piece))
            if self.produced > self.limit:
                raise too_large(self.limit)
            out += piece
            data = self._zlib.unconsumed_tail
        return bytes(out)

    def _inflate(self, data: bytes, max_length: int) -> bytes:
        assert self._zlib is not None
        if self._zlib.eof:
            raise BadBody(f"data after the end of the {self.encoding} stream")
        try:
            return self._zlib.decompress(data, max_length)
        except zlib.error as e:
            raise BadBody(f"body could not be decoded as {self.encoding}") from e

    def finish(self) -> None:
        """The stream must have ended, and with nothing after it."""
        if self._zlib is None or not self._zlib.eof:
            raise BadBody(f"body is not a complete {self.encoding} stream")
        if self._zlib.unused_data:
            raise BadBody(f"data after the end of the {self.encoding} stream")
