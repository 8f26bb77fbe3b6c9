"""Everything of the receiver's that reaches past aiohttp's public API, pinned to one aiohttp
minor release and checked at start-up (docs/operations.md says how to move to another).

aiohttp's public knobs (handler_args: timeouts, header limits, auto_decompress; the
on_response_prepare signal) are set in receiver/app.py. What they cannot do is here:

- the answers aiohttp's protocol makes before any handler runs (a malformed request line,
  header lines over the limit, too many headers, garbage on the port): its
  `RequestHandler.handle_error`, overridden to answer JSON;
- a cap on connections: the server's protocol factory answers 503 busy (receiver/limits.py)
  to a connection past TUXHOOK_MAX_CONNECTIONS instead of serving it;
- `Expect: 100-continue`: aiohttp invites the body as soon as the route is known, before
  middlewares and handlers run, and even for a route that does not exist. The request factory
  takes the Expect header off the request; `send_continue` invites the body only when a handler
  is about to read it, after every cheap check has passed.

The server and its protocols are built by `ReceiverRunner`, an `AppRunner` whose server is a
`ReceiverServer`; the tests serve through it too (receiver/serve.py's `listen`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, Final

import aiohttp
import structlog
from aiohttp import hdrs, web
from aiohttp.http_exceptions import (
    BadHttpMessage,
    BadHttpMethod,
    BadStatusLine,
    ContentLengthError,
    HttpProcessingError,
    InvalidHeader,
    InvalidURLError,
    LineTooLong,
    TransferEncodingError,
)
from multidict import CIMultiDict, CIMultiDictProxy

from receiver.limits import BusyProtocol
from shared.constants import MAX_HEADER_FIELD_BYTES, MAX_HEADER_FIELDS, SERVER_NAME
from shared.errors import ConfigError, HeadersTooLarge, MalformedRequest, Refusal, TuxhookError

# The aiohttp minor release (any patch release of it) whose internals this module is proven
# against by tests/test_aiohttp_contract.py.
AIOHTTP_VERSION: Final = "3.14"
# BadHttpMessage's text for a request with more header fields than max_headers.
TOO_MANY_HEADERS: Final = "Too many headers received"

# What is wrong with a request aiohttp's parser refused, by the class of its error.
_MALFORMED: Final = (
    (BadHttpMethod, "not HTTP, or a method that is not a token"),
    (InvalidURLError, "its target"),
    (InvalidHeader, "a header field, or one that may not be repeated"),
    (TransferEncodingError, "its chunked body"),
    (ContentLengthError, "its body is shorter than its Content-Length"),
    (BadStatusLine, "its request line"),
)

log = structlog.get_logger("tuxhook.http")

# Set on a request whose sender asked `Expect: 100-continue` (the header itself is removed).
EXPECTS_CONTINUE = web.RequestKey("tuxhook_expects_continue", bool)


def check_aiohttp_contract() -> None:
    """Refuse (ConfigError) to start under an aiohttp other than the one proven."""
    installed = aiohttp.__version__
    if ".".join(installed.split(".")[:2]) != AIOHTTP_VERSION:
        raise ConfigError(
            f"aiohttp {installed} is installed, but tuxhook's receiver is proven against"
            f" aiohttp {AIOHTTP_VERSION}.x only (receiver/aiohttp_internals.py): install the"
            " locked versions"
        )


def low_level_refusal(exc: BaseException | None) -> TuxhookError:
    """tuxhook's error for what aiohttp's parser refused (or, never expected, a handler raised
    past the middleware)."""
    if isinstance(exc, LineTooLong) or (
        isinstance(exc, BadHttpMessage) and exc.message == TOO_MANY_HEADERS
    ):
        return HeadersTooLarge(
            f"a request line or header field is longer than {MAX_HEADER_FIELD_BYTES} bytes,"
            f" or there are more than {MAX_HEADER_FIELDS} header fields"
        )
    if isinstance(exc, HttpProcessingError):
        # The parser's message may quote the sender's bytes: name the failure, not them.
        what = next((text for cls, text in _MALFORMED if isinstance(exc, cls)), "its framing")
        return MalformedRequest(f"the request is not valid HTTP/1.1: {what}")
    return TuxhookError("internal error; see the receiver's log")


def json_refusal(error: TuxhookError) -> web.Response:
    headers = {**error.headers, hdrs.SERVER: SERVER_NAME}
    response = web.json_response(error.as_json(), status=error.status, headers=headers)
    response.force_close()
    return response


class ReceiverProtocol(web.RequestHandler):
    """aiohttp's HTTP/1.1 protocol, whose own refusals are tuxhook's JSON errors."""

    __slots__ = ()

    def handle_error(
        self,
        request: web.BaseRequest,
        status: int = 500,
        exc: BaseException | None = None,
        message: str | None = None,
    ) -> web.StreamResponse:
        error = low_level_refusal(exc)
        if isinstance(error, Refusal):
            log.info("request_refused", status=error.status, outcome=error.code)
        else:
            log.error("unhandled_error", exc_info=exc)
        if request.writer.output_size > 0:
            # As aiohttp's own: an answer has begun, so no other can be sent.
            raise ConnectionError("an answer was already being sent")
        return json_refusal(error)


class ReceiverServer(web.Server):
    """aiohttp's server with tuxhook's protocol, a connection cap and deferred invitations."""

    def __init__(
        self, plain: web.Server, max_connections: int, on_refused: Callable[[], None]
    ) -> None:
        super().__init__(
            plain.request_handler,
            request_factory=self._request_without_expect,
            handler_cancellation=plain.handler_cancellation,
            loop=plain._loop,
            **plain._kwargs,
        )
        self._make_app_request = plain.request_factory
        self.max_connections = max_connections
        self._on_refused = on_refused

    def __call__(self) -> asyncio.Protocol:  # type: ignore[override]
        if len(self._connections) >= self.max_connections:
            self._on_refused()
            return BusyProtocol()
        return ReceiverProtocol(self, loop=self._loop, **self._kwargs)

    def _request_without_expect(self, *args: Any) -> web.BaseRequest:
        request = self._make_app_request(*args)
        if hdrs.EXPECT not in request.headers:
            # Set on every request: a missing key would cost send_continue an exception.
            request[EXPECTS_CONTINUE] = False
            return request
        headers = CIMultiDict(request.headers)
        expects = headers.popall(hdrs.EXPECT)
        clone = request.clone(headers=CIMultiDictProxy(headers))
        # Another expectation than 100-continue is ignored, as RFC 9110 (10.1.1) allows.
        clone[EXPECTS_CONTINUE] = [e.strip().lower() for e in expects] == ["100-continue"]
        return clone


class ReceiverRunner(web.AppRunner):
    """An AppRunner serving through ReceiverServer; `on_refused` counts the connections
    refused past `max_connections`."""

    def __init__(
        self,
        app: web.Application,
        max_connections: int,
        on_refused: Callable[[], None],
        **kwargs: Any,
    ) -> None:
        super().__init__(app, **kwargs)
        self.max_connections = max_connections
        self.on_refused = on_refused

    async def _make_server(self) -> web.Server:
        plain = await super()._make_server()
        return ReceiverServer(plain, self.max_connections, self.on_refused)


async def send_continue(request: web.BaseRequest) -> None:
    """Invite the body of a request whose sender waits for it, as aiohttp's default expect
    handler would have done before any check: call only once the cheap checks have passed."""
    if request.get(EXPECTS_CONTINUE) and request.version == aiohttp.HttpVersion11:
        request[EXPECTS_CONTINUE] = False
        await request.writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        # The answer proper has not begun: aiohttp's default handler resets this too.
        request.writer.output_size = 0
