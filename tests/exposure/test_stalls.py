"""A client that stops sending is dropped: before its request head is complete (an idle
connection, a trickled head), between requests (keep-alive), or in the middle of a body."""

from __future__ import annotations

import asyncio
import contextlib

from shared.constants import SIGNATURE_HEADER
from tests.exposure.conftest import Start
from tests.support.keys import KeyPair
from tests.support.raw import connected, request_head
from tests.support.refusals import CALLBACK, check_error

SHORT = {"header_timeout": "1", "body_timeout": "1"}  # seconds
TRICKLE_S = 0.2  # seconds between two bytes of a trickled head: the head would take 30 s


async def test_an_idle_connection_is_closed_unanswered(start: Start) -> None:
    receiver = start(**SHORT)
    async with connected(receiver.port) as conn:
        assert await conn.closed_by_peer() == b""


async def test_a_head_trickled_a_byte_at_a_time_is_cut_off(start: Start) -> None:
    receiver = start(**SHORT)
    head = request_head("GET", "/healthz", {"X-Padding": "p" * 100})
    sent = 0
    async with connected(receiver.port) as conn:

        async def trickle() -> None:
            nonlocal sent
            with contextlib.suppress(ConnectionError):
                for byte in head:
                    await conn.send(bytes([byte]))
                    sent += 1
                    await asyncio.sleep(TRICKLE_S)

        sender = asyncio.create_task(trickle())
        try:
            assert await conn.closed_by_peer() == b""
        finally:
            sender.cancel()
    assert sent < len(head)  # dropped before the head was whole


async def test_an_idle_keep_alive_connection_is_closed(start: Start) -> None:
    receiver = start(**SHORT)
    async with connected(receiver.port) as conn:
        await conn.send(request_head("GET", "/healthz"))
        assert (await conn.answer()).status == 200
        assert await conn.closed_by_peer() == b""


async def test_a_body_stalled_after_one_byte_is_answered_408_and_dropped(
    start: Start, keys: KeyPair
) -> None:
    receiver = start(**SHORT)
    headers = {
        "Content-Type": "application/json",
        "Content-Length": "1000",
        SIGNATURE_HEADER: keys.sign(b"the body that never comes"),
    }
    async with connected(receiver.port) as conn:
        await conn.send(request_head("POST", CALLBACK, headers) + b"{")
        answer = await conn.answer()
        assert answer.status == 408, answer
        check_error(answer.json(), "request_timeout")
        assert answer.headers["connection"] == "close"
        assert await conn.closed_by_peer() == b""
