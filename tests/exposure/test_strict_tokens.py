"""Tokens the issue found accepted, each refused with its own 401 code by a real receiver."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from redis import Redis

from tests.exposure.conftest import Exposed
from tests.support.builders import callback, encode
from tests.support.http import fetch
from tests.support.queues import queued_count
from tests.support.refusals import check_error
from tests.support.tokens import basic, hs256, hs256_of_text, now, token_claims
from tests.support.users import ALICE

HEADER = '{"alg":"HS256","typ":"JWT"}'


def claims_text(text: str) -> Callable[[], str]:
    """Alice's token from JSON text (which may repeat a key); IAT and EXP are filled in."""

    def build() -> str:
        filled = text.replace("IAT", str(now())).replace("EXP", str(now() + 600))
        return hs256_of_text(HEADER, filled, ALICE.key)

    return build


def claims(**given: Any) -> Callable[[], str]:
    return lambda: hs256(token_claims("alice", **given), ALICE.key)


CASES = [
    pytest.param(claims(iat_offset=20, ttl=-10), "token_exp_before_iat", id="exp-before-iat"),
    pytest.param(
        claims_text('{"iss":"evil","iss":"travis-ci.org","sub":"alice","iat":IAT,"exp":EXP}'),
        "token_duplicate_key",
        id="duplicate-iss",
    ),
    pytest.param(
        lambda: hs256(token_claims("alice") | {"exp": str(now() + 600)}, ALICE.key),
        "token_time_not_a_number",
        id="exp-string-of-digits",
    ),
    pytest.param(
        lambda: hs256(token_claims("alice") | {"iat": str(now())}, ALICE.key),
        "token_time_not_a_number",
        id="iat-string-of-digits",
    ),
    pytest.param(claims(aud=""), "token_audience_refused", id="audience-empty-string"),
    pytest.param(claims(aud=[]), "token_audience_refused", id="audience-empty-list"),
]


@pytest.mark.parametrize(("build", "code"), CASES)
async def test_a_loose_token_is_refused_with_its_code(
    exposed: Exposed, redis_client: Redis, build: Callable[[], str], code: str
) -> None:
    headers = {"Content-Type": "application/json", **basic("alice", build())}
    answer = await fetch(
        "POST", exposed.url + "/v1/events", headers=headers, data=encode(callback())
    )
    assert answer.status == 401
    assert 'error="invalid_token"' in answer.headers["WWW-Authenticate"]
    check_error(answer.json(), code)
    assert queued_count(redis_client) == 0
