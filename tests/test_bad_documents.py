"""Correctly signed bodies that are not a valid callback: 400 or 422, and nothing queued.

Each body here is signed with the good key, so it passes verification and reaches the parser:
that is the point. The same bodies unsigned are 401 (see test_bad_signatures.py).
"""

from __future__ import annotations

import codecs
from collections.abc import Callable
from typing import Any

import pytest
from aiohttp.typedefs import LooseHeaders
from redis import Redis

from shared.constants import MAX_JSON_DEPTH, MAX_UID_LENGTH
from tests.conftest import Receiver
from tests.support.builders import (
    MISSING,
    callback,
    document,
    double_encoded,
    encode,
    nested,
    signed_document,
    signed_headers,
    signed_raw,
)
from tests.support.keys import KeyPair
from tests.support.queues import queued_count
from tests.support.refusals import assert_refused, post_callback

Request = tuple[bytes, LooseHeaders]
Build = Callable[[KeyPair], Request]


def signed(body: bytes | Callable[[], bytes]) -> Build:
    """`body` (or what the callable makes, fresh for each test) signed with the good key."""
    return lambda keys: signed_raw(keys, body() if callable(body) else body)


def valid_body() -> bytes:
    return encode(callback())


def text(template: str) -> Callable[[], bytes]:
    """A body from `template`, with {uid} filled by a fresh valid uid."""
    return lambda: template.replace("{uid}", str(callback()["status"]["uid"])).encode()


def in_status(raw_json: str) -> Callable[[], bytes]:
    """A valid callback with the raw JSON text `raw_json` as the value of status.extra."""
    return text('{"kind":"build","status":{"uid":"{uid}","extra":' + raw_json + "}}")


def legacy_signed_inner(inner: Callable[[], bytes]) -> Build:
    """The double-encoded body, its signature over the inner string, as TuxSuite once sent."""

    def build(keys: KeyPair) -> Request:
        content = inner()
        return double_encoded(content), signed_headers(keys, content)

    return build


# Nesting of status.extra that makes the document exactly MAX_JSON_DEPTH deep (object, status).
EXTRA_DEPTH = MAX_JSON_DEPTH - 2

NOT_JSON = [
    pytest.param(signed(lambda: valid_body()[:-1]), id="truncated-signed-after"),
    pytest.param(signed(lambda: valid_body()[:20]), id="truncated-mid-key-signed-after"),
    pytest.param(signed(b""), id="empty"),
    pytest.param(signed(b" \r\n\t"), id="only-whitespace"),
    pytest.param(signed(b"\x00"), id="nul-byte"),
    pytest.param(
        signed(lambda: in_status('"café"')().decode().encode("latin-1")), id="latin1-not-utf8"
    ),
    pytest.param(signed(b'{"kind":"\x80"}'), id="utf8-stray-continuation-byte"),
    pytest.param(signed(b'{"kind":"\xc0\xaf"}'), id="utf8-overlong-encoding"),
    pytest.param(signed(b'{"kind":"\xed\xa0\x80"}'), id="utf8-encoded-surrogate"),
    pytest.param(signed(lambda: codecs.BOM_UTF8 + valid_body()), id="utf8-bom"),
    pytest.param(signed(lambda: valid_body().decode().encode("utf-16")), id="utf16"),
    pytest.param(
        signed(text('{"kind":"build","kind":"test","status":{"uid":"{uid}"}}')),
        id="duplicate-keys-top-level",
    ),
    pytest.param(
        signed(text('{"kind":"build","status":{"uid":"{uid}","uid":"{uid}"}}')),
        id="duplicate-keys-in-status",
    ),
    pytest.param(signed(in_status('{"a":{"b":1,"b":2}}')), id="duplicate-keys-deep"),
    pytest.param(signed(nested(10_000)), id="arrays-nested-10000-deep"),
    pytest.param(signed(b'{"a":' * 10_000 + b"0" + b"}" * 10_000), id="objects-nested-10000-deep"),
    pytest.param(signed(in_status(nested(10_000).decode())), id="nested-10000-deep-in-status"),
    pytest.param(signed(in_status(nested(EXTRA_DEPTH + 1).decode())), id="one-past-depth-limit"),
    pytest.param(signed(in_status("NaN")), id="nan"),
    pytest.param(signed(in_status("Infinity")), id="infinity"),
    pytest.param(signed(in_status("-Infinity")), id="minus-infinity"),
    pytest.param(signed(in_status("1e400")), id="number-overflowing-to-infinity"),
    pytest.param(signed(in_status("-1E+999")), id="number-overflowing-to-minus-infinity"),
    pytest.param(signed(in_status("1" * 5000)), id="integer-of-5000-digits"),
    pytest.param(signed(lambda: valid_body() + b" x"), id="trailing-garbage"),
    pytest.param(signed(lambda: valid_body() * 2), id="two-documents"),
    pytest.param(signed(text("{'kind':'build','status':{'uid':'{uid}'}}")), id="single-quotes"),
    pytest.param(signed(text('{kind:"build",status:{uid:"{uid}"}}')), id="unquoted-keys"),
    pytest.param(signed(text('{"kind":"build","status":{"uid":"{uid}"},}')), id="trailing-comma"),
    pytest.param(signed(text('{"kind":"build",/* c */"status":{"uid":"{uid}"}}')), id="comment"),
    pytest.param(signed(in_status('"a\nb"')), id="raw-newline-in-string"),
    pytest.param(signed(in_status('"\\x41"')), id="invalid-escape"),
    pytest.param(signed(in_status('"\\ud800"')), id="lone-high-surrogate-escape"),
    pytest.param(signed(in_status('"\\uDC00x"')), id="lone-low-surrogate-escape"),
    pytest.param(signed(b'"just text"'), id="json-string-of-text"),
    pytest.param(legacy_signed_inner(lambda: valid_body()[:-1]), id="legacy-inner-truncated"),
]


@pytest.mark.parametrize("build", NOT_JSON)
async def test_signed_body_that_is_not_strict_json_is_400(
    receiver: Receiver, keys: KeyPair, redis_client: Redis, build: Build
) -> None:
    await assert_refused(receiver, redis_client, build(keys), 400, "invalid_json")


def doc(**changes: Any) -> Build:
    """A signed callback document with top-level fields (or `status_fields`) changed."""
    return lambda keys: signed_document(keys, document(**changes))


def uid(value: Any) -> Build:
    return doc(status_fields={"uid": value})


def top(value: Any) -> Build:
    return lambda keys: signed_document(keys, value)


NOT_A_CALLBACK = [
    pytest.param(top([]), "invalid_payload", id="top-level-array"),
    pytest.param(top(42), "invalid_payload", id="top-level-number"),
    pytest.param(top(None), "invalid_payload", id="top-level-null"),
    pytest.param(top(True), "invalid_payload", id="top-level-true"),
    pytest.param(top({}), "invalid_payload", id="empty-object"),
    pytest.param(signed(b'"42"'), "invalid_payload", id="legacy-inner-is-a-number"),
    pytest.param(doc(kind=MISSING), "invalid_payload", id="kind-missing"),
    pytest.param(doc(kind=1), "invalid_payload", id="kind-number"),
    pytest.param(doc(kind=1.5), "invalid_payload", id="kind-float"),
    pytest.param(doc(kind=["build"]), "invalid_payload", id="kind-list"),
    pytest.param(doc(kind=None), "invalid_payload", id="kind-null"),
    pytest.param(doc(kind={"name": "build"}), "invalid_payload", id="kind-object"),
    pytest.param(doc(kind=True), "invalid_payload", id="kind-bool"),
    pytest.param(doc(kind="deploy"), "unsupported_kind", id="kind-unknown"),
    pytest.param(doc(kind=""), "unsupported_kind", id="kind-empty"),
    pytest.param(doc(kind="BUILD"), "unsupported_kind", id="kind-upper-case"),
    pytest.param(doc(kind="build "), "unsupported_kind", id="kind-trailing-space"),
    pytest.param(doc(kind="x" * 10_000), "unsupported_kind", id="kind-10kB"),
    pytest.param(doc(status=MISSING), "invalid_payload", id="status-missing"),
    pytest.param(doc(status=None), "invalid_payload", id="status-null"),
    pytest.param(doc(status="finished"), "invalid_payload", id="status-string"),
    pytest.param(doc(status=[{"uid": "abc"}]), "invalid_payload", id="status-list"),
    pytest.param(doc(status=0), "invalid_payload", id="status-number"),
    pytest.param(uid(MISSING), "invalid_payload", id="uid-missing"),
    pytest.param(uid(""), "invalid_payload", id="uid-empty"),
    pytest.param(uid(12345), "invalid_payload", id="uid-number"),
    pytest.param(uid(None), "invalid_payload", id="uid-null"),
    pytest.param(uid(["abc"]), "invalid_payload", id="uid-list"),
    pytest.param(uid({"id": "abc"}), "invalid_payload", id="uid-object"),
    pytest.param(uid(True), "invalid_payload", id="uid-bool"),
    pytest.param(uid("../x"), "invalid_payload", id="uid-dot-dot-slash"),
    pytest.param(uid("a/b"), "invalid_payload", id="uid-slash"),
    pytest.param(uid("a%2F"), "invalid_payload", id="uid-percent-encoded-slash"),
    pytest.param(uid(".."), "invalid_payload", id="uid-dot-dot"),
    pytest.param(uid("a\\b"), "invalid_payload", id="uid-backslash"),
    pytest.param(uid("a b"), "invalid_payload", id="uid-space"),
    pytest.param(uid("a\nb"), "invalid_payload", id="uid-newline"),
    pytest.param(uid("a\x00b"), "invalid_payload", id="uid-nul"),
    pytest.param(uid("a-b_c"), "invalid_payload", id="uid-dash-underscore"),
    pytest.param(uid("BUILD#abc"), "invalid_payload", id="uid-with-kind-prefix"),
    pytest.param(uid("ünïcödé"), "invalid_payload", id="uid-unicode-letters"),
    pytest.param(uid("\uff11\uff12\uff13"), "invalid_payload", id="uid-fullwidth-digits"),
    pytest.param(uid("a" * 10_000), "invalid_payload", id="uid-10kB"),
    pytest.param(uid("a" * (MAX_UID_LENGTH + 1)), "invalid_payload", id="uid-one-past-limit"),
    pytest.param(
        legacy_signed_inner(lambda: encode(document(kind="deploy"))),
        "unsupported_kind",
        id="legacy-inner-unknown-kind",
    ),
]


@pytest.mark.parametrize(("build", "code"), NOT_A_CALLBACK)
async def test_signed_json_that_is_not_a_callback_is_422(
    receiver: Receiver, keys: KeyPair, redis_client: Redis, build: Build, code: str
) -> None:
    await assert_refused(receiver, redis_client, build(keys), 422, code)


CONTROLS = [
    pytest.param(signed(in_status(nested(EXTRA_DEPTH).decode())), id="nested-at-depth-limit"),
    pytest.param(uid("a" * MAX_UID_LENGTH), id="uid-at-length-limit"),
    pytest.param(legacy_signed_inner(valid_body), id="legacy-double-encoded"),
    pytest.param(signed(in_status('"\\ud83d\\ude00"')), id="surrogate-pair-escape"),
]


@pytest.mark.parametrize("build", CONTROLS)
async def test_controls_at_the_limits_are_accepted(
    receiver: Receiver, keys: KeyPair, redis_client: Redis, build: Build
) -> None:
    """The builders above are wrong only in the way they claim: at the limits, all is well."""
    status, answer = await post_callback(receiver, *build(keys))
    assert status == 202, answer
    assert queued_count(redis_client) == 1
