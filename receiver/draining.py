"""Requests in flight, so that a stopping receiver can wait for them before closing anything.

aiohttp's own graceful stop (run_app, and gunicorn's aiohttp worker) first marks every
connection closing, and a closing connection drops the bytes that arrive after that: a
callback whose body was still uploading at SIGTERM could never finish, and its sender would
get a reset after the whole shutdown timeout. So the receiver stops listening, waits here
until the requests it is handling are done, and only then lets aiohttp close connections.
"""

from __future__ import annotations

import asyncio

from aiohttp import web


class InFlight:
    def __init__(self) -> None:
        self.count = 0
        self.stopping = False
        self._idle = asyncio.Event()
        self._idle.set()

    def enter(self) -> None:
        """A request begins; each is followed by one `leave`."""
        self.count += 1
        self._idle.clear()

    def leave(self) -> None:
        self.count -= 1
        if self.count == 0:
            self._idle.set()

    async def drain(self, timeout_s: float) -> bool:
        """Stop taking new work and wait for the requests in flight; False if time ran out."""
        self.stopping = True
        try:
            await asyncio.wait_for(self._idle.wait(), timeout_s)
        except TimeoutError:
            return False
        return True


IN_FLIGHT = web.AppKey("tuxhook_in_flight", InFlight)
