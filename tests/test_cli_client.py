"""`tuxhook sign`, `send`, `keys fetch` and `receiver`, run as real processes."""

from __future__ import annotations

import json
import signal
from pathlib import Path

import pytest
from redis import Redis

from shared.cli.dev import DEMO
from shared.cli.signing import load_private_key
from shared.keys import load_keys_file
from tests.support.builders import callback, encode
from tests.support.cli import one_line_error, run_cli, run_cli_async
from tests.support.keys import KeyPair
from tests.support.processes import start_receiver
from tests.support.queues import delivery_of, queued_jobs
from tests.support.redis_server import free_port
from tests.support.servers import StaticDocument, serve_document


@pytest.fixture
def payload(tmp_path: Path) -> Path:
    path = tmp_path / "build.json"
    path.write_bytes(encode(callback("build")))
    return path


def test_send_posts_a_signed_callback_to_a_real_receiver(
    settings_env: dict[str, str], keys: KeyPair, payload: Path, tmp_path: Path, redis_client: Redis
) -> None:
    port = free_port()
    settings_env["TUXHOOK_LOG_LEVEL"] = "INFO"
    receiver = start_receiver(settings_env, port, tmp_path / "receiver.log")
    try:
        url = f"http://127.0.0.1:{port}/v1/callbacks/tuxsuite"
        sent = run_cli({}, "send", url, str(payload), "--key", str(keys.private_path))
        assert sent.returncode == 0, sent.stderr
        status, _, answer = sent.stdout.partition(" ")
        assert status == "202"
        assert json.loads(answer)["queue"] == "build"
        again = run_cli({}, "send", url, str(payload), "--key", str(keys.private_path))
        assert again.stdout.startswith("200 ") and json.loads(again.stdout[4:])["duplicate"]
    finally:
        receiver.signal(signal.SIGTERM)
        assert receiver.wait(timeout=30) == 0
        receiver.stop()
    [job] = queued_jobs(redis_client)
    assert json.loads(delivery_of(job)["body"]) == json.loads(payload.read_bytes())
    lines = [json.loads(line) for line in receiver.output().splitlines()]
    [first, second] = [ln for ln in lines if ln.get("path") == "/v1/callbacks/tuxsuite"]
    assert (first["status"], first["outcome"], first["kind"]) == (202, "ok", "build")
    assert first["uid"] == json.loads(payload.read_bytes())["status"]["uid"]
    assert {"request_id", "duration_ms", "job_id"} <= first.keys()
    assert (second["status"], second["duplicate"]) == (200, True)


def test_send_reports_a_refusal_with_a_non_zero_exit(
    settings_env: dict[str, str], tmp_path: Path, payload: Path, redis_client: Redis
) -> None:
    from tests.support.keys import make_key_pair

    stranger = make_key_pair(tmp_path, "stranger")
    port = free_port()
    receiver = start_receiver(settings_env, port, tmp_path / "receiver.log")
    try:
        url = f"http://127.0.0.1:{port}/v1/callbacks/tuxsuite"
        sent = run_cli({}, "send", url, str(payload), "--key", str(stranger.private_path))
    finally:
        receiver.stop()
    assert sent.returncode == 1
    assert sent.stdout.startswith("401 ") and "bad_signature" in sent.stdout


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("sign", "--key", "/nonexistent.pem", "x.json"), "No such file"),
        (
            ("send", "http://127.0.0.1:9/", "x.json", "--key", "k", "--header", "nocolon"),
            "--header",
        ),
        (("keys", "fetch", "--url", "http://127.0.0.1:9/keys"), "cannot fetch keys"),
    ],
    ids=["missing-key-file", "malformed-header", "unreachable-keys-url"],
)
def test_client_errors_are_one_line(args: tuple[str, ...], expected: str) -> None:
    assert expected in one_line_error(run_cli({}, *args))


def test_sign_refuses_a_key_that_is_not_p256(tmp_path: Path) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519

    key = tmp_path / "ed25519.pem"
    key.write_bytes(
        ed25519.Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    body = tmp_path / "b.json"
    body.write_text("{}")
    assert "not an ECDSA P-256" in one_line_error(run_cli({}, "sign", "--key", str(key), str(body)))


async def test_keys_fetch_saves_the_groups_keys(keys: KeyPair, tmp_path: Path) -> None:
    doc = StaticDocument(json.dumps({"ssh": {"pub": keys.public_line}, "pat": []}))
    out = tmp_path / "keys.json"
    async with serve_document(doc, "/v1/groups/g/projects/p/keys") as url:
        result = await run_cli_async(
            {"TUXHOOK_TUXSUITE_TOKEN": "tok"}, "keys", "fetch", "--url", url, "-o", str(out)
        )
    assert result.returncode == 0, result.stderr
    assert json.loads(out.read_text())["ssh"]["pub"] == keys.public_line
    assert doc.seen_authorization == ["tok"]
    assert "tok" not in result.stderr + result.stdout


async def test_keys_fetch_refuses_a_document_without_a_key(tmp_path: Path) -> None:
    doc = StaticDocument(json.dumps({"ssh": {}}))
    out = tmp_path / "keys.json"
    async with serve_document(doc, "/keys") as url:
        result = await run_cli_async({}, "keys", "fetch", "--url", url, "-o", str(out))
    assert "ssh.pub" in one_line_error(result)
    assert not out.exists()


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, "nothing to verify callbacks with"),
        ({"TUXHOOK_TUXSUITE_KEYS_FILE": "/nonexistent.pub"}, "cannot read keys file"),
        ({"TUXHOOK_PORTT": "1"}, "unknown setting TUXHOOK_PORTT"),
        ({"TUXHOOK_MAX_BODY_BYTES": "-5"}, "expected an integer number of bytes, like 1048576"),
    ],
    ids=["no-way-to-verify", "missing-keys-file", "typo", "malformed"],
)
def test_receiver_refuses_to_start_with_one_clear_line(env: dict[str, str], expected: str) -> None:
    assert expected in one_line_error(run_cli(env, "receiver", "--port", "0"))


def test_usage_errors_are_one_line() -> None:
    result = run_cli({}, "frobnicate")
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1


async def test_keys_fetch_saves_the_published_demo_keys_document(tmp_path: Path) -> None:
    """The demo keys document, served as TuxSuite's endpoint serves it, fetched as an operator
    would: the saved file holds the public half of the demo private key."""
    served = (DEMO / "keys.json").read_text(encoding="utf-8")
    doc = StaticDocument(served)
    out = tmp_path / "keys.json"
    async with serve_document(doc, "/v1/groups/demo/projects/demo/keys") as url:
        result = await run_cli_async({}, "keys", "fetch", "--url", url, "-o", str(out))
    assert (result.returncode, result.stdout) == (0, "")
    assert result.stderr == f"saved 1 key(s) to {out}\n"
    assert out.read_text(encoding="utf-8") == served
    saved = load_keys_file(out)
    assert saved.skipped == ()
    [public] = saved.keys
    demo = load_private_key(DEMO / "demo-key.pem").public_key()
    assert public.key.public_numbers() == demo.public_numbers()
