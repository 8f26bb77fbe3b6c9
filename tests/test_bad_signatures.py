"""Forged, mangled or misplaced signatures: 401, a JSON error, and nothing queued.

Verification comes before parsing, so a malformed body that is not correctly signed is a 401
too: only the good key's signature over these exact bytes lets a body reach the parser.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable

import pytest
from aiohttp.typedefs import LooseHeaders
from redis import Redis

from shared.constants import SIGNATURE_HEADER
from shared.settings import Settings
from tests.conftest import Receiver
from tests.support import signatures as sig
from tests.support.builders import (
    callback,
    document,
    double_encoded,
    encode,
    nested,
    signed_callback,
)
from tests.support.keys import KeyPair
from tests.support.queues import queued_count
from tests.support.refusals import assert_refused, post_callback

JSON = {"Content-Type": "application/json"}
# A body that is not the one posted: its signature must never pass for another.
OTHER = encode(callback("test"))

HeaderValue = Callable[[KeyPair, bytes], str | list[str]]


def _split(text: str, at: int, sep: str) -> str:
    return text[:at] + sep + text[at:]


# Each entry: the signature header value(s) sent with a valid callback body.
HEADER_VALUES = [
    pytest.param(lambda k, b: "", id="empty"),
    pytest.param(lambda k, b: "   ", id="only-spaces"),
    pytest.param(lambda k, b: [k.sign(b), k.sign(b)], id="repeated-both-valid"),
    pytest.param(lambda k, b: [k.sign(b), "garbage"], id="repeated-valid-then-garbage"),
    pytest.param(lambda k, b: ["garbage", k.sign(b)], id="repeated-garbage-then-valid"),
    pytest.param(lambda k, b: f"{k.sign(b)}, {k.sign(b)}", id="two-values-comma-joined"),
    pytest.param(lambda k, b: f"{k.sign(b)} {sig.by_another_key(b)}", id="two-values-space"),
    pytest.param(lambda k, b: "sha256=" + k.sign(b), id="prefix-sha256="),
    pytest.param(lambda k, b: "ecdsa " + k.sign(b), id="prefix-scheme-word"),
    pytest.param(lambda k, b: "A" + k.sign(b), id="prefix-one-base64-char"),
    pytest.param(lambda k, b: k.sign(b) + "A", id="suffix-one-base64-char"),
    pytest.param(lambda k, b: k.sign(b) + "!", id="suffix-punctuation"),
    pytest.param(lambda k, b: _split(k.sign(b), 40, " "), id="space-inside"),
    pytest.param(lambda k, b: _split(k.sign(b), 40, "\t"), id="tab-inside"),
    pytest.param(lambda k, b: sig.unpadded(k, b), id="missing-padding"),
    pytest.param(lambda k, b: sig.standard_alphabet(k, b), id="standard-base64-alphabet"),
    pytest.param(lambda k, b: sig.excess_padding(k, b), id="excess-padding"),
    pytest.param(lambda k, b: sig.trailing_bits_set(k, b), id="unused-trailing-bits-set"),
    pytest.param(lambda k, b: f'"{k.sign(b)}"', id="quoted"),
    pytest.param(lambda k, b: "\u00e9" + k.sign(b), id="non-ascii-prefix"),
    pytest.param(lambda k, b: sig.der(k, b).hex(), id="hex-instead-of-base64"),
    pytest.param(lambda k, b: sig.b64url(k.sign(b).encode()), id="base64-twice"),
    pytest.param(lambda k, b: sig.b64url(sig.der(k, b) + b"\x00"), id="der-trailing-byte"),
    pytest.param(lambda k, b: sig.b64url(sig.der(k, b) * 2), id="der-twice"),
    pytest.param(lambda k, b: sig.b64url(sig.der(k, b)[:-1]), id="der-truncated"),
    pytest.param(lambda k, b: sig.raw_rs(k, b), id="raw-r-s-64-bytes"),
    pytest.param(lambda k, b: sig.hand_der(k, b, long_form=True), id="ber-long-form-length"),
    pytest.param(lambda k, b: sig.hand_der(k, b, pad=True), id="ber-zero-padded-integers"),
    pytest.param(lambda k, b: sig.indefinite_length(k, b), id="ber-indefinite-length"),
    pytest.param(lambda k, b: sig.b64url(b"\x30\x00"), id="der-empty-sequence"),
    pytest.param(lambda k, b: sig.from_rs(*reversed(sig.rs(k, b))), id="r-and-s-swapped"),
    pytest.param(lambda k, b: sig.from_rs(0, 0), id="r-and-s-zero"),
    pytest.param(
        lambda k, b: sig.from_rs(sig.rs(k, b)[0] + sig.P256_ORDER, sig.rs(k, b)[1]),
        id="r-plus-group-order",
    ),
    pytest.param(lambda k, b: sig.high_s(k, OTHER), id="high-s-twin-of-another-body"),
    pytest.param(lambda k, b: k.sign(OTHER), id="signature-of-another-body"),
    pytest.param(lambda k, b: sig.by_another_key(b), id="signature-by-another-key"),
    pytest.param(lambda k, b: k.sign(hashlib.sha256(b).digest()), id="signature-of-the-digest"),
]


@pytest.mark.parametrize("value", HEADER_VALUES)
async def test_bad_signature_header_is_refused(
    receiver: Receiver, keys: KeyPair, redis_client: Redis, value: HeaderValue
) -> None:
    body, _ = signed_callback(keys)
    values = value(keys, body)
    sent = [values] if isinstance(values, str) else values
    headers = [("Content-Type", "application/json")] + [(SIGNATURE_HEADER, v) for v in sent]
    await assert_refused(receiver, redis_client, (body, headers), 401, "bad_signature")


Request = tuple[bytes, LooseHeaders]
Build = Callable[[KeyPair], Request]


def signed_then(change: Callable[[bytes], bytes]) -> Build:
    """A callback signed, then changed: the signature covers other bytes than those sent."""

    def build(keys: KeyPair) -> Request:
        body, headers = signed_callback(keys)
        return change(body), headers

    return build


def with_signature_of(body: bytes, signed: Callable[[KeyPair], str]) -> Build:
    return lambda keys: (body, {**JSON, SIGNATURE_HEADER: signed(keys)})


def legacy(inner: bytes, signed_over: Callable[[bytes], bytes]) -> Build:
    """The double-encoded body around `inner`, signed over `signed_over(inner)`."""
    return with_signature_of(double_encoded(inner), lambda keys: keys.sign(signed_over(inner)))


def pretty(body: bytes) -> bytes:
    return json.dumps(json.loads(body), indent=2).encode()


def without_signature(body: bytes, **headers: str) -> Build:
    return lambda keys: (body, {**JSON, **headers})


INNER = encode(callback("test"))
LIMIT = Settings().max_body_bytes

# Bodies that come with a signature, but not the good key's over these exact bytes.
NOT_COVERED = [
    pytest.param(signed_then(lambda b: b[: len(b) // 2]), id="truncated-signed-before"),
    pytest.param(signed_then(lambda b: b + b"\n"), id="newline-appended"),
    pytest.param(signed_then(lambda b: b" " + b), id="space-prepended"),
    pytest.param(signed_then(pretty), id="reformatted-same-json"),
    pytest.param(signed_then(lambda b: b""), id="emptied"),
    pytest.param(
        legacy(INNER, lambda inner: encode(callback("test"))),
        id="legacy-signed-over-another-inner-string",
    ),
    pytest.param(legacy(INNER, pretty), id="legacy-signed-over-reformatted-inner"),
    pytest.param(
        with_signature_of(double_encoded(INNER), lambda k: sig.by_another_key(INNER)),
        id="legacy-inner-signed-by-another-key",
    ),
    pytest.param(
        with_signature_of(b"\xff\xfe not utf-8", lambda k: k.sign(OTHER)),
        id="not-utf8-unsigned",
    ),
    pytest.param(
        with_signature_of(nested(10_000), lambda k: k.sign(OTHER)),
        id="nested-10000-deep-unsigned",
    ),
    pytest.param(
        with_signature_of(b'{"kind":"build","kind":"test"}', lambda k: k.sign(OTHER)),
        id="duplicate-keys-unsigned",
    ),
    pytest.param(
        with_signature_of(encode(document(kind="deploy")), lambda k: k.sign(OTHER)),
        id="unknown-kind-unsigned",
    ),
]


@pytest.mark.parametrize("build", NOT_COVERED)
async def test_body_not_covered_by_its_signature_is_refused(
    receiver: Receiver, keys: KeyPair, redis_client: Redis, build: Build
) -> None:
    await assert_refused(receiver, redis_client, build(keys), 401, "bad_signature")


# No signature header at all: refused before the body is even read.
NO_SIGNATURE = [
    pytest.param(without_signature(b""), id="empty-body"),
    pytest.param(without_signature(INNER), id="valid-body"),
    pytest.param(without_signature(b" " * (LIMIT + 1)), id="body-over-the-limit"),
    pytest.param(
        lambda k: (INNER, {**JSON, "x-tux-signature": k.sign(INNER)}),
        id="valid-signature-under-another-header-name",
    ),
    pytest.param(
        lambda k: (INNER, {**JSON, "Authorization": k.sign(INNER)}),
        id="valid-signature-in-authorization",
    ),
]


@pytest.mark.parametrize("build", NO_SIGNATURE)
async def test_callback_without_signature_header_is_refused(
    receiver: Receiver, keys: KeyPair, redis_client: Redis, build: Build
) -> None:
    await assert_refused(receiver, redis_client, build(keys), 401, "missing_signature")


async def test_malleated_twin_of_a_signature_passes_but_cannot_queue_twice(
    receiver: Receiver, keys: KeyPair, redis_client: Redis
) -> None:
    """TuxSuite does not normalise s, so (r, n - s) must pass: the job id keeps it one job."""
    body, headers = signed_callback(keys)
    twin = {**headers, SIGNATURE_HEADER: sig.high_s(keys, body)}
    assert (await post_callback(receiver, body, twin))[0] == 202
    status, answer = await post_callback(receiver, body, headers)
    assert (status, answer["duplicate"]) == (200, True)
    assert queued_count(redis_client) == 1


async def test_hand_built_der_without_the_flaws_is_accepted(
    receiver: Receiver, keys: KeyPair, redis_client: Redis
) -> None:
    """A control for the BER cases: the same builder, minus padding and long form, passes."""
    body, headers = signed_callback(keys)
    control = {**headers, SIGNATURE_HEADER: sig.hand_der(keys, body)}
    assert (await post_callback(receiver, body, control))[0] == 202
    assert queued_count(redis_client) == 1
