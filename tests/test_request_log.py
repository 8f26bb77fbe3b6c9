"""The one log line per request never carries the signature, accepted or refused."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import aiohttp
import pytest
import structlog
from redis import Redis
from structlog.testing import capture_logs

from shared.constants import SIGNATURE_HEADER
from shared.identity import body_digest, job_id
from tests.conftest import Receiver
from tests.support.builders import new_uid, signed_callback, signed_raw
from tests.support.keys import KeyPair
from tests.support.logs import log_events
from tests.support.processes import start_receiver
from tests.support.redis_server import free_port
from tests.support.refusals import CALLBACK, post_callback
from tests.support.signatures import by_another_key

Request = tuple[bytes, dict[str, str]]


def resigned(change: Callable[[str], str]) -> Callable[[KeyPair], Request]:
    def build(keys: KeyPair) -> Request:
        body, headers = signed_callback(keys)
        return body, {**headers, SIGNATURE_HEADER: change(headers[SIGNATURE_HEADER])}

    return build


def another_key(keys: KeyPair) -> Request:
    body, headers = signed_callback(keys)
    return body, {**headers, SIGNATURE_HEADER: by_another_key(body)}


REQUESTS = [
    pytest.param(resigned(lambda s: s), 202, "ok", id="accepted"),
    pytest.param(another_key, 401, "bad_signature", id="another-key"),
    pytest.param(resigned(lambda s: s + "!"), 401, "bad_signature", id="malformed"),
    pytest.param(resigned(lambda s: f"{s}, {s}"), 401, "bad_signature", id="two-values"),
    pytest.param(lambda k: signed_raw(k, b"{"), 400, "invalid_json", id="signed-not-json"),
]


def fragments(signature: str, size: int = 12) -> list[str]:
    """Every run of `size` characters of the signature: a log must not hold even a part."""
    return [signature[i : i + size] for i in range(len(signature) - size + 1)]


@pytest.mark.parametrize(("build", "status", "outcome"), REQUESTS)
async def test_request_log_line_never_shows_the_signature(
    receiver: Receiver,
    keys: KeyPair,
    redis_client: Redis,
    build: Callable[[KeyPair], Request],
    status: int,
    outcome: str,
) -> None:
    body, headers = build(keys)
    with capture_logs(processors=[structlog.contextvars.merge_contextvars]) as entries:
        assert (await post_callback(receiver, body, headers))[0] == status
    [line] = [entry for entry in entries if entry["event"] == "request"]
    assert (line["status"], line["outcome"]) == (status, outcome)
    assert line["request_id"]
    logged = json.dumps(entries, default=str)
    assert not [part for part in fragments(headers[SIGNATURE_HEADER]) if part in logged]


async def test_receiver_process_logs_no_signature(
    settings_env: dict[str, str], keys: KeyPair, tmp_path: Path
) -> None:
    """The lines a real `tuxhook receiver` writes, rendered by its own logging set-up."""
    port = free_port()
    env = {**settings_env, "TUXHOOK_LOG_LEVEL": "INFO"}
    process = start_receiver(env, port, tmp_path / "receiver.log")
    body, headers = signed_callback(keys)
    refused = {**headers, SIGNATURE_HEADER: headers[SIGNATURE_HEADER] + "!"}
    try:
        url = f"http://127.0.0.1:{port}{CALLBACK}"
        async with aiohttp.ClientSession() as http:
            for sent, status in ((headers, 202), (refused, 401)):
                async with http.post(url, data=body, headers=sent) as resp:
                    assert resp.status == status
    finally:
        process.stop()
    posts = [line for line in log_events(process, "request") if line["path"] == CALLBACK]
    assert [line["status"] for line in posts] == [202, 401]
    output = process.output()
    assert not [part for part in fragments(headers[SIGNATURE_HEADER]) if part in output]


async def test_the_request_line_names_the_request_and_what_it_queued(
    receiver: Receiver, keys: KeyPair, redis_client: Redis
) -> None:
    """One line per request: its id, method, path, kind, uid, job, outcome and duration."""
    uid = new_uid()
    body, headers = signed_callback(keys, kind="test", uid=uid)
    with capture_logs(processors=[structlog.contextvars.merge_contextvars]) as entries:
        for _ in range(2):
            assert (await post_callback(receiver, body, headers))[0] in (200, 202)
    lines = [entry for entry in entries if entry["event"] == "request"]
    assert [line["duplicate"] for line in lines] == [False, True]
    for line in lines:
        assert (line["method"], line["path"], line["kind"], line["uid"]) == (
            "POST",
            CALLBACK,
            "test",
            uid,
        )
        assert line["job_id"] == job_id("test", uid, body_digest(body))
        assert line["outcome"] == "ok"
        assert line["duration_ms"] > 0
    assert len({line["request_id"] for line in lines}) == 2
