"""The aiohttp release receiver/aiohttp_internals.py is pinned to: the installed one matches the
pin, what the module reaches into is there and behaves as the module expects, and the receiver
refuses to start, with one line, under any other aiohttp."""

from __future__ import annotations

import asyncio
import inspect

import aiohttp
import pytest
from aiohttp import web
from aiohttp.http_exceptions import BadHttpMessage
from aiohttp.http_parser import HttpRequestParserC, HttpRequestParserPy

from receiver.aiohttp_internals import (
    AIOHTTP_VERSION,
    TOO_MANY_HEADERS,
    ReceiverProtocol,
    check_aiohttp_contract,
)
from shared.cli import main
from shared.constants import MAX_HEADER_FIELDS
from shared.errors import ConfigError


def test_the_installed_aiohttp_is_the_pinned_release() -> None:
    assert aiohttp.__version__.split(".")[:2] == AIOHTTP_VERSION.split(".")
    check_aiohttp_contract()


@pytest.mark.parametrize("version", ["3.15.0", "3.13.2", "4.0.0a1", "3.1.4"])
def test_another_release_is_refused(monkeypatch: pytest.MonkeyPatch, version: str) -> None:
    monkeypatch.setattr(aiohttp, "__version__", version)
    with pytest.raises(ConfigError, match=f"aiohttp {version} is installed"):
        check_aiohttp_contract()


def test_the_receiver_refuses_another_aiohttp(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("TUXHOOK_REDIS_URL", "redis://127.0.0.1:1/0")
    monkeypatch.setattr(aiohttp, "__version__", "3.15.0")
    assert main(["receiver"]) == 1
    [line] = capsys.readouterr().err.splitlines()
    assert line.startswith("tuxhook: error: aiohttp 3.15.0 is installed, but tuxhook's receiver")


def test_what_the_server_subclass_reads_is_there() -> None:
    """ReceiverServer copies a plain server's private _loop and _kwargs, and counts its
    _connections; ReceiverRunner overrides AppRunner._make_server."""

    async def handler(_: web.BaseRequest) -> web.StreamResponse:
        return web.Response()

    server = web.Server(handler, loop=object(), keepalive_timeout=1.0)  # type: ignore[arg-type]
    assert server._kwargs == {"keepalive_timeout": 1.0}
    assert server._connections == {}
    assert inspect.iscoroutinefunction(web.AppRunner._make_server)


def test_handle_error_keeps_the_signature_the_protocol_calls() -> None:
    def shape(signature: inspect.Signature) -> list[tuple[str, object]]:
        return [(p.name, p.default) for p in signature.parameters.values()]

    ours = inspect.signature(ReceiverProtocol.handle_error)
    assert shape(ours) == shape(inspect.signature(web.RequestHandler.handle_error))


@pytest.mark.parametrize("parser", [HttpRequestParserPy, HttpRequestParserC])
async def test_too_many_headers_is_told_by_its_message(parser: type[HttpRequestParserPy]) -> None:
    """Neither parser has a class of its own for it: its message tells it apart."""
    fields = "".join(f"X-{i}: v\r\n" for i in range(MAX_HEADER_FIELDS + 1))
    request = f"GET / HTTP/1.1\r\nHost: x\r\n{fields}\r\n".encode()
    loop = asyncio.get_running_loop()
    p = parser(None, loop, 2**16, max_headers=MAX_HEADER_FIELDS)
    with pytest.raises(BadHttpMessage) as raised:
        p.feed_data(request)
    assert raised.value.message == TOO_MANY_HEADERS
