"""Signature header values that are wrong in one precise way, built from real signatures."""

from __future__ import annotations

import base64
import string
from collections.abc import Callable
from functools import cache

from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)

from shared.cli.signing import sign
from tests.support.keys import KeyPair

# The order n of the P-256 group: r and s are valid only in [1, n-1].
P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
# Signing is randomised; tries to get a signature whose text has a wanted property.
MAX_SIGNING_TRIES = 1000
URLSAFE_ALPHABET = string.ascii_uppercase + string.ascii_lowercase + string.digits + "-_"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii")


def der(keys: KeyPair, body: bytes) -> bytes:
    return base64.urlsafe_b64decode(keys.sign(body))


def rs(keys: KeyPair, body: bytes) -> tuple[int, int]:
    r, s = decode_dss_signature(der(keys, body))
    return r, s


def raw_rs(keys: KeyPair, body: bytes) -> str:
    """The 64-byte r‖s form (as in JWS or WebCrypto) instead of DER."""
    r, s = rs(keys, body)
    return b64url(r.to_bytes(32, "big") + s.to_bytes(32, "big"))


def high_s(keys: KeyPair, body: bytes) -> str:
    """The other valid signature of the same (r, s) pair: ECDSA is malleable, s -> n - s."""
    r, s = rs(keys, body)
    return b64url(encode_dss_signature(r, P256_ORDER - s))


def from_rs(r: int, s: int) -> str:
    return b64url(encode_dss_signature(r, s))


def _der_length(size: int, *, long_form: bool) -> bytes:
    return bytes([0x81, size]) if long_form else bytes([size])


def _der_int(value: int, *, pad: bool) -> bytes:
    """A DER INTEGER; `pad` adds a superfluous leading zero byte, which DER forbids."""
    data = value.to_bytes(value.bit_length() // 8 + 1, "big")
    if pad:
        data = b"\x00" + data
    return b"\x02" + bytes([len(data)]) + data


def hand_der(keys: KeyPair, body: bytes, *, pad: bool = False, long_form: bool = False) -> str:
    """The signature re-encoded by hand in BER that is not DER: padded integers or long lengths."""
    r, s = rs(keys, body)
    content = _der_int(r, pad=pad) + _der_int(s, pad=pad)
    return b64url(b"\x30" + _der_length(len(content), long_form=long_form) + content)


def indefinite_length(keys: KeyPair, body: bytes) -> str:
    """BER's indefinite length form (0x80 ... 00 00) around the signature's content."""
    content = der(keys, body)[2:]
    return b64url(b"\x30\x80" + content + b"\x00\x00")


def signature_where(keys: KeyPair, body: bytes, wanted: Callable[[str], bool]) -> str:
    """A valid signature of `body` whose header text satisfies `wanted`."""
    for _ in range(MAX_SIGNING_TRIES):
        text = keys.sign(body)
        if wanted(text):
            return text
    raise AssertionError("no signature with the wanted property")


def _same_signature(variant: str, text: str) -> str:
    """`variant`, after checking that a lenient decoder reads it as the signature `text`."""
    lenient = base64.b64decode(variant.encode(), altchars=b"-_")
    assert lenient == base64.urlsafe_b64decode(text), (variant, text)
    return variant


def standard_alphabet(keys: KeyPair, body: bytes) -> str:
    """A valid signature written with standard base64's '+/' instead of urlsafe '-_'."""
    text = signature_where(keys, body, lambda t: "-" in t or "_" in t)
    return _same_signature(text.translate(str.maketrans("-_", "+/")), text)


def excess_padding(keys: KeyPair, body: bytes) -> str:
    """A valid signature that needs no padding, with '==' after it all the same."""
    text = signature_where(keys, body, lambda t: not t.endswith("="))
    return _same_signature(text + "==", text)


def trailing_bits_set(keys: KeyPair, body: bytes) -> str:
    """A valid padded signature whose last character sets bits that padding leaves unused."""
    text = signature_where(keys, body, lambda t: t.endswith("="))
    data = text.rstrip("=")
    last = URLSAFE_ALPHABET[URLSAFE_ALPHABET.index(data[-1]) ^ 1]
    return _same_signature(data[:-1] + last + text[len(data) :], text)


def unpadded(keys: KeyPair, body: bytes) -> str:
    """A valid signature with its '=' padding stripped."""
    return signature_where(keys, body, lambda t: t.endswith("=")).rstrip("=")


@cache
def _stranger() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def by_another_key(body: bytes) -> str:
    """A well-formed signature of `body` by a P-256 key the receiver does not know."""
    return sign(_stranger(), body)
