"""Named builders of tokens and credentials: honest ones, and the forgeries attacks use."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from dataclasses import dataclass
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from shared.constants import DEFAULT_ISSUER

GITHUB_ISSUER = "https://token.actions.githubusercontent.com"
AUDIENCE = "https://tuxhook.test"


def now() -> int:
    return int(time.time())


def token_claims(
    user: str | None = "alice",
    *,
    iss: str | None = DEFAULT_ISSUER,
    iat_offset: int = 0,
    ttl: int = 600,
    drop: tuple[str, ...] = (),
    **extra: Any,
) -> dict[str, Any]:
    """Claims as the addon (plus `sub`) would mint them; `drop` removes some, `extra` adds."""
    iat = now() + iat_offset
    claims: dict[str, Any] = {"iss": iss, "sub": user, "iat": iat, "exp": iat + ttl, **extra}
    return {k: v for k, v in claims.items() if k not in drop and v is not None}


def github_claims(
    repository: str = "linaro/lkft",
    *,
    ref: str = "refs/heads/main",
    sha: str = "0123456789abcdef0123456789abcdef01234567",
    aud: str | None = AUDIENCE,
    **overrides: Any,
) -> dict[str, Any]:
    """Claims shaped like a GitHub Actions OIDC token's."""
    claims = token_claims(None, iss=GITHUB_ISSUER, ttl=300, repository=repository, ref=ref, sha=sha)
    claims["sub"] = f"repo:{repository}:ref:{ref}"
    if aud is not None:
        claims["aud"] = aud
    return claims | overrides


def hs256(claims: dict[str, Any], key: str, algorithm: str = "HS256") -> str:
    return jwt.encode(claims, key.encode(), algorithm=algorithm)


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _json_part(value: dict[str, Any]) -> str:
    return b64url(json.dumps(value, separators=(",", ":")).encode())


def forge_hs256(claims: dict[str, Any], secret: bytes, **header: Any) -> str:
    """HS256 over any secret, even a public key that PyJWT refuses to use as one."""
    signing_input = f"{_json_part({'alg': 'HS256', 'typ': 'JWT', **header})}.{_json_part(claims)}"
    mac = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64url(mac)}"


def hs256_of_text(header: str, claims: str, key: str) -> str:
    """HS256 over a header and claims given as JSON text, which may repeat a key: signed with
    the right key, so that the repetition is all that is wrong with the token."""
    signing_input = f"{b64url(header.encode())}.{b64url(claims.encode())}"
    mac = hmac.new(key.encode(), signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64url(mac)}"


def unsigned(claims: dict[str, Any], **header: Any) -> str:
    """An `alg: none` token: no signature at all."""
    return f"{_json_part({'alg': 'none', 'typ': 'JWT', **header})}.{_json_part(claims)}."


def tampered(token: str, **changes: Any) -> str:
    """The token with its claims changed and its signature kept."""
    head, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return f"{head}.{_json_part(claims | changes)}.{signature}"


@dataclass(frozen=True)
class RsaKey:
    """An OIDC signing key: private for tests to sign with, a JWK for the JWKS server."""

    kid: str
    private: rsa.RSAPrivateKey

    @classmethod
    def generate(cls, kid: str) -> RsaKey:
        return cls(kid, rsa.generate_private_key(public_exponent=65537, key_size=2048))

    def jwk(self) -> dict[str, Any]:
        public = jwt.algorithms.RSAAlgorithm.to_jwk(self.private.public_key(), as_dict=True)
        return public | {"kid": self.kid, "alg": "RS256", "use": "sig"}

    @property
    def public_pem(self) -> bytes:
        return self.private.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    def sign(self, claims: dict[str, Any], kid: str | None = None) -> str:
        return jwt.encode(claims, self.private, algorithm="RS256", headers={"kid": kid or self.kid})


def basic(user: str, credential: str) -> dict[str, str]:
    value = base64.b64encode(f"{user}:{credential}".encode()).decode()
    return {"Authorization": f"Basic {value}"}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
