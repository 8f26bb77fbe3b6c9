"""Credentials whose bytes are not UTF-8: aiohttp hands them over as surrogates; never a 500."""

from __future__ import annotations

import pytest
from redis import Redis

from tests.conftest import Receiver
from tests.support.builders import callback, encode
from tests.support.http import exchange_raw
from tests.support.queues import queued_count


def raw_event(authorization: bytes) -> bytes:
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
    answer = await exchange_raw(receiver, raw_event(authorization))
    status_line, _, rest = answer.partition(b"\r\n")
    assert status_line.split(b" ")[1] == b"401", answer[:300]
    assert b'"error": "bad_credentials"' in rest
    assert queued_count(redis_client) == 0
