"""Request bodies: the media type, then the body itself, read only after every cheap check.

A handler checks what costs nothing first (its route and method are known; the media type, the
signature header's form or the credentials), then calls `read_body`, which checks the encoding
and the declared length, takes the body's bytes from the process's budget (503 busy if they do
not fit), invites the body if the sender waits for that (`Expect: 100-continue`), and reads it
within TUXHOOK_BODY_TIMEOUT, decoding it, bounded, as it streams.
"""

from __future__ import annotations

import asyncio

from aiohttp import web

from receiver.aiohttp_internals import send_continue
from receiver.content_encoding import Decoder, content_encoding, too_large
from receiver.state import state
from shared.errors import BadBody, RequestTimeout, UnsupportedMediaType

__all__ = ["check_media_type", "read_body", "too_large"]


def check_media_type(request: web.Request) -> None:
    """JSON or nothing: a sender that states another type gets 415."""
    if "Content-Type" not in request.headers:
        return
    mime, charset = _parsed_media_type(request)
    if mime != "application/json" and not (
        mime.startswith("application/") and mime.endswith("+json")
    ):
        raise UnsupportedMediaType(f"Content-Type must be application/json, not {mime[:64]!r}")
    if charset is not None and charset.lower().replace("_", "-") not in ("utf-8", "utf8"):
        raise UnsupportedMediaType(f"JSON must be UTF-8, not charset {charset[:32]!r}")


def _parsed_media_type(request: web.Request) -> tuple[str, str | None]:
    # aiohttp's parser of the header fails on some values (`;0*` raises IndexError, and its
    # charset an AssertionError): a header that cannot be read is the sender's error, not ours.
    try:
        return request.content_type, request.charset
    except (ValueError, IndexError, AssertionError) as e:
        raise UnsupportedMediaType("Content-Type could not be parsed as a media type") from e


async def read_body(request: web.Request) -> bytes:
    """The whole body, decoded; 413 as soon as it passes the limit, with or without
    Content-Length, compressed or not; 408 if it does not arrive in time."""
    st = state(request)
    limit = request.client_max_size  # TUXHOOK_MAX_BODY_BYTES (app.py)
    encoding = content_encoding(request)
    declared = request.content_length
    if declared is not None and declared > limit:
        raise too_large(limit)
    # What the body will hold at most: its declared length, or (chunked, or compressed) the limit.
    st.budget.reserve(request, declared if declared is not None and not encoding else limit)
    await send_continue(request)
    decoder = Decoder(encoding, limit, st.budget.count_decoded) if encoding else None
    try:
        if request.content.is_eof():  # already here whole, as most callbacks are: no waiting
            return _decoded(request, request.content.read_nowait(), limit, decoder)
        async with asyncio.timeout(st.settings.body_timeout_s):
            return await _read(request, limit, decoder)
    except TimeoutError as e:
        raise RequestTimeout(
            f"the body did not arrive within {st.settings.body_timeout_s:g} s"
        ) from e
    except web.RequestPayloadError as e:
        # aiohttp's framing (chunks, length) of the body, broken by the sender.
        raise BadBody("body could not be read as its chunking or length says") from e
    except (ConnectionError, ValueError) as e:
        raise BadBody(f"body could not be read: {e}") from e


async def _read(request: web.Request, limit: int, decoder: Decoder | None) -> bytes:
    budget = state(request).budget
    body = bytearray()
    received = 0
    async for chunk in request.content.iter_any():
        received += len(chunk)
        budget.read_bytes += len(chunk)
        if received > limit:  # compressed or not, the sender may send no more than the limit
            raise too_large(limit)
        body += decoder.feed(chunk) if decoder else chunk
    if decoder:
        decoder.finish()
    return bytes(body)


def _decoded(request: web.Request, raw: bytes, limit: int, decoder: Decoder | None) -> bytes:
    """A body that had arrived whole before the handler asked for it."""
    state(request).budget.read_bytes += len(raw)
    if len(raw) > limit:
        raise too_large(limit)
    if decoder is None:
        return raw
    body = decoder.feed(raw)
    decoder.finish()
    return body
