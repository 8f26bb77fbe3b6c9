"""Poll for a condition from async tests, bounded in time, without blocking the event loop."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

WAIT_S = 20.0  # seconds to wait, unless told, for worker processes to get somewhere
POLL_S = 0.05  # seconds between two looks


async def eventually(
    check: Callable[[], bool], what: str, timeout_s: float = WAIT_S, *, poll_s: float = POLL_S
) -> float:
    """Wait until `check()` holds; the seconds it took. Fails the test after `timeout_s`."""
    started = time.monotonic()
    while not check():
        if time.monotonic() - started > timeout_s:
            raise AssertionError(f"not {what} after {timeout_s}s")
        await asyncio.sleep(poll_s)
    return time.monotonic() - started
