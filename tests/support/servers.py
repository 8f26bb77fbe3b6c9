"""Small aiohttp servers on loopback that stand in for remote endpoints (keys, JWKS)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from aiohttp import web
from aiohttp.test_utils import TestServer


@dataclass
class StaticDocument:
    """Serves `body` at one path and remembers each request's Authorization header."""

    body: str
    status: int = 200
    seen_authorization: list[str | None] = field(default_factory=list)

    async def handle(self, request: web.Request) -> web.Response:
        self.seen_authorization.append(request.headers.get("Authorization"))
        return web.Response(text=self.body, status=self.status, content_type="application/json")

    @property
    def fetches(self) -> int:
        return len(self.seen_authorization)


@asynccontextmanager
async def serve_document(doc: StaticDocument, path: str) -> AsyncIterator[str]:
    app = web.Application()
    app.router.add_get(path, doc.handle)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        yield str(server.make_url(path))
    finally:
        await server.close()
