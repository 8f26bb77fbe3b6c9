"""Bad framing of a callback: media type 415, size 413, undecodable content encodings 400.

These checks run before verification (a body too big to read cannot be verified), so the
bodies here are valid signed callbacks unless a case says otherwise.
"""

from __future__ import annotations

import asyncio
import gzip
import zlib
from collections.abc import AsyncIterator, Callable

import pytest
from redis import Redis

from shared.constants import SIGNATURE_HEADER
from shared.settings import Settings
from tests.conftest import Receiver
from tests.support.builders import callback, encode, signed_callback, signed_raw
from tests.support.http import exchange_raw, parse_answer
from tests.support.keys import KeyPair
from tests.support.queues import queued_count
from tests.support.refusals import CALLBACK, assert_refused, check_error, post_callback

Request = tuple[bytes, dict[str, str]]
Build = Callable[[KeyPair], Request]
LIMIT = Settings().max_body_bytes


def content_type(value: str) -> Build:
    def build(keys: KeyPair) -> Request:
        body, headers = signed_callback(keys)
        return body, {**headers, "Content-Type": value}

    return build


WRONG_MEDIA_TYPES = [
    pytest.param(content_type("text/plain"), id="text-plain"),
    pytest.param(content_type("application/x-www-form-urlencoded"), id="form-urlencoded"),
    pytest.param(content_type("multipart/form-data; boundary=x"), id="multipart-form"),
    pytest.param(content_type("application/xml"), id="xml"),
    pytest.param(content_type("text/json"), id="text-json"),
    pytest.param(content_type("application/javascript"), id="javascript"),
    pytest.param(content_type("application/octet-stream"), id="octet-stream"),
    pytest.param(content_type("application/jsonx"), id="json-lookalike-subtype"),
    pytest.param(content_type(""), id="empty"),
    pytest.param(content_type("json"), id="no-slash"),
    pytest.param(content_type("application/json; charset=latin-1"), id="charset-not-utf8"),
    pytest.param(content_type("application/json; charset=utf-16"), id="charset-utf16"),
    # Found by the soak run: aiohttp's own parser of the header raised IndexError on this one.
    pytest.param(content_type(";0*"), id="unparsable-index"),
]


@pytest.mark.parametrize("build", WRONG_MEDIA_TYPES)
async def test_wrong_media_type_is_415(
    receiver: Receiver, keys: KeyPair, redis_client: Redis, build: Build
) -> None:
    await assert_refused(receiver, redis_client, build(keys), 415, "unsupported_media_type")


def padded_to(size: int) -> Build:
    """A valid signed callback padded with JSON whitespace to `size` bytes."""

    def build(keys: KeyPair) -> Request:
        body = encode(callback())
        return signed_raw(keys, body + b" " * (size - len(body)))

    return build


def compressed(compress: Callable[[bytes], bytes], encoding: str) -> Build:
    """16 MiB of whitespace after a valid callback, compressed to a few kB: a bomb."""

    def build(keys: KeyPair) -> Request:
        body, headers = signed_callback(keys)
        return compress(body + b" " * (16 << 20)), {**headers, "Content-Encoding": encoding}

    return build


def declared_encoding(encoding: str) -> Build:
    """A plain signed callback sent as if it were compressed."""

    def build(keys: KeyPair) -> Request:
        body, headers = signed_callback(keys)
        return body, {**headers, "Content-Encoding": encoding}

    return build


def badly_signed(build: Build) -> Build:
    def resigned(keys: KeyPair) -> Request:
        body, headers = build(keys)
        return body, {**headers, SIGNATURE_HEADER: keys.sign(b"another body")}

    return resigned


FRAMING = [
    pytest.param(padded_to(LIMIT + 1), 413, "payload_too_large", id="one-byte-over-limit"),
    pytest.param(padded_to(4 * LIMIT), 413, "payload_too_large", id="four-times-the-limit"),
    pytest.param(
        badly_signed(padded_to(LIMIT + 1)), 413, "payload_too_large", id="over-limit-badly-signed"
    ),
    pytest.param(compressed(gzip.compress, "gzip"), 413, "payload_too_large", id="gzip-bomb"),
    pytest.param(compressed(zlib.compress, "deflate"), 413, "payload_too_large", id="deflate-bomb"),
    pytest.param(declared_encoding("gzip"), 400, "bad_body", id="gzip-declared-not-gzip"),
    pytest.param(declared_encoding("deflate"), 400, "bad_body", id="deflate-declared-not-deflate"),
    pytest.param(declared_encoding("br"), 415, "unsupported_media_type", id="brotli"),
    pytest.param(declared_encoding("zstd"), 415, "unsupported_media_type", id="zstd"),
    pytest.param(declared_encoding("gzip, gzip"), 415, "unsupported_media_type", id="gzip-twice"),
    pytest.param(declared_encoding("compress"), 415, "unsupported_media_type", id="compress"),
]


@pytest.mark.parametrize(("build", "status", "code"), FRAMING)
async def test_body_that_cannot_be_read_whole_is_refused(
    receiver: Receiver, keys: KeyPair, redis_client: Redis, build: Build, status: int, code: str
) -> None:
    await assert_refused(receiver, redis_client, build(keys), status, code)


async def test_body_exactly_at_the_limit_is_accepted(
    receiver: Receiver, keys: KeyPair, redis_client: Redis
) -> None:
    status, answer = await post_callback(receiver, *padded_to(LIMIT)(keys))
    assert status == 202, answer
    assert queued_count(redis_client) == 1


# A chunked body far past the limit; the generator stops here whatever happens.
HUGE_CHUNKS = 4096  # of CHUNK bytes: 256 MiB
CHUNK = 64 * 1024


async def test_huge_chunked_body_is_413_before_it_is_all_sent(
    receiver: Receiver, keys: KeyPair, redis_client: Redis
) -> None:
    """No Content-Length: the receiver must stop at the limit, not read 256 MiB first."""
    sent = 0

    async def chunks() -> AsyncIterator[bytes]:
        nonlocal sent
        for _ in range(HUGE_CHUNKS):
            sent += CHUNK
            yield b" " * CHUNK
            await asyncio.sleep(0)

    headers = {"Content-Type": "application/json", SIGNATURE_HEADER: keys.sign(b"")}
    async with asyncio.timeout(30):
        async with receiver.http.post(
            receiver.at(CALLBACK), data=chunks(), headers=headers
        ) as resp:
            sent_when_answered = sent
            assert resp.status == 413
            assert "Content-Length" not in resp.request_info.headers
            check_error(await resp.json(), "payload_too_large")
    # What the client had pushed when the answer came: the limit plus socket buffers.
    assert sent_when_answered < HUGE_CHUNKS * CHUNK // 4, sent_when_answered
    assert queued_count(redis_client) == 0


def raw_request(keys: KeyPair, framing: str) -> bytes:
    """A signed callback with hand-written HTTP/1.1 framing; {n} is the body's length."""
    body, headers = signed_callback(keys)
    lines = [f"POST {CALLBACK} HTTP/1.1", "Host: tuxhook"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    lines += framing.format(n=len(body)).split("|")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


BROKEN_FRAMING = [
    pytest.param("Content-Length: {n}|Content-Type: text/plain", id="content-type-twice"),
    pytest.param("Content-Length: {n}|Content-Length: 1", id="content-length-twice"),
    pytest.param("Content-Length: {n}|Transfer-Encoding: chunked", id="length-and-chunked"),
    pytest.param("Content-Length: -{n}", id="negative-content-length"),
    pytest.param("Content-Length: {n}x", id="content-length-not-a-number"),
    pytest.param("Transfer-Encoding: chunked", id="chunked-with-unchunked-body"),
]


@pytest.mark.parametrize("framing", BROKEN_FRAMING)
async def test_broken_http_framing_is_400_and_closes(
    receiver: Receiver, keys: KeyPair, redis_client: Redis, framing: str
) -> None:
    """aiohttp's parser refuses these before any middleware, and answers tuxhook's JSON."""
    answer = parse_answer(await exchange_raw(receiver, raw_request(keys, framing)))
    assert answer.status == 400, answer
    check_error(answer.json(), "bad_request")
    assert answer.headers["server"] == "tuxhook"
    assert queued_count(redis_client) == 0
