"""Keys that are not keys: a keys file or URL holding an HTML page, an empty body, or keys of
types tuxhook cannot use, at start-up and while running; and `tuxhook keys fetch` of them."""

from __future__ import annotations

import asyncio
import base64
import json
import struct
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import structlog
from hypothesis import given, settings
from hypothesis import strategies as st
from redis import Redis
from structlog.testing import capture_logs

from shared.errors import ConfigError
from shared.keys import fingerprint, parse_keys
from shared.settings import Settings
from tests.conftest import serving
from tests.support.builders import callback, encode, signed_callback
from tests.support.cli import one_line_error, run_cli, run_cli_async
from tests.support.keys import KeyPair, demo_key_pair, make_key_pair
from tests.support.keys_server import (
    ED25519_LINE,
    EMPTY_BODY,
    HTML_PAGE,
    UNKNOWN_TYPE_LINE,
    KeysServer,
    demo_keys,
    keys_document,
    keys_server,
)
from tests.support.logs import log_events
from tests.support.processes import start_receiver
from tests.support.queues import queued_count
from tests.support.redis_server import free_port
from tests.support.tokens import basic
from tests.support.users import ALICE, users_toml

CALLBACK = "/v1/callbacks/tuxsuite"
REFETCH_S = 0.1  # seconds between refetches (and the keys' maximum age) in these tests
DEMO = demo_key_pair()

# What a keys URL or file may hold instead of keys, and how tuxhook names it.
NOT_KEYS = {
    "html": (HTML_PAGE, "an HTML page, not a keys document"),
    "empty": (EMPTY_BODY, "an empty document"),
    "unknown-types-only": (
        keys_document(UNKNOWN_TYPE_LINE),
        "no usable key (ssh.pub: unknown key type 'ssh-foo')",
    ),
}


@pytest.fixture
def demo_keys_url() -> Iterator[KeysServer]:
    with keys_server(demo_keys()) as served:
        yield served


def url_env(settings_env: dict[str, str], url: str) -> dict[str, str]:
    env = {k: v for k, v in settings_env.items() if k != "TUXHOOK_TUXSUITE_KEYS_FILE"}
    return env | {
        "TUXHOOK_TUXSUITE_KEYS_URL": url,
        "TUXHOOK_KEYS_REFETCH_INTERVAL": str(REFETCH_S),
        "TUXHOOK_KEYS_MAX_AGE": str(REFETCH_S),
    }


async def post(
    http: aiohttp.ClientSession, url: str, body: bytes, headers: dict[str, str]
) -> tuple[int, str, str | None]:
    async with http.post(url, data=body, headers=headers) as resp:
        answer: dict[str, Any] = await resp.json()
        return resp.status, answer.get("error", ""), resp.headers.get("Retry-After")


async def post_signed(http: aiohttp.ClientSession, base: str, keys: KeyPair) -> tuple[int, str]:
    status, error, _ = await post(http, base + CALLBACK, *signed_callback(keys))
    return status, error


# Parsing: the one function both the file and the URL go through.


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        *((answer[1], expected) for answer, expected in NOT_KEYS.values()),
        ("  \n\t\n", "an empty document"),
        ("# only a comment\n   # and an indented one\n", "no key"),
        (f"{ED25519_LINE}\n", "(line 1: SHA256:"),
        (f"{ED25519_LINE}\n", "is a 'ssh-ed25519' key, not ecdsa-sha2-nistp256"),
        (DEMO.public_line[:40], "(line 1: not an OpenSSH public key ('ecdsa-sha2-nistp256' ...))"),
        ('{"pat": []}', "JSON without a key at ssh.pub"),
        ('{"ssh": {"pub": 7}}', "neither a key line nor a list of them"),
        ('{"ssh": ', "a document that starts as JSON but is not JSON"),
        ('{"ssh": ' + "[" * 60_000, "a document that starts as JSON but is not JSON"),
        ("\n".join([UNKNOWN_TYPE_LINE] * 5), "line 3: unknown key type 'ssh-foo'; and 2 more)"),
    ],
    ids=[
        *NOT_KEYS,
        "blank",
        "comments-only",
        "ed25519-names-its-key",
        "ed25519-says-why",
        "cut-short",
        "json-without-ssh-pub",
        "json-ssh-pub-number",
        "broken-json",
        "json-nested-too-deep",
        "many-unknown",
    ],
)
def test_a_document_without_a_usable_key_is_refused_saying_what_it_is(
    text: str, expected: str
) -> None:
    with pytest.raises(ConfigError) as refused:
        parse_keys(text)
    assert expected in refused.value.message
    assert "\n" not in refused.value.message


@pytest.mark.parametrize(
    ("text", "skipped"),
    [
        (
            keys_document(UNKNOWN_TYPE_LINE, DEMO.public_line, ED25519_LINE)[1],
            ["ssh.pub[0]: unknown key type 'ssh-foo'", "ssh.pub[2]: SHA256:"],
        ),
        (
            f"  # TuxSuite's keys\n{UNKNOWN_TYPE_LINE}\n\t# the demo key:\n  {DEMO.public_line}\n",
            ["line 2: unknown key type 'ssh-foo'"],
        ),
        (demo_keys()[1], []),
        ("\ufeff" + demo_keys()[1], []),
    ],
    ids=[
        "json-list-of-three-types",
        "lines-with-indented-comments",
        "the-sample-keys-json",
        "with-a-byte-order-mark",
    ],
)
def test_usable_keys_are_used_beside_unusable_ones(text: str, skipped: list[str]) -> None:
    found = parse_keys(text)
    assert [k.fingerprint for k in found.keys] == [fingerprint(DEMO.public_line)]
    assert len(found.skipped) == len(skipped)
    for reason, start in zip(found.skipped, skipped, strict=True):
        assert reason.startswith(start)


# A keys file, at start-up.


@pytest.mark.parametrize(("answer", "expected"), NOT_KEYS.values(), ids=NOT_KEYS.keys())
def test_a_keys_file_without_a_usable_key_stops_start_up_with_one_line(
    tmp_path: Path, answer: tuple[str, str], expected: str
) -> None:
    path = tmp_path / "keys.json"
    path.write_text(answer[1])
    result = run_cli({"TUXHOOK_TUXSUITE_KEYS_FILE": str(path)}, "receiver", "--port", "0")
    assert one_line_error(result) == f"tuxhook: error: keys file {path} holds {expected}"


async def test_a_keys_file_of_mixed_types_verifies_with_the_usable_key(
    settings_env: dict[str, str], tmp_path: Path, redis_client: Redis
) -> None:
    path = tmp_path / "authorized.pub"
    path.write_text(f"  # group keys\n{UNKNOWN_TYPE_LINE}\n{ED25519_LINE}\n{DEMO.public_line}\n")
    settings_env["TUXHOOK_TUXSUITE_KEYS_FILE"] = str(path)
    with capture_logs() as entries:
        async with serving(Settings.from_env(settings_env)) as served:
            assert await post_signed(served.http, served.url, DEMO) == (202, "")
    skipped = [e["reason"] for e in entries if e["event"] == "key_skipped"]
    assert [why.split(":")[0] for why in skipped] == ["line 2", "line 3"]
    assert queued_count(redis_client) == 1


# A keys URL, at start-up: the receiver starts, and answers callbacks 503 until keys arrive.


@pytest.mark.parametrize(("answer", "expected"), NOT_KEYS.values(), ids=NOT_KEYS.keys())
async def test_a_receiver_whose_keys_url_serves_no_keys_starts_and_defers_callbacks(
    settings_env: dict[str, str],
    tmp_path: Path,
    redis_client: Redis,
    answer: tuple[str, str],
    expected: str,
) -> None:
    users = tmp_path / "users.toml"
    users.write_text(users_toml())
    with keys_server(answer) as keys_url:
        env = url_env(settings_env, keys_url.url) | {"TUXHOOK_USERS_FILE": str(users)}
        env["TUXHOOK_LOG_LEVEL"] = "INFO"
        port = free_port()
        # The real command, as compose runs it: started means it answers /healthz.
        receiver = start_receiver(env, port, tmp_path / "receiver.log")
        base = f"http://127.0.0.1:{port}"
        try:
            async with aiohttp.ClientSession() as http:
                status, error, retry_after = await post(
                    http, base + CALLBACK, *signed_callback(DEMO)
                )
                assert (status, error) == (503, "keys_unavailable")
                assert retry_after is not None and int(retry_after) > 0
                # Token intake does not need TuxSuite's keys.
                event = encode(callback())
                headers = {"Content-Type": "application/json"} | basic(ALICE.name, ALICE.key)
                assert (await post(http, base + "/v1/events", event, headers))[0] == 202
                keys_url.answer = demo_keys()  # the URL is mended
                await asyncio.sleep(REFETCH_S)
                assert await post_signed(http, base, DEMO) == (202, "")
        finally:
            receiver.stop()
    [failed, *_] = log_events(receiver, "keys_fetch_failed")
    assert failed["reason"] == f"keys URL answered {expected}"
    assert log_events(receiver, "no_tuxsuite_keys_yet")
    assert "Traceback" not in receiver.output()
    assert queued_count(redis_client) == 2


async def test_with_file_keys_a_callback_no_key_verifies_waits_for_the_url_keys(
    settings_env: dict[str, str], tmp_path: Path, redis_client: Redis
) -> None:
    """The group's key may be one only the URL serves: until the URL has answered keys once,
    such a callback is deferred (503, retried by TuxSuite), not refused for good (401)."""
    group = make_key_pair(tmp_path, "group")
    with keys_server(HTML_PAGE) as keys_url:
        env = url_env(settings_env, keys_url.url)
        env["TUXHOOK_TUXSUITE_KEYS_FILE"] = str(DEMO.public_path)
        async with serving(Settings.from_env(env)) as served:
            http, base = served.http, served.url
            assert await post_signed(http, base, DEMO) == (202, "")
            assert await post_signed(http, base, group) == (503, "keys_unavailable")
            keys_url.answer = keys_document(group.public_line)
            await asyncio.sleep(REFETCH_S)
            assert await post_signed(http, base, group) == (202, "")
            stranger = make_key_pair(tmp_path, "stranger")
            assert await post_signed(http, base, stranger) == (401, "bad_signature")
    assert queued_count(redis_client) == 2


# A keys URL, while running: what is not keys changes nothing.


@pytest.mark.parametrize(("answer", "expected"), NOT_KEYS.values(), ids=NOT_KEYS.keys())
async def test_a_keys_url_that_stops_serving_keys_leaves_the_keys_held(
    settings_env: dict[str, str],
    demo_keys_url: KeysServer,
    tmp_path: Path,
    redis_client: Redis,
    answer: tuple[str, str],
    expected: str,
) -> None:
    stranger = make_key_pair(tmp_path, "stranger")
    with capture_logs(processors=[structlog.contextvars.merge_contextvars]) as entries:
        async with serving(Settings.from_env(url_env(settings_env, demo_keys_url.url))) as served:
            http, base = served.http, served.url
            assert await post_signed(http, base, DEMO) == (202, "")
            demo_keys_url.answer = answer
            await asyncio.sleep(REFETCH_S)  # the keys are now stale: the next callback refetches
            assert await post_signed(http, base, DEMO) == (202, "")
            assert await post_signed(http, base, stranger) == (401, "bad_signature")
    assert demo_keys_url.fetches >= 2
    reasons = [e["reason"] for e in entries if e["event"] == "keys_fetch_failed"]
    assert reasons and set(reasons) == {f"keys URL answered {expected}"}
    assert queued_count(redis_client) == 2


async def test_a_keys_url_of_mixed_types_rotates_to_the_usable_key(
    settings_env: dict[str, str], demo_keys_url: KeysServer, tmp_path: Path, redis_client: Redis
) -> None:
    new = make_key_pair(tmp_path, "new")
    with capture_logs() as entries:
        async with serving(Settings.from_env(url_env(settings_env, demo_keys_url.url))) as served:
            http, base = served.http, served.url
            demo_keys_url.answer = keys_document(UNKNOWN_TYPE_LINE, new.public_line)
            await asyncio.sleep(REFETCH_S)
            assert await post_signed(http, base, new) == (202, "")
            assert await post_signed(http, base, DEMO) == (401, "bad_signature")  # revoked
    skipped = [e for e in entries if e["event"] == "key_skipped"]
    assert [e["reason"] for e in skipped] == ["ssh.pub[0]: unknown key type 'ssh-foo'"]
    assert queued_count(redis_client) == 1


# `tuxhook keys fetch`: checks the document before it saves anything.


@pytest.mark.parametrize(("answer", "expected"), NOT_KEYS.values(), ids=NOT_KEYS.keys())
async def test_keys_fetch_of_no_keys_is_one_line_and_saves_nothing(
    tmp_path: Path, answer: tuple[str, str], expected: str
) -> None:
    out = tmp_path / "keys.json"
    with keys_server(answer) as served:
        result = await run_cli_async({}, "keys", "fetch", "--url", served.url, "-o", str(out))
    assert one_line_error(result) == f"tuxhook: error: keys URL answered {expected}; nothing saved"
    assert not out.exists()


async def test_keys_fetch_of_mixed_types_saves_them_and_names_what_it_left_out(
    tmp_path: Path,
) -> None:
    out = tmp_path / "keys.json"
    document = keys_document(UNKNOWN_TYPE_LINE, DEMO.public_line)
    with keys_server(document) as served:
        result = await run_cli_async({}, "keys", "fetch", "--url", served.url, "-o", str(out))
    assert result.returncode == 0, result.stderr
    assert json.loads(out.read_text()) == json.loads(document[1])
    assert result.stderr.splitlines() == [
        "tuxhook: warning: left out ssh.pub[0]: unknown key type 'ssh-foo'",
        f"saved 1 key(s) to {out}",
    ]
    # What it saved is a keys file the receiver starts with.
    assert parse_keys(out.read_text()).keys[0].fingerprint == fingerprint(DEMO.public_line)


# Whatever a keys document holds, parsing gives usable keys or one ConfigError: never
# cryptography's UnsupportedAlgorithm, nor any other exception.

KEY_TYPES = [
    "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ssh-ed25519", "ssh-rsa", "ssh-dss",
    "sk-ecdsa-sha2-nistp256@openssh.com", "ssh-foo", "<!DOCTYPE", "#", "{", "",
]  # fmt: skip


INDENTS = ["", " ", "\t"]


@st.composite
def key_lines(draw: st.DrawFn) -> str:
    """A line naming a key type, with a blob that often starts as that type's would."""
    kind = draw(st.sampled_from(KEY_TYPES))
    named = struct.pack(">I", len(kind)) + kind.encode() if draw(st.booleans()) else b""
    blob = base64.b64encode(named + draw(st.binary(max_size=120))).decode()
    blob = draw(st.sampled_from([blob, blob.rstrip("="), blob[: len(blob) // 2]]))
    indent = draw(st.sampled_from(INDENTS))
    return f"{indent}{kind} {blob} {draw(st.text(max_size=8))}"


LINES = key_lines() | st.just(DEMO.public_line) | st.text(max_size=60)
KEYS_DOCUMENTS = (
    st.lists(LINES, max_size=5).map("\n".join)
    | st.lists(LINES, max_size=4).map(lambda ls: keys_document(*ls)[1] if ls else "{}")
    | st.text(max_size=200)
)


@settings(max_examples=500, deadline=None)
@given(KEYS_DOCUMENTS)
def test_any_keys_document_gives_usable_keys_or_one_config_error(text: str) -> None:
    try:
        found = parse_keys(text)
    except ConfigError as e:
        assert e.message and "\n" not in e.message
        return
    assert found.keys
    assert all(k.key.curve.name == "secp256r1" for k in found.keys)
