"""GitHub Actions OIDC: RS256 tokens checked against a JWKS served on 127.0.0.1."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import aiohttp
import pytest
from redis import Redis

from receiver.jwks import Jwks, parse_jwks
from shared.settings import Settings
from tests.conftest import Receiver, serve
from tests.support.http import post
from tests.support.jwks_server import JwksServer
from tests.support.queues import delivery_of, queued_count, queued_jobs
from tests.support.tokens import (
    GITHUB_ISSUER,
    RsaKey,
    b64url,
    bearer,
    forge_hs256,
    github_claims,
    unsigned,
)
from tests.support.users import USERS, oidc_toml
from tests.support.users import users_toml as build_users_toml

Keys = tuple[RsaKey, RsaKey]
REFETCH_INTERVAL_S = 0.2
REPOSITORIES = {"linaro/lkft-ci": "alice", "linaro/*": "bob"}


@pytest.fixture
def users_toml(jwks_server: JwksServer) -> str:
    return build_users_toml(USERS, oidc_toml(jwks_server.url, REPOSITORIES))


@pytest.fixture
def settings_env(settings_env: dict[str, str]) -> dict[str, str]:
    return settings_env | {"TUXHOOK_KEYS_REFETCH_INTERVAL": str(REFETCH_INTERVAL_S)}


async def test_an_oidc_token_is_queued_with_its_claims(
    receiver: Receiver, redis_client: Redis, oidc_keys: Keys
) -> None:
    claims = github_claims("linaro/lkft-ci", ref="refs/pull/7/merge", sha="f" * 40)
    answer = await post(receiver, bearer(oidc_keys[0].sign(claims)))
    assert answer.status == 202, answer.body
    [job] = queued_jobs(redis_client)
    assert delivery_of(job)["verified_by"] == "user:alice"
    assert delivery_of(job)["auth"] == {
        "method": "oidc",
        "user": "alice",
        "issuer": GITHUB_ISSUER,
        "slug": "linaro/lkft-ci",
        "pull_request": 7,
        "repository": "linaro/lkft-ci",
        "ref": "refs/pull/7/merge",
        "sha": "f" * 40,
    }


@pytest.mark.parametrize(
    ("repository", "expected"),
    [
        ("linaro/lkft-ci", (202, None)),
        ("linaro/lkft", (202, None)),  # bob, through linaro/*, and in bob's slugs
        ("linaro/other", (403, "forbidden_slug")),  # bob, through linaro/*, not in bob's slugs
        ("someone/lkft-ci", (403, "forbidden_slug")),  # mapped to nobody
        ("Linaro/lkft-ci", (403, "forbidden_slug")),  # compared exactly
    ],
)
async def test_the_repository_decides_the_user(
    receiver: Receiver, oidc_keys: Keys, repository: str, expected: tuple[int, str | None]
) -> None:
    answer = await post(receiver, bearer(oidc_keys[0].sign(github_claims(repository))))
    assert answer.error == expected


def signed(**overrides: Any) -> Callable[[Keys], str]:
    return lambda keys: keys[0].sign(github_claims(**overrides))


REJECTED: list[Any] = [
    pytest.param(signed(aud="https://elsewhere.test"), "bad_credentials", id="wrong-audience"),
    pytest.param(signed(aud=None), "bad_credentials", id="no-audience"),
    pytest.param(signed(iat=1_000, exp=1_300), "token_expired", id="expired"),
    pytest.param(signed(exp=2**31), "token_too_long_lived", id="over-long"),
    pytest.param(signed(iss="https://token.example"), "bad_issuer", id="unknown-issuer"),
    pytest.param(signed(repository=None), "bad_credentials", id="no-repository"),
    pytest.param(
        lambda keys: keys[1].sign(github_claims(), kid=keys[0].kid),
        "bad_credentials",
        id="unpublished-key-under-a-published-kid",
    ),
    pytest.param(
        lambda keys: keys[0].sign(github_claims(), kid="never-published"),
        "bad_credentials",
        id="unknown-kid",
    ),
    pytest.param(
        lambda keys: unsigned(github_claims(), kid=keys[0].kid), "bad_credentials", id="alg-none"
    ),
    pytest.param(
        lambda keys: forge_hs256(github_claims(), keys[0].public_pem, kid=keys[0].kid),
        "bad_credentials",
        id="hs256-with-the-rsa-public-key",
    ),
]


@pytest.mark.parametrize(("build", "code"), REJECTED)
async def test_a_wrong_oidc_token_is_refused(
    receiver: Receiver,
    redis_client: Redis,
    oidc_keys: Keys,
    build: Callable[[Keys], str],
    code: str,
) -> None:
    answer = await post(receiver, bearer(build(oidc_keys)))
    assert answer.error == (401, code), answer.body
    assert queued_count(redis_client) == 0


async def test_a_key_rotation_is_picked_up_by_one_refetch(
    receiver: Receiver, jwks_server: JwksServer, oidc_keys: Keys
) -> None:
    old, new = oidc_keys
    assert jwks_server.fetches == 1  # at start-up
    jwks_server.publish(new.jwk())
    await asyncio.sleep(REFETCH_INTERVAL_S)
    assert (await post(receiver, bearer(new.sign(github_claims())))).status == 202
    assert jwks_server.fetches == 2
    # Cached now: the next token with that kid fetches nothing.
    assert (await post(receiver, bearer(new.sign(github_claims("linaro/lkft"))))).status == 202
    assert jwks_server.fetches == 2
    # The retired key is gone from the cache too.
    answer = await post(receiver, bearer(old.sign(github_claims())))
    assert answer.error == (401, "bad_credentials")


async def test_a_refetch_does_not_block_the_event_loop(
    receiver: Receiver, jwks_server: JwksServer, oidc_keys: Keys
) -> None:
    jwks_server.publish(oidc_keys[0].jwk(), oidc_keys[1].jwk())
    jwks_server.delay_s = 1.0
    await asyncio.sleep(REFETCH_INTERVAL_S)
    slow = asyncio.create_task(post(receiver, bearer(oidc_keys[1].sign(github_claims()))))
    await asyncio.sleep(0.1)
    async with receiver.http.get(receiver.at("/healthz")) as resp:
        assert resp.status == 200
    assert not slow.done()
    assert (await slow).status == 202


async def test_unknown_kids_are_refetched_at_most_once_per_interval(
    jwks_server: JwksServer, oidc_keys: Keys
) -> None:
    jwks = Jwks(jwks_server.url, ("RS256",), min_interval_s=REFETCH_INTERVAL_S)
    async with aiohttp.ClientSession() as session:
        await jwks.start(session)
        await asyncio.sleep(REFETCH_INTERVAL_S)
        found = await asyncio.gather(*(jwks.key(f"made-up-{i}") for i in range(20)))
        assert found == [None] * 20
        assert jwks_server.fetches == 2
        assert await jwks.key("made-up-again") is None
        assert jwks_server.fetches == 2
        assert await jwks.key(oidc_keys[0].kid) is not None


async def test_keys_not_yet_fetched_answer_503_then_recover(
    settings: Settings, jwks_server: JwksServer, oidc_keys: Keys
) -> None:
    jwks_server.status = 500
    server = await serve(settings)  # starts, though the JWKS cannot be fetched
    receiver = Receiver(str(server.make_url("")).rstrip("/"), aiohttp.ClientSession(), server)
    try:
        token = oidc_keys[0].sign(github_claims())
        answer = await post(receiver, bearer(token))
        assert answer.error == (503, "keys_unavailable")
        jwks_server.status = 200
        await asyncio.sleep(REFETCH_INTERVAL_S)
        assert (await post(receiver, bearer(token))).status == 202
    finally:
        await receiver.http.close()
        await server.close()


def test_only_public_signing_keys_of_the_pinned_algorithms_are_kept(oidc_keys: Keys) -> None:
    good = oidc_keys[0].jwk()
    jwks = [
        good,
        {
            "kty": "oct",
            "kid": "shared",
            "k": b64url(b"a-shared-secret-of-32-bytes-long"),
            "alg": "HS256",
        },
        oidc_keys[1].jwk() | {"alg": "RS512"},
        oidc_keys[1].jwk() | {"kid": "enc", "use": "enc"},
        {"kty": "RSA", "kid": "broken", "n": "AQAB"},
        {"kid": "no-kty"},
        "not-a-key",
        good | {"kid": 7},
    ]
    assert list(parse_jwks(json.dumps({"keys": jwks}), ("RS256",))) == [good["kid"]]
