"""Talk to a receiver the way TuxSuite and users do: signed callbacks in, outcomes out."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from tests.conftest import Receiver
from tests.support.builders import encode, signed_headers
from tests.support.keys import KeyPair
from tests.support.users import read_headers

CALLBACK = "/v1/callbacks/tuxsuite"
WAIT_TIMEOUT_S = 30.0  # seconds a test waits for worker processes to store something


async def post_document(receiver: Receiver, keys: KeyPair, doc: dict[str, Any]) -> int:
    body = encode(doc)
    async with receiver.http.post(
        receiver.at(CALLBACK), data=body, headers=signed_headers(keys, body)
    ) as resp:
        assert resp.status in (200, 202), await resp.text()
        return resp.status


async def get_json(receiver: Receiver, path: str) -> tuple[int, Any]:
    async with receiver.http.get(receiver.at(path), headers=read_headers()) as resp:
        return resp.status, await resp.json()


async def outcome(receiver: Receiver, kind: str, uid: str) -> dict[str, Any]:
    status, body = await get_json(receiver, f"/v1/outcomes/{kind}/{uid}")
    assert status == 200, body
    found: dict[str, Any] = body
    return found


async def wait_outcome(
    receiver: Receiver, kind: str, uid: str, deliveries: int = 1
) -> dict[str, Any]:
    """The outcome once it counts `deliveries`, polled while worker processes catch up."""
    deadline = time.monotonic() + WAIT_TIMEOUT_S
    while True:
        status, body = await get_json(receiver, f"/v1/outcomes/{kind}/{uid}")
        if status == 200 and body["deliveries"] >= deliveries:
            found: dict[str, Any] = body
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"{kind} {uid} not stored in {WAIT_TIMEOUT_S}s: {status} {body}")
        await asyncio.sleep(0.1)


async def wait_until(check: Callable[[], bool], what: str, timeout: float = WAIT_TIMEOUT_S) -> None:
    """Poll `check` while worker processes get somewhere; `what` names it in the failure."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"not {what} after {timeout}s")
        await asyncio.sleep(0.05)
