"""An [issuers] section replaces the default allow-list, with its own algorithms and lifetime."""

from __future__ import annotations

import pytest

from tests.conftest import Receiver
from tests.support.http import post
from tests.support.tokens import basic, hs256, token_claims
from tests.support.users import ALICE
from tests.support.users import users_toml as build_users_toml

LONG_KEY = ALICE.key + "-0123456789-0123456789--"  # 64 bytes: enough for HS384 and HS512


@pytest.fixture
def users_toml() -> str:
    issuers = '[issuers."ci.example"]\nalgorithms = ["HS256", "HS384"]\nmax_lifetime = 600\n'
    return build_users_toml((), f'[users.alice]\naccess_key = "{LONG_KEY}"\n', issuers)


@pytest.mark.parametrize(
    ("issuer", "algorithm", "ttl", "expected"),
    [
        ("ci.example", "HS256", 600, (202, None)),
        ("ci.example", "HS384", 600, (202, None)),
        ("ci.example", "HS512", 600, (401, "bad_credentials")),
        ("ci.example", "HS256", 601, (401, "token_too_long_lived")),
        ("travis-ci.org", "HS256", 600, (401, "bad_issuer")),
    ],
)
async def test_the_configured_issuers_alone_are_allowed(
    receiver: Receiver, issuer: str, algorithm: str, ttl: int, expected: tuple[int, str | None]
) -> None:
    token = hs256(token_claims("alice", iss=issuer, ttl=ttl), LONG_KEY, algorithm)
    assert (await post(receiver, basic("alice", token))).error == expected
