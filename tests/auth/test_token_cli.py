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
from tests.support.users import ALICE, BOB

SHORT_KEY = "k" * 31
ISSUER = "travis-ci.org"


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


async def test_a_token_without_a_slug_is_minted_with_a_note_and_refused_saying_why(
    receiver: Receiver, redis_client: Redis
) -> None:
    code, out, err = await tuxhook({"TUXHOOK_ACCESS_KEY": BOB.key}, "token", "--user", "bob")
    assert code == 0
    assert err.splitlines() == [
        "tuxhook: note: this token carries no slug, so a user with a slugs list in the users"
        " file cannot report with it (--slug)"
    ]
    answer = await post(receiver, basic("bob", out.strip()))
    assert answer.error == (403, "forbidden_slug")
    assert answer.body["message"] == (
        "the token carries no slug, and bob may only report linaro/lkft (tuxhook token --slug)"
    )
    assert queued_jobs(redis_client) == []


async def test_a_token_for_another_slug_is_refused_naming_the_allowed_ones(
    receiver: Receiver,
) -> None:
    args = ("token", "--user", "bob", "--slug", "linaro/other")
    code, out, err = await tuxhook({"TUXHOOK_ACCESS_KEY": BOB.key}, *args)
    assert (code, err) == (0, "")
    answer = await post(receiver, basic("bob", out.strip()))
    assert answer.error == (403, "forbidden_slug")
    assert answer.body["message"] == "bob may not report 'linaro/other', only linaro/lkft"


async def test_a_lifetime_the_receiver_would_refuse_is_refused_first_naming_the_limit() -> None:
    code, out, err = await tuxhook(
        {"TUXHOOK_ACCESS_KEY": ALICE.key},
        "token",
        "--user",
        "alice",
        "--slug",
        "s",
        "--ttl",
        "99999",
    )
    assert (code, out) == (1, "")
    assert err.splitlines() == [
        "tuxhook: error: --ttl 99999 is over 5400 s, the longest lifetime a receiver accepts by"
        " default: if its users file allows longer (the issuer's max_lifetime), pass that as"
        " --max-ttl"
    ]


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (("--ttl", "5400"), 0, None),
        (("--ttl", "99999", "--max-ttl", "99999"), 0, None),
        (
            ("--ttl", "600", "--max-ttl", "300"),
            1,
            "tuxhook: error: --ttl 600 is over --max-ttl 300",
        ),
    ],
)
def test_the_limit_is_the_default_unless_the_users_file_says_otherwise(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    args: tuple[str, ...],
    code: int,
    message: str | None,
) -> None:
    monkeypatch.setenv("TUXHOOK_ACCESS_KEY", ALICE.key)
    assert main(["token", "--user", "alice", "--slug", "s", *args]) == code
    captured = capsys.readouterr()
    assert captured.err == (f"{message}\n" if message else "")
    if code == 0:
        claims = jwt.decode(captured.out.strip(), ALICE.key, algorithms=["HS256"], issuer=ISSUER)
        assert claims["exp"] - claims["iat"] == int(args[1])
