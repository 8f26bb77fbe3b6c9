"""[tuxsuite] require_header: signed callbacks must also carry a user's credentials."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from redis import Redis

from shared.constants import SIGNATURE_HEADER
from tests.conftest import Receiver
from tests.support.builders import signed_callback
from tests.support.http import post
from tests.support.keys import KeyPair
from tests.support.processes import child_env, tuxhook_command
from tests.support.queues import delivery_of, queued_count, queued_jobs
from tests.support.tokens import basic, bearer, hs256, token_claims
from tests.support.users import ALICE, BOB
from tests.support.users import users_toml as build_users_toml

HEADER = "X-Tuxhook-Token"
CALLBACK = "/v1/callbacks/tuxsuite"
Value = Callable[[], str]


@pytest.fixture
def users_toml() -> str:
    return build_users_toml((ALICE, BOB), f'[tuxsuite]\nrequire_header = "{HEADER}"\n')


def basic_value(user: str, credential: str) -> str:
    return basic(user, credential)["Authorization"]


def bearer_value(token: str) -> str:
    return bearer(token)["Authorization"]


async def post_callback(
    receiver: Receiver, keys: KeyPair, extra: dict[str, str]
) -> tuple[int, str | None]:
    body, headers = signed_callback(keys)
    answer = await post(receiver, headers | extra, body, path=CALLBACK)
    return answer.error


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param(None, (401, "missing_credentials"), id="missing"),
        pytest.param(lambda: "", (401, "missing_credentials"), id="empty"),
        pytest.param(lambda: basic_value("alice", BOB.key), (401, "bad_credentials"), id="bad"),
        pytest.param(lambda: "Bearer x.y.z", (401, "bad_credentials"), id="garbage"),
        pytest.param(
            lambda: bearer_value(hs256(token_claims(iat_offset=-9000), ALICE.key)),
            (401, "token_expired"),
            id="expired",
        ),
        pytest.param(
            lambda: bearer_value(hs256(token_claims("bob", slug="x/y"), BOB.key)),
            (403, "forbidden_slug"),
            id="forbidden-slug",
        ),
    ],
)
async def test_a_callback_without_good_credentials_is_refused(
    receiver: Receiver,
    keys: KeyPair,
    redis_client: Redis,
    value: Value | None,
    expected: tuple[int, str],
) -> None:
    extra = {} if value is None else {HEADER: value()}
    assert await post_callback(receiver, keys, extra) == expected
    assert queued_count(redis_client) == 0


@pytest.mark.parametrize(
    ("value", "method"),
    [
        pytest.param(lambda: basic_value("alice", ALICE.key), "access_key", id="basic-key"),
        pytest.param(
            lambda: basic_value("alice", hs256(token_claims(), ALICE.key)), "jwt", id="basic-jwt"
        ),
        pytest.param(lambda: bearer_value(hs256(token_claims(), ALICE.key)), "jwt", id="bearer"),
    ],
)
async def test_a_signed_callback_with_good_credentials_is_queued(
    receiver: Receiver, keys: KeyPair, redis_client: Redis, value: Value, method: str
) -> None:
    assert await post_callback(receiver, keys, {HEADER: value()}) == (202, None)
    [job] = queued_jobs(redis_client)
    delivery: dict[str, Any] = delivery_of(job)
    assert delivery["verified_by"].startswith("key:SHA256:")
    assert (delivery["auth"]["user"], delivery["auth"]["method"]) == ("alice", method)


async def test_the_signature_is_still_required_and_checked_first(
    receiver: Receiver, keys: KeyPair
) -> None:
    body, headers = signed_callback(keys)
    good = {HEADER: basic_value("alice", ALICE.key)}
    unsigned = {k: v for k, v in headers.items() if k != SIGNATURE_HEADER}
    answer = await post(receiver, unsigned | good, body, path=CALLBACK)
    assert answer.error == (401, "missing_signature")
    forged = headers | {SIGNATURE_HEADER: keys.sign(b"another body")}
    answer = await post(receiver, forged | {HEADER: "Basic nonsense"}, body, path=CALLBACK)
    assert answer.error == (401, "bad_signature")


async def test_a_repeated_header_is_refused(receiver: Receiver, keys: KeyPair) -> None:
    body, headers = signed_callback(keys)
    value = basic_value("alice", ALICE.key)
    pairs = [*headers.items(), (HEADER, value), (HEADER, value)]
    async with receiver.http.post(receiver.at(CALLBACK), data=body, headers=pairs) as resp:
        assert (resp.status, (await resp.json())["error"]) == (401, "bad_credentials")


@pytest.mark.parametrize(
    "value",
    [
        pytest.param(lambda: basic_value("alice", ALICE.key), id="basic"),
        pytest.param(lambda: bearer_value(hs256(token_claims(), ALICE.key)), id="bearer"),
    ],
)
async def test_the_value_passes_a_cli_that_splits_on_colons(
    receiver: Receiver,
    keys: KeyPair,
    redis_client: Redis,
    settings_env: dict[str, str],
    tmp_path: Path,
    value: Value,
) -> None:
    """TuxSuite's CLI splits --callback-header on ':', so the value must hold none."""
    text = value()
    assert ":" not in text
    body, _ = signed_callback(keys)
    (tmp_path / "build.json").write_bytes(body)
    args = tuxhook_command(
        "send", receiver.at(CALLBACK), str(tmp_path / "build.json"),
        "--key", str(keys.private_path), "--header", f"{HEADER}: {text}",
    )  # fmt: skip
    # The receiver serves from this event loop: run the sender without blocking it.
    proc = await asyncio.create_subprocess_exec(
        *args, env=child_env(settings_env), stdout=asyncio.subprocess.PIPE
    )
    out, _ = await asyncio.wait_for(proc.communicate(), timeout=60)
    assert proc.returncode == 0, out
    assert queued_count(redis_client) == 1
