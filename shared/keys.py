"""TuxSuite's public keys: parsed from a keys.json or OpenSSH lines, read from a file or a URL."""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import aiohttp
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import load_ssh_public_key

from shared.constants import KEYS_FETCH_TIMEOUT_S
from shared.errors import ConfigError
from shared.settings import Secret


@dataclass(frozen=True)
class PublicKey:
    fingerprint: str
    key: ec.EllipticCurvePublicKey


def fingerprint(line: str) -> str:
    """OpenSSH's SHA256 fingerprint of a public key line, as `ssh-keygen -l` prints it."""
    blob = base64.b64decode(line.split()[1])
    digest = base64.b64encode(hashlib.sha256(blob).digest()).decode().rstrip("=")
    return f"SHA256:{digest}"


def parse_key_line(line: str) -> PublicKey:
    try:
        key = load_ssh_public_key(line.encode("ascii"))
        fp = fingerprint(line)
    except (ValueError, IndexError, UnicodeEncodeError) as e:
        raise ConfigError(f"not an OpenSSH public key: {line[:40]!r}...") from e
    if not isinstance(key, ec.EllipticCurvePublicKey) or not isinstance(key.curve, ec.SECP256R1):
        raise ConfigError(f"{fp} is not an ecdsa-sha2-nistp256 key")
    return PublicKey(fingerprint=fp, key=key)


def _key_lines(text: str) -> list[str]:
    stripped = text.strip()
    if stripped.startswith("{"):
        try:
            pub = json.loads(stripped)["ssh"]["pub"]
        except (ValueError, KeyError, TypeError) as e:
            raise ConfigError("keys JSON must hold the key at ssh.pub") from e
        pubs = [pub] if isinstance(pub, str) else pub
        if not isinstance(pubs, list) or not all(isinstance(p, str) for p in pubs):
            raise ConfigError("ssh.pub must be a key line or a list of them")
        return [p.strip() for p in pubs]
    return [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.startswith("#")]


def parse_keys(text: str) -> tuple[PublicKey, ...]:
    """Keys from a TuxSuite keys.json, or from OpenSSH public key lines, one a line."""
    keys = tuple(parse_key_line(line) for line in _key_lines(text))
    if not keys:
        raise ConfigError("no public key found")
    return keys


def load_keys_file(path: Path) -> tuple[PublicKey, ...]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise ConfigError(f"cannot read keys file {path}: {e.strerror}") from e
    try:
        return parse_keys(text)
    except ConfigError as e:
        raise ConfigError(f"{path}: {e.message}") from e


async def fetch_keys_text(session: aiohttp.ClientSession, url: str, token: Secret | None) -> str:
    """GET a keys endpoint; TuxSuite's CLI sends its API token in Authorization, so do we."""
    headers = {"Authorization": token.reveal()} if token else {}
    timeout = aiohttp.ClientTimeout(total=KEYS_FETCH_TIMEOUT_S)
    try:
        async with session.get(url, headers=headers, timeout=timeout) as resp:
            if resp.status != 200:
                raise ConfigError(f"keys URL answered HTTP {resp.status}")
            return await resp.text()
    except (aiohttp.ClientError, TimeoutError) as e:
        raise ConfigError(f"cannot fetch keys: {type(e).__name__}: {e}") from e
