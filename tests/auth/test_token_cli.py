"""`tuxhook token`: mints what the receiver accepts, and refuses a missing or short key."""

from __future__ import annotations

import asyncio

import jwt
import pytest
from redis import Redis

from shared.cli import main
from tests.conftest import Receiver
from tests.support.http import post
from tests.support.processes import child_env, tuxhook_command
from tests.support.queues import delivery_of, queued_jobs
from tests.support.tokens import basic, bearer
from tests.support.users import ALICE

SHORT_KEY = "k" * 31


async def tuxhook(env: dict[str, str], *args: str) -> tuple[int, str, str]:
    """Run the real command without blocking the loop the receiver serves from."""
    proc = await asyncio.create_subprocess_exec(
        *tuxhook_command(*args),
        env=child_env(env),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), timeout=60)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def test_a_minted_token_verifies_and_is_accepted(
    receiver: Receiver, redis_client: Redis
) -> None:
    env = {"TUXHOOK_ACCESS_KEY": ALICE.key}
    args = ("token", "--user", "alice", "--slug", "linaro/lkft", "--pull-request", "7")
    code, out, err = await tuxhook(env, *args, "--ttl", "600")
    assert (code, err) == (0, "")
    [token] = out.splitlines()
    claims = jwt.decode(token, ALICE.key, algorithms=["HS256"], issuer="travis-ci.org")
    assert claims["exp"] - claims["iat"] == 600
    assert (claims["sub"], claims["slug"], claims["pull-request"]) == ("alice", "linaro/lkft", 7)
    for headers in (bearer(token), basic("alice", token)):
        assert (await post(receiver, headers)).status == 202
    auth = delivery_of(queued_jobs(redis_client)[0])["auth"]
    assert (auth["user"], auth["slug"], auth["pull_request"]) == ("alice", "linaro/lkft", 7)


async def test_without_an_access_key_it_prints_one_line_and_fails() -> None:
    code, out, err = await tuxhook({}, "token", "--user", "alice")
    assert (code, out) == (1, "")
    assert err.splitlines() == [
        "tuxhook: error: TUXHOOK_ACCESS_KEY is not set: it holds the access key to sign with"
    ]


@pytest.mark.parametrize(
    ("key", "args", "message"),
    [
        (SHORT_KEY, (), "TUXHOOK_ACCESS_KEY is shorter than 32 bytes"),
        (ALICE.key, ("--ttl", "0"), "--ttl must be a positive number of seconds"),
        (ALICE.key, ("--pull-request", "0"), "--pull-request must be a positive number"),
    ],
)
def test_bad_input_is_one_error_line(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    key: str,
    args: tuple[str, ...],
    message: str,
) -> None:
    monkeypatch.setenv("TUXHOOK_ACCESS_KEY", key)
    assert main(["token", "--user", "alice", *args]) == 1
    captured = capsys.readouterr()
    assert (captured.out, captured.err) == ("", f"tuxhook: error: {message}\n")
    assert key not in captured.err


def test_the_issuer_can_be_chosen(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("TUXHOOK_ACCESS_KEY", ALICE.key)
    assert main(["token", "--user", "alice", "--issuer", "ci.example"]) == 0
    token = capsys.readouterr().out.strip()
    claims = jwt.decode(token, ALICE.key, algorithms=["HS256"], issuer="ci.example")
    assert claims["exp"] - claims["iat"] == 5400
    assert "slug" not in claims and "pull-request" not in claims
