"""Compatibility with the verify() example in TuxSuite's documentation."""

from __future__ import annotations

import base64
import subprocess
from pathlib import Path

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import load_ssh_public_key
from redis import Redis

from shared.constants import SIGNATURE_HEADER
from tests.conftest import Receiver
from tests.support.builders import callback, encode
from tests.support.keys import KeyPair, make_key_pair
from tests.support.processes import child_env, tuxhook_command
from tests.support.queues import queued_count


def docs_verify(public_key: str, signature: str, payload: str) -> bool:
    """TuxSuite's documented check, as users copy it."""
    key = load_ssh_public_key(public_key.encode("ascii"))
    assert isinstance(key, ec.EllipticCurvePublicKey)
    try:
        key.verify(
            base64.urlsafe_b64decode(signature), payload.encode("utf-8"), ec.ECDSA(hashes.SHA256())
        )
    except InvalidSignature:
        return False
    return True


def cli_sign(keys: KeyPair, path: Path) -> str:
    out = subprocess.run(
        tuxhook_command("sign", "--key", str(keys.private_path), str(path)),
        env=child_env({}),
        capture_output=True,
        text=True,
        check=True,
    )
    return out.stdout.strip()


@pytest.mark.parametrize("kind", ["build", "oebuild", "test", "plan"])
def test_tuxhook_sign_passes_the_documented_verify(
    keys: KeyPair, tmp_path: Path, kind: str
) -> None:
    path = tmp_path / "payload.json"
    path.write_bytes(encode(callback(kind)))
    signature = cli_sign(keys, path)
    assert docs_verify(keys.public_line, signature, path.read_text())


def _flip(signature: str) -> str:
    der = bytearray(base64.urlsafe_b64decode(signature))
    der[-1] ^= 0x01
    return base64.urlsafe_b64encode(bytes(der)).decode()


def rejected_signatures(keys: KeyPair, other: KeyPair, body: bytes) -> dict[str, str]:
    """Signatures the documented verify() rejects with InvalidSignature."""
    return {
        "another body": keys.sign(body + b" "),
        "another key": other.sign(body),
        "flipped bit": _flip(keys.sign(body)),
    }


async def test_what_the_documented_verify_rejects_is_rejected(
    receiver: Receiver, keys: KeyPair, tmp_path: Path, redis_client: Redis
) -> None:
    other = make_key_pair(tmp_path, "other")
    body = encode(callback("test"))
    for name, signature in rejected_signatures(keys, other, body).items():
        assert not docs_verify(keys.public_line, signature, body.decode()), name
        headers = {"Content-Type": "application/json", SIGNATURE_HEADER: signature}
        async with receiver.http.post(
            receiver.at("/v1/callbacks/tuxsuite"), data=body, headers=headers
        ) as resp:
            assert (resp.status, (await resp.json())["error"]) == (401, "bad_signature"), name
    assert queued_count(redis_client) == 0


async def test_what_the_documented_verify_accepts_is_accepted(
    receiver: Receiver, keys: KeyPair, tmp_path: Path, redis_client: Redis
) -> None:
    path = tmp_path / "payload.json"
    path.write_bytes(encode(callback("build")))
    signature = cli_sign(keys, path)
    assert docs_verify(keys.public_line, signature, path.read_text())
    headers = {"Content-Type": "application/json", SIGNATURE_HEADER: signature}
    async with receiver.http.post(
        receiver.at("/v1/callbacks/tuxsuite"), data=path.read_bytes(), headers=headers
    ) as resp:
        assert resp.status == 202
    assert queued_count(redis_client) == 1
