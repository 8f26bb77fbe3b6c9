"""The HTTP side of the metrics: each callback request counted, and GET /metrics.

Kept apart from the collectors (receiver/metrics.py), which the receiver's state holds: this
module reads that state, so the collectors' module need not, and no two modules import each
other.
"""

from __future__ import annotations

import asyncio

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST

from receiver.state import LOG_FIELDS, STATE, state

# Requests that are callbacks; the others (health, metrics, outcomes) are not counted here.
CALLBACK_PATHS = frozenset({"/v1/callbacks/tuxsuite", "/v1/events"})


def observe_request(request: web.Request, status: int, outcome: str) -> None:
    """Count the request if it was a callback; the middleware calls this for every request."""
    if request.method != "POST" or request.path not in CALLBACK_PATHS:
        return
    st = request.app.get(STATE)
    if st is None:
        return
    # The intake notes the kind for the request's log line as soon as it has parsed it.
    st.metrics.observe_callback(request[LOG_FIELDS].get("kind"), status, outcome)


async def metrics_endpoint(request: web.Request) -> web.Response:
    # The Redis collector's client is synchronous: keep its round trips off the event loop.
    body = await asyncio.get_running_loop().run_in_executor(None, state(request).metrics.render)
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})
