"""Test key pairs for signing callbacks, written to files as an operator would keep them."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric import ec

from shared.cli.signing import generate_key_pair, load_private_key, sign


@dataclass(frozen=True)
class KeyPair:
    private_path: Path
    public_path: Path
    public_line: str

    @property
    def private_key(self) -> ec.EllipticCurvePrivateKey:
        return load_private_key(self.private_path)

    def sign(self, body: bytes) -> str:
        return sign(self.private_key, body)


def make_key_pair(directory: Path, name: str = "tuxsuite") -> KeyPair:
    directory.mkdir(parents=True, exist_ok=True)
    private, public = directory / f"{name}.pem", directory / f"{name}.pub"
    line = generate_key_pair(private, public)
    return KeyPair(private, public, line)


# The published demo key (shared/demo/, copied from /work/shared/samples): a keys document as
# TuxSuite's keys endpoint serves it, and the private half that signs demo callbacks.
SAMPLES = Path(__file__).resolve().parents[2] / "shared" / "demo"
DEMO_KEYS_JSON = SAMPLES / "keys.json"


def demo_key_pair() -> KeyPair:
    line: str = json.loads(DEMO_KEYS_JSON.read_text())["ssh"]["pub"]
    return KeyPair(SAMPLES / "demo-key.pem", DEMO_KEYS_JSON, line)
