"""Request bodies: the media type, and the size limit enforced while streaming."""

from __future__ import annotations

from aiohttp import web

from shared.constants import BODY_CHUNK_BYTES
from shared.errors import BadRequest, PayloadTooLarge, UnsupportedMediaType


def check_media_type(request: web.Request) -> None:
    """JSON or nothing: a sender that states another type gets 415."""
    if "Content-Type" not in request.headers:
        return
    mime = request.content_type
    if mime != "application/json" and not (
        mime.startswith("application/") and mime.endswith("+json")
    ):
        raise UnsupportedMediaType(f"Content-Type must be application/json, not {mime[:64]!r}")
    charset = request.charset
    if charset is not None and charset.lower().replace("_", "-") not in ("utf-8", "utf8"):
        raise UnsupportedMediaType(f"JSON must be UTF-8, not charset {charset[:32]!r}")


def too_large(limit: int) -> PayloadTooLarge:
    return PayloadTooLarge(f"body is larger than {limit} bytes")


async def read_body(request: web.Request, limit: int) -> bytes:
    """The whole body, or 413 as soon as it passes `limit`, with or without Content-Length."""
    declared = request.content_length
    if declared is not None and declared > limit:
        raise too_large(limit)
    chunks, size = [], 0
    try:
        async for chunk in request.content.iter_chunked(BODY_CHUNK_BYTES):
            size += len(chunk)
            if size > limit:
                raise too_large(limit)
            chunks.append(chunk)
    except web.RequestPayloadError as e:
        # aiohttp decodes Content-Encoding while we read; undecodable input is the sender's fault.
        raise BadRequest(
            "body could not be decoded as its Content-Encoding or chunking says", code="bad_body"
        ) from e
    except (ConnectionError, ValueError) as e:
        raise BadRequest(f"body could not be read: {e}", code="bad_body") from e
    return b"".join(chunks)
