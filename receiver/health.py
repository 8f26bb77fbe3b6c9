"""GET /healthz (the process runs) and GET /readyz (Redis answers)."""

from __future__ import annotations

from aiohttp import web

from receiver.access import public
from receiver.enqueue import queue_unavailable
from receiver.middleware import error_response
from receiver.state import state


@public
async def healthz(_: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


@public
async def readyz(request: web.Request) -> web.Response:
    if await state(request).enqueuer.ping():
        return web.json_response({"status": "ready"})
    return error_response(queue_unavailable("Redis does not answer"))
