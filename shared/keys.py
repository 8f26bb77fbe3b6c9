"""TuxSuite's public keys: parsed from a keys.json or OpenSSH lines, read from a file or a URL.

A keys document may hold keys tuxhook cannot use (another type, a line cut short) beside the
ones it can: those are left out, each with its reason, and the others used. A document with no
usable key at all (an HTML page from a proxy, an empty body) is a ConfigError saying what it is,
whatever parsing it raised.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import aiohttp
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import load_ssh_public_key

from shared.constants import KEYS_DOCUMENT_MAX_BYTES, KEYS_FETCH_TIMEOUT_S
from shared.errors import ConfigError
from shared.settings import Secret, scrub_url_secrets

KEY_TYPE = "ecdsa-sha2-nistp256"  # the only type TuxSuite signs with (ECDSA P-256, SHA-256)
_SHOWN_REASONS = 3  # reasons quoted in the one line that refuses a document


@dataclass(frozen=True)
class PublicKey:
    fingerprint: str
    key: ec.EllipticCurvePublicKey


@dataclass(frozen=True)
class KeySet:
    """The usable keys of a document, and why each of its other entries was left out."""

    keys: tuple[PublicKey, ...]
    skipped: tuple[str, ...] = ()


NO_KEYS = KeySet(())


def fingerprint(line: str) -> str:
    """OpenSSH's SHA256 fingerprint of a public key line, as `ssh-keygen -l` prints it."""
    blob = base64.b64decode(line.split()[1])
    digest = base64.b64encode(hashlib.sha256(blob).digest()).decode().rstrip("=")
    return f"SHA256:{digest}"


def _key_type(line: str) -> str:
    """The line's first word, shortened and quoted: safe to print whatever the line holds."""
    word = line.split(maxsplit=1)[0] if line.split() else ""
    return repr(word[:40])


def parse_key_line(line: str) -> PublicKey:
    """One OpenSSH public key line; a ConfigError says why it cannot be used."""
    try:
        key = load_ssh_public_key(line.encode("ascii"))
        fp = fingerprint(line)
    except UnsupportedAlgorithm as e:
        raise ConfigError(f"unknown key type {_key_type(line)}") from e
    except (ValueError, IndexError, UnicodeEncodeError, binascii.Error) as e:
        raise ConfigError(f"not an OpenSSH public key ({_key_type(line)} ...)") from e
    if not isinstance(key, ec.EllipticCurvePublicKey) or not isinstance(key.curve, ec.SECP256R1):
        raise ConfigError(f"{fp} is a {_key_type(line)} key, not {KEY_TYPE}")
    return PublicKey(fingerprint=fp, key=key)


def _json_key_lines(text: str) -> list[tuple[str, str]]:
    try:
        pub = json.loads(text)["ssh"]["pub"]
    except (ValueError, RecursionError) as e:  # RecursionError: nested too deep to parse
        raise ConfigError("a document that starts as JSON but is not JSON") from e
    except (KeyError, TypeError) as e:
        raise ConfigError("JSON without a key at ssh.pub") from e
    if isinstance(pub, str):
        return [("ssh.pub", pub.strip())]
    if not isinstance(pub, list) or not all(isinstance(p, str) for p in pub):
        raise ConfigError("JSON whose ssh.pub is neither a key line nor a list of them")
    return [(f"ssh.pub[{i}]", p.strip()) for i, p in enumerate(pub)]


def _key_lines(text: str) -> list[tuple[str, str]]:
    """The document's key lines, each with where it is: ssh.pub of a keys.json, else every
    line but blanks and comments (which may be indented)."""
    text = text.removeprefix("\ufeff")  # a byte order mark, as some editors write
    stripped = text.strip()
    if not stripped:
        raise ConfigError("an empty document")
    if stripped.startswith("<"):
        raise ConfigError("an HTML page, not a keys document")
    if stripped.startswith("{"):
        return _json_key_lines(stripped)
    lines = ((f"line {n}", ln.strip()) for n, ln in enumerate(text.splitlines(), start=1))
    return [(where, ln) for where, ln in lines if ln and not ln.startswith("#")]


def _no_usable_key(skipped: list[str]) -> ConfigError:
    shown = "; ".join(skipped[:_SHOWN_REASONS])
    more = f"; and {len(skipped) - _SHOWN_REASONS} more" if len(skipped) > _SHOWN_REASONS else ""
    return ConfigError(f"no usable key ({shown}{more})" if skipped else "no key")


def parse_keys(text: str) -> KeySet:
    """The usable keys of a TuxSuite keys.json, or of OpenSSH public key lines, one a line.

    Raises ConfigError, naming what the document is, when it holds no usable key."""
    keys, skipped = [], []
    for where, line in _key_lines(text):
        try:
            keys.append(parse_key_line(line))
        except ConfigError as e:
            skipped.append(f"{where}: {e.message}")
    if not keys:
        raise _no_usable_key(skipped)
    return KeySet(tuple(keys), tuple(skipped))


def load_keys_file(path: Path) -> KeySet:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise ConfigError(f"cannot read keys file {path}: {e.strerror}") from e
    except UnicodeDecodeError as e:
        raise ConfigError(f"keys file {path} is not UTF-8 text") from e
    try:
        return parse_keys(text)
    except ConfigError as e:
        raise ConfigError(f"keys file {path} holds {e.message}") from e


async def _read_bounded(resp: aiohttp.ClientResponse) -> str:
    body = bytearray()
    async for chunk in resp.content.iter_chunked(KEYS_DOCUMENT_MAX_BYTES):
        body += chunk
        if len(body) > KEYS_DOCUMENT_MAX_BYTES:
            raise ConfigError(f"keys URL answered more than {KEYS_DOCUMENT_MAX_BYTES} bytes")
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as e:
        raise ConfigError("keys URL answered a body that is not UTF-8 text") from e


async def fetch_keys_text(session: aiohttp.ClientSession, url: str, token: Secret | None) -> str:
    """GET a keys endpoint; TuxSuite's CLI sends its API token in Authorization, so do we."""
    headers = {"Authorization": token.reveal()} if token else {}
    timeout = aiohttp.ClientTimeout(total=KEYS_FETCH_TIMEOUT_S)
    try:
        async with session.get(url, headers=headers, timeout=timeout) as resp:
            if resp.status != 200:
                raise ConfigError(f"keys URL answered HTTP {resp.status}")
            return await _read_bounded(resp)
    except (aiohttp.ClientError, TimeoutError, ValueError) as e:
        # ValueError: aiohttp refuses a URL with credentials beside TUXHOOK_TUXSUITE_TOKEN.
        reason = scrub_url_secrets(str(e), url)  # aiohttp may quote the URL, password and all
        raise ConfigError(f"cannot fetch keys: {type(e).__name__}: {reason}") from e


async def fetch_keys(session: aiohttp.ClientSession, url: str, token: Secret | None) -> KeySet:
    """The usable keys the URL serves; a ConfigError says what it served instead."""
    text = await fetch_keys_text(session, url, token)
    try:
        return parse_keys(text)
    except ConfigError as e:
        raise ConfigError(f"keys URL answered {e.message}") from e
