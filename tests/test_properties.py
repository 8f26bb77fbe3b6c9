"""Properties: random bodies and headers never give a 5xx, and a job is queued only for a
correctly signed, valid callback; and the parsers raise nothing but TuxhookError."""

from __future__ import annotations

from typing import Any

from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from redis import Redis

from receiver.verify import decode_signature, legacy_inner, verify_once
from shared.constants import KINDS, SIGNATURE_HEADER
from shared.errors import TuxhookError, Unauthorized
from shared.identity import body_digest, job_id
from shared.keys import parse_key_line
from shared.payload import Event, parse_event
from tests.conftest import Receiver
from tests.support import strategies as hs
from tests.support.builders import encode
from tests.support.keys import KeyPair
from tests.support.properties import examples
from tests.support.queues import delivery_of, queued_count, queued_jobs
from tests.support.refusals import CALLBACK
from tests.support.signatures import b64url

# One receiver (a function-scoped fixture) serves every example of a test, which is safe
# because each example flushes Redis itself before it posts.
OVER_HTTP = settings(
    max_examples=examples(300),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
IN_PROCESS = settings(max_examples=examples(400), deadline=None)

Headers = list[tuple[str, str]]


def signature_headers(keys: KeyPair, body: bytes, choice: hs.Signature | str) -> Headers:
    if choice is hs.Signature.NONE:
        return []
    if choice is hs.Signature.GOOD:
        return [(SIGNATURE_HEADER, keys.sign(body))]
    if choice is hs.Signature.OTHER_BODY:
        return [(SIGNATURE_HEADER, keys.sign(body + b"."))]
    if choice is hs.Signature.TWICE:
        return [(SIGNATURE_HEADER, keys.sign(body))] * 2
    return [(SIGNATURE_HEADER, choice)]


async def post(receiver: Receiver, body: bytes, headers: Headers) -> tuple[int, str, Any]:
    # Without skip_auto_headers, aiohttp would label a body with no type octet-stream.
    async with receiver.http.post(
        receiver.at(CALLBACK), data=body, headers=headers, skip_auto_headers=["Content-Type"]
    ) as resp:
        decoded = await resp.json() if resp.content_type == "application/json" else None
        return resp.status, resp.content_type, decoded


def assert_queued_only_if_signed_and_valid(
    redis: Redis, keys: KeyPair, body: bytes, headers: Headers
) -> None:
    """The job holds a document the good key signed (raw or legacy) and that validates."""
    [job] = queued_jobs(redis)
    delivery = delivery_of(job)
    document = delivery["body"].encode()
    sent = [value for name, value in headers if name == SIGNATURE_HEADER]
    assert len(sent) == 1
    keyring = [parse_key_line(keys.public_line)]
    verified = verify_once(keyring, body, decode_signature(sent[0]))
    assert verified is not None and verified.document == document
    parsed = parse_event(document)
    # Identified by what the signature covers: the raw body, or a legacy body's inner string.
    assert job.id == job_id(parsed.kind, parsed.uid, body_digest(verified.document))


def acceptable(body: bytes, signature: hs.Signature | str, content_type: str | None) -> bool:
    """What the receiver must accept: signed, a JSON type, and a document that validates."""
    if signature is not hs.Signature.GOOD or content_type not in hs.ACCEPTED:
        return False
    try:
        parse_event(legacy_inner(body) or body)
    except TuxhookError:
        return False
    return True


@OVER_HTTP
@given(
    body=hs.BODIES,
    signature=hs.SIGNATURES,
    content_type=hs.CONTENT_TYPES,
    extra=hs.EXTRA_HEADERS,
)
async def test_random_requests_never_5xx_and_queue_only_valid_signed_callbacks(
    receiver: Receiver,
    keys: KeyPair,
    redis_client: Redis,
    body: bytes,
    signature: hs.Signature | str,
    content_type: str | None,
    extra: Headers,
) -> None:
    redis_client.flushall()
    headers = signature_headers(keys, body, signature) + extra
    if content_type is not None:
        headers.append(("Content-Type", content_type))
    status, media, answer = await post(receiver, body, headers)
    event(f"{status} {answer['error'] if status >= 400 and answer else ''}")  # for statistics
    assert status < 500, answer
    if not extra:  # random extra headers may rightly refuse what is otherwise acceptable
        assert (status == 202) == acceptable(body, signature, content_type), answer
    if 200 <= status < 300:
        assert queued_count(redis_client) == 1
        assert_queued_only_if_signed_and_valid(redis_client, keys, body, headers)
    else:
        assert queued_count(redis_client) == 0
        if media == "application/json":
            assert set(answer) == {"error", "message"} and answer["message"], answer


@settings(OVER_HTTP, max_examples=examples(150))
@given(
    kind=st.sampled_from(KINDS),
    uid=hs.UIDS,
    fields=st.dictionaries(
        st.text(max_size=8).filter(lambda k: k != "uid"), hs.FINITE_JSON, max_size=4
    ),
    content_type=hs.ACCEPTED_CONTENT_TYPES,
    extra=hs.HARMLESS_HEADERS,
)
async def test_random_valid_signed_callbacks_are_queued_exactly_once(
    receiver: Receiver,
    keys: KeyPair,
    redis_client: Redis,
    kind: str,
    uid: str,
    fields: dict[str, Any],
    content_type: str | None,
    extra: Headers,
) -> None:
    redis_client.flushall()
    body = encode({"kind": kind, "status": {**fields, "uid": uid}})
    headers = signature_headers(keys, body, hs.Signature.GOOD) + extra
    if content_type is not None:
        headers.append(("Content-Type", content_type))
    status, _, answer = await post(receiver, body, headers)
    expected = job_id(kind, uid, body_digest(body))
    assert (status, answer) == (202, {"job_id": expected, "queue": kind, "duplicate": False})
    [job] = queued_jobs(redis_client)
    assert (job.id, delivery_of(job)["body"].encode()) == (expected, body)


TEXT_OR_BYTES = st.text() | st.binary()
# Well-formed DER of any two integers, sometimes with bytes after it.
DER_SIGNATURES = st.builds(
    lambda r, s, tail: encode_dss_signature(r, s) + tail,
    st.integers(0, 2**264),
    st.integers(0, 2**264),
    st.binary(max_size=2) | st.just(b""),
)
SIGNATURE_TEXTS = (
    st.text()
    | st.binary(max_size=96).map(b64url)
    | st.binary(max_size=72).map(lambda b: b64url(b"\x30" + bytes([len(b)]) + b))
    | DER_SIGNATURES.map(b64url)
)


@IN_PROCESS
@given(header=SIGNATURE_TEXTS)
def test_decode_signature_raises_only_bad_signature(header: str) -> None:
    try:
        der = decode_signature(header)
    except Unauthorized as e:
        assert e.code == "bad_signature"
    else:
        assert b64url(der) == header.strip()


PARSER_INPUTS = (
    TEXT_OR_BYTES
    | hs.BODIES
    | hs.JSON_VALUES.map(encode)
    | st.integers(0, 20_000).map(lambda n: "[" * n + "]" * n)
    | st.integers(0, 20_000).map(lambda n: '{"a":' * n)
)


@IN_PROCESS
@given(data=PARSER_INPUTS)
def test_parse_event_raises_only_tuxhook_errors(data: str | bytes) -> None:
    try:
        parsed = parse_event(data)
    except TuxhookError as e:
        assert e.status in (400, 422) and e.message
    else:
        assert isinstance(parsed, Event) and parsed.kind in KINDS
        assert parsed.uid.isascii() and parsed.uid.isalnum()


@IN_PROCESS
@given(raw=hs.BODIES | st.binary(), signature=st.binary(max_size=80) | DER_SIGNATURES)
def test_verification_helpers_never_raise_on_any_body(
    keys: KeyPair, raw: bytes, signature: bytes
) -> None:
    inner = legacy_inner(raw)
    assert inner is None or isinstance(inner, bytes)
    assert verify_once([parse_key_line(keys.public_line)], raw, signature) is None
