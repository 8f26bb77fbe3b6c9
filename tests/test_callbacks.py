"""POST /v1/callbacks/tuxsuite: signed callbacks are queued once; everything else is refused."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import pytest
from redis import Redis

from shared.constants import HANDLER_PATHS, KINDS, SIGNATURE_HEADER
from shared.identity import body_digest, job_id
from tests.conftest import Receiver
from tests.support.builders import encode, new_uid, signed_callback, signed_headers
from tests.support.keys import KeyPair
from tests.support.queues import delivery_of, queued_count, queued_jobs

CALLBACK = "/v1/callbacks/tuxsuite"


@pytest.mark.parametrize("kind", KINDS)
async def test_signed_callback_is_queued_on_its_kinds_queue(
    receiver: Receiver, keys: KeyPair, redis_client: Redis, kind: str
) -> None:
    uid = new_uid()
    body, headers = signed_callback(keys, kind=kind, uid=uid)
    async with receiver.http.post(receiver.at(CALLBACK), data=body, headers=headers) as resp:
        assert resp.status == 202
        answer = await resp.json()
    expected_id = job_id(kind, uid, body_digest(body))
    assert answer == {"job_id": expected_id, "queue": kind, "duplicate": False}
    [job] = queued_jobs(redis_client)
    assert (job.id, job.origin, job.func_name) == (expected_id, kind, HANDLER_PATHS[kind])
    delivery = delivery_of(job)
    assert json.loads(delivery["body"]) == json.loads(body)
    assert delivery["verified_by"].startswith("key:SHA256:")
    assert delivery["digest"] == body_digest(body)


async def test_identical_redelivery_is_a_duplicate(
    receiver: Receiver, keys: KeyPair, redis_client: Redis
) -> None:
    body, headers = signed_callback(keys)
    statuses = []
    for _ in range(3):
        async with receiver.http.post(receiver.at(CALLBACK), data=body, headers=headers) as resp:
            statuses.append((resp.status, (await resp.json())["duplicate"]))
    assert statuses == [(202, False), (200, True), (200, True)]
    assert queued_count(redis_client) == 1


async def test_concurrent_redeliveries_queue_one_job(
    receiver: Receiver, keys: KeyPair, redis_client: Redis
) -> None:
    body, headers = signed_callback(keys)

    async def post() -> int:
        async with receiver.http.post(receiver.at(CALLBACK), data=body, headers=headers) as resp:
            return resp.status

    statuses = await asyncio.gather(*(post() for _ in range(25)))
    assert sorted(statuses) == [200] * 24 + [202]
    assert queued_count(redis_client) == 1


async def test_a_changed_body_for_the_same_uid_is_a_new_delivery(
    receiver: Receiver, keys: KeyPair, redis_client: Redis
) -> None:
    uid = new_uid()
    for state in ("running", "finished"):
        body, headers = signed_callback(keys, uid=uid, state=state)
        async with receiver.http.post(receiver.at(CALLBACK), data=body, headers=headers) as resp:
            assert resp.status == 202
    assert queued_count(redis_client) == 2


async def test_legacy_double_encoded_body_is_accepted(
    receiver: Receiver, keys: KeyPair, redis_client: Redis
) -> None:
    inner, _ = signed_callback(keys, kind="test")
    body = json.dumps(inner.decode()).encode()
    headers = signed_headers(keys, inner)  # TuxSuite signed the inner string
    async with receiver.http.post(receiver.at(CALLBACK), data=body, headers=headers) as resp:
        assert resp.status == 202, await resp.text()
    [job] = queued_jobs(redis_client)
    assert json.loads(delivery_of(job)["body"]) == json.loads(inner)
    assert delivery_of(job)["digest"] == body_digest(inner)  # what the signature covers

    # The same signed inner string in another outer encoding is a replay, not a new delivery.
    rewrapped = b" " + json.dumps(inner.decode()).replace("/", "\\/").encode()
    assert rewrapped != body
    async with receiver.http.post(receiver.at(CALLBACK), data=rewrapped, headers=headers) as resp:
        assert (resp.status, (await resp.json())["duplicate"]) == (200, True)
    assert queued_count(redis_client) == 1


async def test_chunked_body_within_the_limit_is_accepted(
    receiver: Receiver, keys: KeyPair, redis_client: Redis
) -> None:
    body, headers = signed_callback(keys)

    async def chunks() -> AsyncIterator[bytes]:
        for i in range(0, len(body), 100):
            yield body[i : i + 100]

    async with receiver.http.post(receiver.at(CALLBACK), data=chunks(), headers=headers) as resp:
        assert resp.status == 202
    assert queued_count(redis_client) == 1


async def test_health_and_readiness(receiver: Receiver) -> None:
    for path in ("/healthz", "/readyz"):
        async with receiver.http.get(receiver.at(path)) as resp:
            assert resp.status == 200
            assert resp.headers["X-Request-ID"]


async def test_unknown_route_and_method_answer_json(receiver: Receiver) -> None:
    async with receiver.http.get(receiver.at("/nope")) as resp:
        assert (resp.status, (await resp.json())["error"]) == (404, "not_found")
    async with receiver.http.get(receiver.at(CALLBACK)) as resp:
        assert (resp.status, (await resp.json())["error"]) == (405, "method_not_allowed")


async def test_signature_is_checked_before_the_body_is_parsed(
    receiver: Receiver, keys: KeyPair, redis_client: Redis
) -> None:
    body = b"{not json"
    headers = {"Content-Type": "application/json", SIGNATURE_HEADER: keys.sign(b"other")}
    async with receiver.http.post(receiver.at(CALLBACK), data=body, headers=headers) as resp:
        assert (resp.status, (await resp.json())["error"]) == (401, "bad_signature")
    body = encode({"kind": "build"})[:-1]
    async with receiver.http.post(
        receiver.at(CALLBACK), data=body, headers=signed_headers(keys, body)
    ) as resp:
        assert (resp.status, (await resp.json())["error"]) == (400, "invalid_json")
    assert queued_count(redis_client) == 0


async def test_an_unverified_string_body_that_cannot_be_encoded_is_a_401(
    receiver: Receiver, keys: KeyPair, redis_client: Redis
) -> None:
    """The legacy fallback decodes the body before any key matched: it must not crash on it."""
    headers = signed_headers(keys, b"something else")
    for body in (b'"\\ud800"', '"\u00e9"'.encode("utf-16")):
        async with receiver.http.post(receiver.at(CALLBACK), data=body, headers=headers) as resp:
            assert (resp.status, (await resp.json())["error"]) == (401, "bad_signature")
    assert queued_count(redis_client) == 0
