"""Verify `x-tux-payload-signature` over the raw body, before anything parses it.

Every failure of every step (header, base64, DER, key) is a 401 bad_signature, never a 500.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)
from cryptography.hazmat.primitives.hashes import SHA256

from receiver.keys import KeyRing
from shared.errors import BadSignature, KeysUnavailable
from shared.keys import PublicKey

ECDSA_SHA256 = ec.ECDSA(SHA256())


@dataclass(frozen=True)
class Verified:
    """The verified document bytes (the inner string for the legacy double-encoded form)."""

    document: bytes
    key_fingerprint: str
    # The body was a JSON string holding the document: TuxSuite's legacy double encoding.
    legacy: bool = False


def bad_signature(message: str) -> BadSignature:
    return BadSignature(message)


def decode_signature(header: str) -> bytes:
    """Strict urlsafe base64 of canonical DER; garbage is rejected, never skipped."""
    try:
        text = header.strip().encode("ascii")
        der = base64.b64decode(text, altchars=b"-_", validate=True)
    except (binascii.Error, ValueError, UnicodeEncodeError) as e:
        raise bad_signature("signature header is not urlsafe base64") from e
    # b64decode also takes '+/', excess '=' and stray low bits: one signature, many spellings.
    if base64.urlsafe_b64encode(der) != text:
        raise bad_signature("signature header is not canonical urlsafe base64")
    try:
        r, s = decode_dss_signature(der)
    except ValueError as e:
        raise bad_signature("signature is not a DER-encoded ECDSA signature") from e
    if encode_dss_signature(r, s) != der:
        raise bad_signature("signature is not canonical DER")
    return der


def matching_key(keys: Sequence[PublicKey], message: bytes, signature: bytes) -> str | None:
    for public in keys:
        try:
            public.key.verify(signature, message, ECDSA_SHA256)
        except InvalidSignature:
            continue
        return public.fingerprint
    return None


def legacy_inner(raw: bytes) -> bytes | None:
    """For a body that is a JSON string, the string's content: the legacy double encoding."""
    if not raw.lstrip().startswith(b'"'):
        return None
    try:
        # ValueError covers bad UTF-8 and a lone surrogate the inner string cannot encode.
        inner = json.loads(raw.decode("utf-8"))
        return inner.encode("utf-8") if isinstance(inner, str) else None
    except (ValueError, RecursionError):
        return None


def verify_once(keys: Sequence[PublicKey], raw: bytes, signature: bytes) -> Verified | None:
    fp = matching_key(keys, raw, signature)
    if fp is not None:
        inner = legacy_inner(raw)
        return Verified(raw, fp) if inner is None else Verified(inner, fp, legacy=True)
    inner = legacy_inner(raw)
    if inner is not None and (fp := matching_key(keys, inner, signature)) is not None:
        return Verified(inner, fp, legacy=True)
    return None


class SignatureVerifier:
    def __init__(self, ring: KeyRing) -> None:
        self.ring = ring

    async def verify(self, raw: bytes, signature: bytes) -> Verified:
        """The body as verified with `signature` (decode_signature's DER) by some key."""
        if self.ring.stale:
            await self.ring.refresh()
        keys = self.ring.keys
        verified = verify_once(keys, raw, signature) if keys else None
        if verified is None:
            # Perhaps the group rotated its key: refetch (rate-limited) and try the new ones.
            await self.ring.refresh()
            if self.ring.keys != keys:
                verified = verify_once(self.ring.keys, raw, signature)
        if verified is not None:
            return verified
        if self.ring.awaiting_url_keys:  # the signer's key may be the URL's, not fetched yet
            raise KeysUnavailable("no TuxSuite key could be loaded yet; retry later")
        if not self.ring.keys and not self.ring.url:  # a receiver for tokens only
            raise bad_signature("no TuxSuite keys are configured here, so no signature can match")
        raise bad_signature("signature does not match the body under any configured key")
