"""Check a JWT with PyJWT against one issuer's policy: pinned algorithms, claims, lifetime.

The algorithms always come from the policy, never from the token's header. Every failure is a
401 whose code names the cause; failures before the signature is proven share one answer.
"""

from __future__ import annotations

from typing import Any

import jwt

from receiver.users import TokenPolicy
from shared.constants import TOKEN_LEEWAY_S
from shared.errors import (
    BadCredentials,
    BadIssuer,
    CredentialsRefused,
    TokenExpired,
    TokenNotYetValid,
    TokenTooLongLived,
)

Key = str | bytes | jwt.PyJWK

# Checked in order: the first class a PyJWT error is an instance of gives the answer.
_CAUSES: tuple[tuple[type[jwt.PyJWTError], type[CredentialsRefused], str], ...] = (
    (jwt.ExpiredSignatureError, TokenExpired, "the token has expired"),
    (jwt.ImmatureSignatureError, TokenNotYetValid, "the token is not valid yet"),
    (jwt.InvalidIssuerError, BadIssuer, "the token's issuer is not allowed here"),
    (jwt.InvalidAudienceError, BadCredentials, "the token is not meant for this receiver"),
)


def looks_like_jwt(text: str) -> bool:
    return text.count(".") == 2


def unverified(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The header and claims, unchecked: only to choose the issuer and key to check them with."""
    try:
        # One parse for both parts: PyJWT's base64 checks are a large share of a token's cost.
        parts = jwt.decode_complete(token, options={"verify_signature": False})
    except (jwt.PyJWTError, ValueError) as e:  # ValueError: bytes aiohttp read as surrogates
        raise BadCredentials("the token is not a well-formed JWT") from e
    return parts["header"], parts["payload"]


def unverified_issuer(claims: dict[str, Any]) -> str:
    iss = claims.get("iss")
    if not isinstance(iss, str):
        raise BadIssuer()
    return iss


def rejection(error: jwt.PyJWTError) -> CredentialsRefused:
    if isinstance(error, jwt.MissingRequiredClaimError):
        if error.claim == "iss":
            return BadIssuer()
        return BadCredentials(f"the token has no {error.claim!r} claim")
    for cause, refusal, message in _CAUSES:
        if isinstance(error, cause):
            return refusal(message)
    # A bad signature, a refused algorithm, a malformed part: one answer for all of them.
    return BadCredentials()


def check_lifetime(claims: dict[str, Any], max_lifetime_s: int) -> None:
    lifetime = int(claims["exp"]) - int(claims["iat"])
    if lifetime > max_lifetime_s:
        raise TokenTooLongLived(
            f"the token lives {lifetime} s, longer than the {max_lifetime_s} s allowed"
        )


def verify(token: str, key: Key, policy: TokenPolicy) -> dict[str, Any]:
    """The token's claims once its signature, issuer, times and lifetime pass `policy`."""
    required = ["exp", "iat", "iss"] + (["aud"] if policy.audience else [])
    try:
        claims = jwt.decode(
            token,
            key,
            algorithms=list(policy.algorithms),
            issuer=policy.issuer,
            audience=policy.audience,
            leeway=TOKEN_LEEWAY_S,
            options={"require": required, "enforce_minimum_key_length": True},
        )
    except jwt.PyJWTError as e:
        raise rejection(e) from e
    check_lifetime(claims, policy.max_lifetime_s)
    return claims
