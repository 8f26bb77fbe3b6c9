"""Request context, JSON errors and the one canonical log line per request."""

from __future__ import annotations

import itertools
import re
import time
import uuid
from collections.abc import Awaitable, Callable

import structlog
from aiohttp import hdrs, web

from receiver.access import check_access
from receiver.draining import IN_FLIGHT
from receiver.metrics_http import observe_request
from receiver.state import LOG_FIELDS, STATE
from shared.constants import SERVER_NAME
from shared.errors import (
    MethodNotAllowed,
    NotFound,
    PayloadTooLarge,
    Refusal,
    RequestTimeout,
    TuxhookError,
)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
log = structlog.get_logger("tuxhook.request")

# The error code of a refused request, or "ok": for metrics and tests.
OUTCOME = web.RequestKey("tuxhook_outcome", str)

_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
# aiohttp's own refusals (no route, a method the route lacks, a body over client_max_size)
# answered with the codes of tuxhook's classes for them.
_HTTP_REFUSALS: dict[int, type[Refusal]] = {
    cls.status: cls for cls in (NotFound, MethodNotAllowed, PayloadTooLarge)
}


def error_response(err: TuxhookError) -> web.Response:
    return web.json_response(err.as_json(), status=err.status, headers=err.headers)


def _from_http_exception(exc: web.HTTPException) -> web.Response:
    refusal = _HTTP_REFUSALS.get(exc.status)
    code = refusal.code if refusal else f"http_{exc.status}"
    headers = {"Allow": exc.headers["Allow"]} if "Allow" in exc.headers else None
    body = {"error": code, "message": exc.reason}
    return web.json_response(body, status=exc.status, headers=headers)


# Request ids: a random prefix per process and a counter; unique without a syscall per request.
_ID_PREFIX = uuid.uuid4().hex[:12]
_ID_COUNTER = itertools.count(1)


def _request_id(request: web.Request) -> str:
    given = request.headers.get("X-Request-ID", "")
    return given if _REQUEST_ID.fullmatch(given) else f"{_ID_PREFIX}-{next(_ID_COUNTER)}"


async def _respond(request: web.Request, handler: Handler) -> tuple[web.StreamResponse, str]:
    try:
        await check_access(request)
        return await handler(request), "ok"
    except TuxhookError as err:
        return error_response(err), err.code
    except web.HTTPException as exc:
        response = _from_http_exception(exc)
        return response, f"http_{exc.status}"
    except Exception:
        log.exception("unhandled_error")
        error = TuxhookError("internal error; see the receiver's log")
        return error_response(error), error.code


@web.middleware
async def request_context(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Bind a request id, count the request in flight, turn every error into JSON, count it
    in the metrics and log it once when done."""
    structlog.contextvars.clear_contextvars()
    request_id = _request_id(request)
    structlog.contextvars.bind_contextvars(request_id=request_id)
    started = time.perf_counter()
    fields = request[LOG_FIELDS] = {}
    in_flight = request.app[IN_FLIGHT]
    in_flight.enter()
    try:
        response, outcome = await _respond(request, handler)
    finally:
        in_flight.leave()
        request.app[STATE].budget.release(request)
    if in_flight.stopping or outcome == RequestTimeout.code:
        # Draining: the sender's next request should open a connection to a running receiver.
        # A body that stalled: the connection is dropped rather than kept for another request.
        response.force_close()
    response.headers["X-Request-ID"] = request_id
    response.headers[hdrs.SERVER] = SERVER_NAME  # aiohttp's own names its and Python's versions
    request[OUTCOME] = outcome
    observe_request(request, response.status, outcome)
    log.info(
        "request",
        **fields,
        method=request.method,
        path=request.path,
        status=response.status,
        outcome=outcome,
        duration_ms=round((time.perf_counter() - started) * 1000, 3),
    )
    return response
