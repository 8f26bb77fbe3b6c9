"""Post a callback and check that it was refused with the contract's JSON error."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING, Any

from aiohttp.typedefs import LooseHeaders
from redis import Redis

from tests.support.queues import queued_count

if TYPE_CHECKING:
    from tests.conftest import Receiver

CALLBACK = "/v1/callbacks/tuxsuite"
# Bytes above which a body is sent from a file-like object rather than as raw bytes.
LARGE_BYTES = 512 * 1024


async def post_callback(receiver: Receiver, body: Any, headers: LooseHeaders) -> tuple[int, Any]:
    """The status and the decoded JSON answer of one POST to the callback route."""
    if isinstance(body, bytes) and len(body) > LARGE_BYTES:
        body = io.BytesIO(body)  # aiohttp warns that large raw bytes may block the loop
    async with receiver.http.post(receiver.at(CALLBACK), data=body, headers=headers) as resp:
        return resp.status, await resp.json()


def check_error(answer: Any, code: str) -> None:
    """`{"error": code, "message": text}` with nothing else and a message that says something."""
    assert isinstance(answer, dict), answer
    assert set(answer) == {"error", "message"}, answer
    assert answer["error"] == code, answer
    assert isinstance(answer["message"], str) and answer["message"].strip(), answer


async def assert_refused(
    receiver: Receiver, redis: Redis, request: tuple[Any, LooseHeaders], status: int, code: str
) -> None:
    body, headers = request
    got, answer = await post_callback(receiver, body, headers)
    assert got == status, answer
    check_error(answer, code)
    assert queued_count(redis) == 0
