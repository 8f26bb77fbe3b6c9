"""Credentials whose bytes are not UTF-8: aiohttp hands them over as surrogates; never a 500."""

from __future__ import annotations

import asyncio

import pytest
from redis import Redis

from tests.conftest import Receiver
from tests.support.builders import callback, encode
from tests.support.queues import queued_count


def raw_event(receiver: Receiver, authorization: bytes) -> bytes:
    body = encode(callback("build"))
    head = (
        b"POST /v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        + b"Authorization: " + authorization + b"\r\n"
        + f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
    )  # fmt: skip
    return head + body


@pytest.mark.parametrize(
    "authorization",
    [b"Bearer a.b.\xff", b"Bearer \xc3\x28.e30.x", b"Basic \xff\xfe"],
    ids=["bearer-stray-byte", "bearer-bad-utf8", "basic-not-base64"],
)
async def test_non_utf8_credentials_are_401(
    receiver: Receiver, redis_client: Redis, authorization: bytes
) -> None:
    reader, writer = await asyncio.open_connection(receiver.server.host, receiver.server.port)
    try:
        writer.write(raw_event(receiver, authorization))
        async with asyncio.timeout(10):
            answer = await reader.read()
    finally:
        writer.close()
    status_line, _, rest = answer.partition(b"\r\n")
    assert status_line.split(b" ")[1] == b"401", answer[:300]
    assert b'"error": "bad_credentials"' in rest
    assert queued_count(redis_client) == 0
