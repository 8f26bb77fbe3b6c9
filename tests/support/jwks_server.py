"""A JWKS endpoint on 127.0.0.1 whose published keys a test can rotate, counting its fetches."""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer

JWKS_PATH = "/.well-known/jwks"


class JwksServer:
    def __init__(self) -> None:
        self.keys: list[dict[str, Any]] = []
        self.status = 200
        self.delay_s = 0.0
        self.fetches = 0
        app = web.Application()
        app.router.add_get(JWKS_PATH, self._jwks)
        self.server = TestServer(app, host="127.0.0.1")

    async def _jwks(self, _: web.Request) -> web.Response:
        self.fetches += 1
        await asyncio.sleep(self.delay_s)
        if self.status != 200:
            return web.Response(status=self.status)
        return web.json_response({"keys": self.keys})

    def publish(self, *jwks: dict[str, Any]) -> None:
        """Serve exactly these keys from now on: a rotation, as the issuer would do it."""
        self.keys = list(jwks)

    @property
    def url(self) -> str:
        return str(self.server.make_url(JWKS_PATH))

    async def start(self) -> None:
        await self.server.start_server()

    async def close(self) -> None:
        await self.server.close()
