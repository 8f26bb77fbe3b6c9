"""What aiohttp's parser refuses before any handler runs is answered as tuxhook's JSON too, and
no answer names a version in its Server header."""

from __future__ import annotations

import pytest

from shared.constants import MAX_HEADER_FIELD_BYTES, MAX_HEADER_FIELDS
from tests.exposure.conftest import Exposed
from tests.support.http import fetch
from tests.support.raw import connected, request_head
from tests.support.refusals import check_error

# The start of a TLS ClientHello: what a client speaking HTTPS sends to a plain HTTP port.
TLS_HELLO = bytes.fromhex("160301020001000200") + b"\x03\x03" + bytes(32)


def many_headers(count: int) -> dict[str, str]:
    return {f"X-Header-{i}": "v" for i in range(count)}


REFUSED = [
    pytest.param(
        request_head("GET", "/healthz", {"X-Long": "v" * (MAX_HEADER_FIELD_BYTES + 1)}),
        431,
        "headers_too_large",
        id="header-line-too-long",
    ),
    pytest.param(
        request_head("GET", "/healthz", many_headers(MAX_HEADER_FIELDS + 1)),
        431,
        "headers_too_large",
        id="too-many-headers",
    ),
    pytest.param(
        request_head("GET", "/" + "a" * (MAX_HEADER_FIELD_BYTES + 1)),
        431,
        "headers_too_large",
        id="request-line-too-long",
    ),
    pytest.param(request_head("FROB", "/healthz"), 400, "bad_request", id="unknown-method"),
    pytest.param(request_head("G@T", "/healthz"), 400, "bad_request", id="method-not-a-token"),
    pytest.param(TLS_HELLO, 400, "bad_request", id="tls-on-the-http-port"),
    pytest.param(b"GET /healthz HTTP/1.1\nHost: x\n\n", 400, "bad_request", id="bare-newlines"),
    pytest.param(
        request_head("POST", "/v1/events", {"Content-Length": "1", "Transfer-Encoding": "chunked"}),
        400,
        "bad_request",
        id="length-and-chunked",
    ),
]


@pytest.mark.parametrize(("request_bytes", "status", "code"), REFUSED)
async def test_the_parsers_refusals_are_json(
    exposed: Exposed, request_bytes: bytes, status: int, code: str
) -> None:
    async with connected(exposed.port) as conn:
        await conn.send(request_bytes)
        answer = await conn.answer()
        assert await conn.closed_by_peer() == b""  # and the connection is closed
    assert answer.status == status, answer
    assert answer.headers["content-type"].startswith("application/json")
    check_error(answer.json(), code)
    assert answer.headers["server"] == "tuxhook"


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [("GET", "/healthz", 200), ("GET", "/nope", 404), ("DELETE", "/healthz", 405)],
)
async def test_the_server_header_names_no_version(
    exposed: Exposed, method: str, path: str, status: int
) -> None:
    answer = await fetch(method, exposed.url + path)
    assert answer.status == status
    assert answer.headers["Server"] == "tuxhook"
