"""Request bodies: the media type, and the size limit enforced while streaming."""

from __future__ import annotations

from aiohttp import web

from shared.errors import BadBody, PayloadTooLarge, UnsupportedMediaType


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


async def read_body(request: web.Request) -> bytes:
    """The whole body, or 413 as soon as it passes the limit, with or without Content-Length.

    The limit is the application's client_max_size (TUXHOOK_MAX_BODY_BYTES, see app.py), which
    aiohttp's read() checks after each chunk it receives: a body is refused while it streams.
    """
    limit = request.client_max_size
    declared = request.content_length
    if declared is not None and declared > limit:
        raise too_large(limit)
    try:
        return await request.read()
    except web.HTTPRequestEntityTooLarge as e:
        raise too_large(limit) from e
    except web.RequestPayloadError as e:
        # aiohttp decodes Content-Encoding while we read; undecodable input is the sender's fault.
        raise BadBody("body could not be decoded as its Content-Encoding or chunking says") from e
    except (ConnectionError, ValueError) as e:
        raise BadBody(f"body could not be read: {e}") from e
