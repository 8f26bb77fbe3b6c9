"""Uploads held open cannot fill the receiver: a garbage signature is refused before a byte of
its body is read, and past TUXHOOK_MAX_CONNECTIONS or TUXHOOK_MAX_BUFFERED_BYTES a request is
answered 503 busy with Retry-After."""

from __future__ import annotations

import asyncio
from contextlib import AsyncExitStack

from shared.constants import RETRY_AFTER_S, SIGNATURE_HEADER
from tests.exposure.conftest import Exposed, Start
from tests.support.builders import signed_callback
from tests.support.http import RawAnswer, fetch
from tests.support.keys import KeyPair
from tests.support.metrics import value
from tests.support.raw import RawConnection, connected, request_head
from tests.support.refusals import CALLBACK, check_error

HELD = 200  # uploads held open at once
MIB = 1 << 20
WAIT_S = 20.0  # seconds a test waits for the receiver to reach a state it polls for


def upload_head(signature: str, length: int = MIB) -> bytes:
    headers = {
        "Content-Type": "application/json",
        "Content-Length": str(length),
        SIGNATURE_HEADER: signature,
    }
    return request_head("POST", CALLBACK, headers)


async def hold(conn: RawConnection, signature: str) -> None:
    """Start a 1 MiB upload and send its first KiB only."""
    await conn.send(upload_head(signature) + b"{" + b" " * 1023)


def assert_busy(answer: RawAnswer) -> None:
    assert answer.status == 503, answer
    check_error(answer.json(), "busy")
    assert answer.headers["retry-after"] == str(RETRY_AFTER_S)
    assert answer.headers["server"] == "tuxhook"


async def test_held_uploads_with_a_garbage_signature_are_answered_unread(
    exposed: Exposed, keys: KeyPair
) -> None:
    before = value(await exposed.metrics(), "tuxhook_body_bytes_read_total")
    async with AsyncExitStack() as stack:
        conns = [await stack.enter_async_context(connected(exposed.port)) for _ in range(HELD)]
        await asyncio.gather(*(hold(conn, "garbage") for conn in conns))
        answers = await asyncio.gather(*(conn.answer() for conn in conns))
        assert [a.status for a in answers] == [401] * HELD
        for answer in answers:
            check_error(answer.json(), "bad_signature")
        # Held as they are, they keep no one else out.
        body, headers = signed_callback(keys)
        accepted = await fetch("POST", exposed.url + CALLBACK, headers=headers, data=body)
        assert accepted.status == 202, accepted
    # The one body read was the valid callback's.
    assert value(await exposed.metrics(), "tuxhook_body_bytes_read_total") == before + len(body)


async def test_past_the_connection_cap_a_connection_is_answered_busy(start: Start) -> None:
    receiver = start(max_connections="4")
    async with AsyncExitStack() as stack:
        open_ = [await stack.enter_async_context(connected(receiver.port)) for _ in range(4)]
        for conn in open_:  # answered: each is a connection the receiver serves, kept alive
            await conn.send(request_head("GET", "/healthz"))
            assert (await conn.answer()).status == 200
        async with connected(receiver.port) as fifth:
            await fifth.send(request_head("GET", "/healthz"))
            assert_busy(await fifth.answer())
            assert await fifth.closed_by_peer() == b""
        await open_[0].close()
        await until_served(receiver)
    refused = value(await receiver.metrics(), "tuxhook_busy_refusals_total", limit="connections")
    assert refused >= 1


async def until_served(receiver: Exposed) -> None:
    """Poll /healthz until a connection is served again (the receiver saw one close)."""
    async with asyncio.timeout(WAIT_S):
        while True:
            async with connected(receiver.port) as conn:
                await conn.send(request_head("GET", "/healthz", {"Connection": "close"}))
                if (await conn.answer()).status == 200:
                    return
            await asyncio.sleep(0.05)


async def test_past_the_body_budget_a_request_is_answered_busy_unread(
    start: Start, keys: KeyPair
) -> None:
    """Two 1 MiB bodies being read fill a 2 MiB budget: a third is refused before it is read."""
    receiver = start(max_buffered_bytes=str(2 * MIB))
    signature = keys.sign(b"a body that stays held")
    async with AsyncExitStack() as stack:
        for _ in range(2):
            await hold(await stack.enter_async_context(connected(receiver.port)), signature)
        await until_held(receiver, 2 * MIB)
        read = value(await receiver.metrics(), "tuxhook_body_bytes_read_total")
        async with connected(receiver.port) as third:
            await third.send(upload_head(signature) + b"{")
            assert_busy(await third.answer())
        metrics = await receiver.metrics()
        assert value(metrics, "tuxhook_body_bytes_read_total") == read  # not a byte of it
        assert value(metrics, "tuxhook_busy_refusals_total", limit="body_bytes") == 1


async def until_held(receiver: Exposed, size: int) -> None:
    async with asyncio.timeout(WAIT_S):
        while value(await receiver.metrics(), "tuxhook_body_bytes_held") != size:
            await asyncio.sleep(0.05)
