"""The JWT rules of the addon's scheme: every way a token can be wrong, and its answer."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jwt
import pytest
from redis import Redis

from tests.conftest import Receiver
from tests.support.http import post
from tests.support.queues import queued_count
from tests.support.tokens import (
    RsaKey,
    basic,
    forge_hs256,
    hs256,
    hs256_of_text,
    now,
    tampered,
    token_claims,
    unsigned,
)
from tests.support.users import ALICE, BOB

Build = Callable[[], str]
KEY = ALICE.key.encode()


def alice(**claims: Any) -> str:
    return hs256(token_claims("alice", **claims), ALICE.key)


HEADER = '{"alg":"HS256","typ":"JWT"}'


def alice_text(claims: str, header: str = HEADER) -> str:
    """Alice's token from JSON text (which may repeat a key); IAT and EXP are filled in."""
    times = claims.replace("IAT", str(now())).replace("EXP", str(now() + 600))
    return hs256_of_text(header, times, ALICE.key)


CLAIMS = '"sub":"alice","iat":IAT,"exp":EXP'


REJECTED: list[object] = [
    pytest.param(lambda: unsigned(token_claims("alice")), "bad_credentials", id="alg-none"),
    pytest.param(
        lambda: hs256(token_claims("alice"), ALICE.key + "-pad-to-48-bytes", "HS384"),
        "bad_credentials",
        id="alg-not-pinned",
    ),
    pytest.param(
        lambda: tampered(alice(slug="linaro/lkft"), slug="linaro/other"),
        "bad_credentials",
        id="tampered-payload",
    ),
    pytest.param(lambda: tampered(alice(), exp=2**40), "bad_credentials", id="tampered-exp"),
    pytest.param(lambda: alice()[:-2], "bad_credentials", id="truncated-signature"),
    pytest.param(lambda: alice(iat_offset=-4000, ttl=3000), "token_expired", id="expired"),
    pytest.param(lambda: alice(iat_offset=600), "token_not_yet_valid", id="future-iat"),
    pytest.param(lambda: alice(nbf=2**32), "token_not_yet_valid", id="future-nbf"),
    pytest.param(lambda: alice(drop=("exp",)), "bad_credentials", id="no-exp"),
    pytest.param(lambda: alice(drop=("iat",)), "bad_credentials", id="no-iat"),
    pytest.param(lambda: alice(iat="yesterday"), "token_time_not_a_number", id="iat-not-a-number"),
    pytest.param(
        lambda: alice(exp=str(now() + 600)), "token_time_not_a_number", id="exp-string-of-digits"
    ),
    pytest.param(
        lambda: alice(iat=str(now())), "token_time_not_a_number", id="iat-string-of-digits"
    ),
    pytest.param(
        lambda: alice(nbf=str(now())), "token_time_not_a_number", id="nbf-string-of-digits"
    ),
    pytest.param(lambda: alice(nbf=True), "token_time_not_a_number", id="nbf-true"),
    pytest.param(lambda: alice(exp=[now() + 600]), "token_time_not_a_number", id="exp-a-list"),
    pytest.param(
        lambda: alice(iat_offset=20, ttl=-10), "token_exp_before_iat", id="exp-before-iat"
    ),
    pytest.param(lambda: alice(ttl=0), "token_exp_before_iat", id="exp-equals-iat"),
    pytest.param(
        lambda: alice_text('{"iss":"evil","iss":"travis-ci.org",' + CLAIMS + "}"),
        "token_duplicate_key",
        id="duplicate-iss",
    ),
    pytest.param(
        lambda: alice_text('{"iss":"travis-ci.org",' + CLAIMS + ',"sub":"bob"}'),
        "token_duplicate_key",
        id="duplicate-sub",
    ),
    pytest.param(
        lambda: alice_text(
            '{"iss":"travis-ci.org",' + CLAIMS + "}", '{"alg":"none","alg":"HS256"}'
        ),
        "token_duplicate_key",
        id="duplicate-alg-in-header",
    ),
    pytest.param(lambda: alice(aud=""), "token_audience_refused", id="audience-empty-string"),
    pytest.param(lambda: alice(aud=[]), "token_audience_refused", id="audience-empty-list"),
    pytest.param(lambda: alice(iss="github.com"), "bad_issuer", id="wrong-issuer"),
    pytest.param(lambda: alice(drop=("iss",)), "bad_issuer", id="no-issuer"),
    pytest.param(
        lambda: forge_hs256(token_claims("alice", iss=None) | {"iss": ["travis-ci.org"]}, KEY),
        "bad_issuer",
        id="issuer-not-a-string",
    ),
    pytest.param(lambda: alice(ttl=5401), "token_too_long_lived", id="over-long-lifetime"),
    pytest.param(
        lambda: alice(iat_offset=-5000, ttl=6000), "token_too_long_lived", id="old-iat-late-exp"
    ),
    pytest.param(lambda: alice(aud="someone"), "token_audience_refused", id="unexpected-audience"),
    pytest.param(lambda: alice(**{"pull-request": "abc"}), "bad_credentials", id="bad-pr"),
    pytest.param(lambda: alice(**{"pull-request": 2**64}), "bad_credentials", id="pr-2**64"),
    pytest.param(lambda: alice(**{"pull-request": str(2**31)}), "bad_credentials", id="pr-2**31"),
    pytest.param(lambda: alice(**{"pull-request": 0}), "bad_credentials", id="pr-0"),
    pytest.param(lambda: alice(slug=["linaro/lkft"]), "bad_credentials", id="slug-not-a-string"),
]


@pytest.mark.parametrize(("build", "code"), REJECTED)
async def test_a_wrong_token_is_refused_with_its_cause(
    receiver: Receiver, redis_client: Redis, build: Build, code: str
) -> None:
    answer = await post(receiver, basic("alice", build()))
    assert answer.error == (401, code), answer.body
    assert answer.challenge is not None and 'error="invalid_token"' in answer.challenge
    assert queued_count(redis_client) == 0


@pytest.fixture(scope="module")
def rsa_key() -> RsaKey:
    return RsaKey.generate("confusion")


async def test_hs256_signed_with_an_rsa_public_key_is_refused(
    receiver: Receiver, rsa_key: RsaKey
) -> None:
    """The classic confusion: the public key, known to all, used as an HMAC secret."""
    token = forge_hs256(token_claims("alice"), rsa_key.public_pem)
    assert (await post(receiver, basic("alice", token))).error == (401, "bad_credentials")


@pytest.mark.parametrize(
    "build",
    [
        pytest.param(lambda: alice(iat_offset=-4000, ttl=3000), id="expired"),
        pytest.param(lambda: alice(iat_offset=600), id="future-iat"),
        pytest.param(lambda: alice(ttl=9000), id="over-long"),
        pytest.param(lambda: alice(drop=("exp",)), id="no-exp"),
        pytest.param(lambda: alice(exp=str(now() + 600)), id="exp-string-of-digits"),
        pytest.param(lambda: alice(iat_offset=20, ttl=-10), id="exp-before-iat"),
        pytest.param(lambda: alice(aud=""), id="audience-empty-string"),
    ],
)
async def test_claims_are_judged_only_once_the_signature_holds(
    receiver: Receiver, build: Build
) -> None:
    # Signed with bob's key: the answer must not tell what else is wrong with it.
    token = build()
    forged = hs256(_claims_of(token), BOB.key)
    answer = await post(receiver, basic("alice", forged))
    assert (answer.error, answer.body["message"]) == (
        (401, "bad_credentials"),
        "the credentials are not valid",
    )


def _claims_of(token: str) -> dict[str, Any]:
    claims: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    return claims


ACCEPTED: list[object] = [
    pytest.param(lambda: alice(ttl=5400), id="lifetime-at-the-maximum"),
    pytest.param(lambda: alice(iat_offset=10), id="iat-within-the-leeway"),
    pytest.param(lambda: alice(**{"pull-request": "false"}), id="pull-request-false"),
]


@pytest.mark.parametrize("build", ACCEPTED)
async def test_edge_tokens_are_accepted(
    receiver: Receiver, redis_client: Redis, build: Build
) -> None:
    answer = await post(receiver, basic("alice", build()))
    assert answer.status == 202, answer.body
    assert queued_count(redis_client) == 1
