"""Sign bodies as TuxSuite does: urlsafe base64 of a DER ECDSA P-256/SHA-256 signature."""

from __future__ import annotations

import base64
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.hashes import SHA256

from shared.errors import ConfigError


def load_private_key(path: Path) -> ec.EllipticCurvePrivateKey:
    """A P-256 private key from a PEM (PKCS#8 or SEC1) or OpenSSH private key file."""
    data = path.read_bytes()
    key: object
    try:
        if b"OPENSSH PRIVATE KEY" in data:
            key = serialization.load_ssh_private_key(data, password=None)
        else:
            key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as e:
        raise ConfigError(f"{path} is not an unencrypted PEM or OpenSSH private key") from e
    if not isinstance(key, ec.EllipticCurvePrivateKey) or not isinstance(key.curve, ec.SECP256R1):
        raise ConfigError(f"{path} is not an ECDSA P-256 private key")
    return key


def sign(key: ec.EllipticCurvePrivateKey, body: bytes) -> str:
    return base64.urlsafe_b64encode(key.sign(body, ec.ECDSA(SHA256()))).decode("ascii")


def generate_key_pair(private_path: Path, public_path: Path) -> str:
    """Write a new P-256 key pair (PEM private, OpenSSH public line); returns the public line."""
    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    line = (
        key.public_key()
        .public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
        .decode("ascii")
    )
    private_path.write_bytes(pem)
    private_path.chmod(0o600)
    public_path.write_text(line + "\n", encoding="ascii")
    return line
