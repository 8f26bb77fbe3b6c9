"""POST /v1/events: Basic and Bearer credentials, one intake path, and what reaches the job."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from redis import Redis
from structlog.testing import capture_logs

from shared.constants import DEFAULT_ISSUER
from shared.identity import body_digest, job_id
from tests.conftest import Receiver
from tests.support.builders import callback, encode, new_uid, signed_callback
from tests.support.http import post
from tests.support.keys import KeyPair
from tests.support.queues import delivery_of, queued_count, queued_jobs
from tests.support.tokens import basic, bearer, hs256, token_claims
from tests.support.users import ALICE, BOB

Headers = dict[str, str]


def alice_token(**claims: Any) -> str:
    return hs256(token_claims("alice", **claims), ALICE.key)


async def test_raw_access_key_in_basic_auth_is_queued(
    receiver: Receiver, redis_client: Redis
) -> None:
    uid = new_uid()
    body = encode(callback("test", uid))
    answer = await post(receiver, basic("alice", ALICE.key), body)
    assert answer.status == 202
    assert answer.body == {
        "job_id": job_id("test", uid, body_digest(body)),
        "queue": "test",
        "duplicate": False,
    }
    [job] = queued_jobs(redis_client)
    assert delivery_of(job)["verified_by"] == "user:alice"
    assert delivery_of(job)["auth"] == {
        "method": "access_key",
        "user": "alice",
        "issuer": None,
        "slug": None,
        "pull_request": None,
    }


def token_in_basic(**claims: Any) -> Headers:
    return basic("alice", alice_token(**claims))


def token_in_bearer(**claims: Any) -> Headers:
    return bearer(alice_token(**claims))


@pytest.mark.parametrize("credentials", [token_in_basic, token_in_bearer])
@pytest.mark.parametrize(("claimed", "stored"), [("42", 42), (42, 42), ("false", None)])
async def test_token_claims_reach_the_queued_job(
    receiver: Receiver,
    redis_client: Redis,
    credentials: Callable[..., Headers],
    claimed: object,
    stored: int | None,
) -> None:
    headers = credentials(slug="linaro/lkft", **{"pull-request": claimed})
    answer = await post(receiver, headers)
    assert answer.status == 202, answer.body
    [job] = queued_jobs(redis_client)
    assert delivery_of(job)["verified_by"] == "user:alice"
    assert delivery_of(job)["auth"] == {
        "method": "jwt",
        "user": "alice",
        "issuer": DEFAULT_ISSUER,
        "slug": "linaro/lkft",
        "pull_request": stored,
    }


async def test_a_redelivered_event_is_a_duplicate(receiver: Receiver, redis_client: Redis) -> None:
    body = encode(callback())
    statuses = [(await post(receiver, basic("alice", ALICE.key), body)).status for _ in range(3)]
    assert statuses == [202, 200, 200]
    assert queued_count(redis_client) == 1


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param(lambda: basic("mallory", ALICE.key), id="unknown-user-raw-key"),
        pytest.param(lambda: basic("alice", BOB.key), id="wrong-raw-key"),
        pytest.param(lambda: basic("alice", ALICE.key[:-1]), id="key-prefix"),
        pytest.param(lambda: basic("alice", ALICE.key + "x"), id="key-extended"),
        pytest.param(lambda: basic("Alice", ALICE.key), id="user-name-case"),
        pytest.param(
            lambda: basic("mallory", hs256(token_claims("mallory"), ALICE.key)),
            id="unknown-user-token",
        ),
        pytest.param(
            lambda: basic("alice", hs256(token_claims("alice"), BOB.key)), id="wrong-key-token"
        ),
        pytest.param(
            lambda: bearer(hs256(token_claims("mallory"), ALICE.key)), id="bearer-unknown-user"
        ),
        pytest.param(lambda: bearer(hs256(token_claims("alice"), BOB.key)), id="bearer-wrong-key"),
        pytest.param(
            lambda: basic("bob", hs256(token_claims("alice"), BOB.key)), id="sub-is-another-user"
        ),
    ],
)
async def test_unknown_user_and_wrong_key_look_identical(
    receiver: Receiver, redis_client: Redis, headers: Callable[[], Headers]
) -> None:
    answer = await post(receiver, headers())
    assert answer.error == (401, "bad_credentials")
    assert answer.body["message"] == "the credentials are not valid"
    assert answer.challenge is not None and 'error="invalid_token"' in answer.challenge
    assert queued_count(redis_client) == 0


async def test_missing_credentials_are_challenged(receiver: Receiver) -> None:
    answer = await post(receiver, {})
    assert answer.error == (401, "missing_credentials")
    assert answer.challenge == 'Basic realm="tuxhook", charset="UTF-8", Bearer realm="tuxhook"'


@pytest.mark.parametrize(
    "authorization",
    [
        "Basic !!!not-base64!!!",
        "Basic " + "YWxpY2U=",  # "alice", no colon
        "Basic Og==",  # ":" alone
        "Basic w6k=",  # not UTF-8 after decoding
        "Basic é",
        "Bearer",
        "Bearer not.a.jwt",
        "Bearer " + "x" * 40,
        "Digest username=alice",
        "alice:key",
    ],
)
async def test_malformed_authorization_is_401_not_500(
    receiver: Receiver, authorization: str
) -> None:
    answer = await post(receiver, {"Authorization": authorization})
    assert answer.error == (401, "bad_credentials")
    assert answer.challenge


async def test_a_repeated_authorization_header_is_refused(receiver: Receiver) -> None:
    (value,) = basic("alice", ALICE.key).values()
    async with receiver.http.post(
        receiver.at("/v1/events"),
        data=encode(callback()),
        headers=[("Authorization", value), ("Authorization", value)],
    ) as resp:
        assert resp.status == 401
        assert (await resp.json())["error"] == "bad_credentials"


@pytest.mark.parametrize(
    ("body", "content_type", "expected"),
    [
        (b"{not json", "application/json", (400, "invalid_json")),
        (
            encode({"kind": "nope", "status": {"uid": "x"}}),
            "application/json",
            (422, "unsupported_kind"),
        ),
        (encode(callback()), "text/plain", (415, "unsupported_media_type")),
        (b"{" + b" " * 1_048_577 + b"}", "application/json", (413, "payload_too_large")),
    ],
)
async def test_events_share_the_callbacks_body_rules(
    receiver: Receiver,
    redis_client: Redis,
    body: bytes,
    content_type: str,
    expected: tuple[int, str],
) -> None:
    headers = basic("alice", ALICE.key) | {"Content-Type": content_type}
    assert (await post(receiver, headers, body)).error == expected
    # Without credentials the same request learns nothing about its body.
    no_key = {"Content-Type": content_type}
    assert (await post(receiver, no_key, body)).error == (401, "missing_credentials")
    assert queued_count(redis_client) == 0


def bob_token(**claims: Any) -> Headers:
    return bearer(hs256(token_claims("bob", **claims), BOB.key))


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        pytest.param(lambda: basic("bob", BOB.key), 202, id="raw-key-is-not-restricted"),
        pytest.param(lambda: bob_token(slug="linaro/lkft"), 202, id="allowed-slug"),
        pytest.param(lambda: bob_token(slug="linaro/other"), 403, id="other-slug"),
        pytest.param(lambda: bob_token(), 403, id="no-slug"),
    ],
)
async def test_slug_allow_list(
    receiver: Receiver, headers: Callable[[], Headers], expected: int
) -> None:
    answer = await post(receiver, headers())
    assert answer.status == expected
    if expected == 403:
        assert answer.body["error"] == "forbidden_slug"


async def test_credentials_never_reach_the_log(receiver: Receiver) -> None:
    token = alice_token()
    with capture_logs() as logs:
        await post(receiver, basic("alice", ALICE.key))
        await post(receiver, bearer(token))
        await post(receiver, basic("alice", ALICE.key[:-1]))
    text = repr(logs)
    assert [log["status"] for log in logs] == [202, 202, 401]
    for secret in (ALICE.key, ALICE.key[:-1], token, token.split(".")[2]):
        assert secret not in text


async def test_callbacks_need_no_credentials_unless_the_file_requires_them(
    receiver: Receiver, keys: KeyPair, redis_client: Redis
) -> None:
    body, headers = signed_callback(keys)
    answer = await post(receiver, headers, body, path="/v1/callbacks/tuxsuite")
    assert answer.status == 202
    assert delivery_of(queued_jobs(redis_client)[0])["auth"] == {}
