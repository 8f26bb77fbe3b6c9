"""Check a JWT against one issuer's policy: strict parsing, pinned algorithms, claims, lifetime.

A token is first parsed here, strictly (no repeated key in its header or claims), then its
signature is checked by PyJWT with the algorithms of the policy, never of the token's header.
Its times are judged here once the signature holds: `exp`, `iat` and `nbf` must be JSON numbers
and `exp` must come after `iat`; and a token may name an audience only where one is configured.
Every failure is a 401 whose code names the cause; failures before the signature is proven
share one answer.
"""

from __future__ import annotations

import base64
import binascii
import math
import time
from dataclasses import dataclass, field
from typing import Any

import jwt

from receiver.users import TokenPolicy
from shared.constants import TOKEN_LEEWAY_S
from shared.errors import (
    BadCredentials,
    BadIssuer,
    CredentialsRefused,
    InvalidJSON,
    TokenAudienceRefused,
    TokenDuplicateKey,
    TokenExpired,
    TokenExpiresBeforeIssued,
    TokenNotYetValid,
    TokenTimeNotNumber,
    TokenTooLongLived,
)
from shared.payload import loads_strict

Key = str | bytes | jwt.PyJWK

_TIME_CLAIMS = ("exp", "iat", "nbf")
# PyJWT judges the signature, the issuer and the presence of the required claims; the times
# and the audience, whose types it reads loosely ("123" passes as a number), are judged here.
_PYJWT_OPTIONS: dict[str, Any] = {
    "enforce_minimum_key_length": True,
    "verify_exp": False,
    "verify_iat": False,
    "verify_nbf": False,
}
_CAUSES: tuple[tuple[type[jwt.PyJWTError], type[CredentialsRefused], str], ...] = (
    (jwt.InvalidIssuerError, BadIssuer, "the token's issuer is not allowed here"),
    (jwt.InvalidAudienceError, BadCredentials, "the token is not meant for this receiver"),
)


@dataclass(frozen=True)
class ParsedToken:
    """A token's header and claims, parsed strictly but not yet trusted."""

    raw: str = field(repr=False)
    header: dict[str, Any]
    claims: dict[str, Any] = field(repr=False)


def looks_like_jwt(text: str) -> bool:
    return text.count(".") == 2


def _segment(text: str, what: str) -> dict[str, Any]:
    try:
        data = base64.b64decode(text + "=" * (-len(text) % 4), altchars=b"-_", validate=True)
        value = loads_strict(data)
    except InvalidJSON as e:
        if "duplicate key" in e.message:
            raise TokenDuplicateKey(f"the token's {what} repeats a key") from e
        raise BadCredentials("the token is not a well-formed JWT") from e
    except (binascii.Error, ValueError) as e:  # ValueError: non-ASCII text
        raise BadCredentials("the token is not a well-formed JWT") from e
    if not isinstance(value, dict):
        raise BadCredentials("the token is not a well-formed JWT")
    return value


def parse(token: str) -> ParsedToken:
    """The token's header and claims, unchecked but strictly parsed: only to choose the issuer
    and key to check it with. A key repeated in either is refused (token_duplicate_key)."""
    if not looks_like_jwt(token):
        raise BadCredentials("the token is not a well-formed JWT")
    header, claims, _ = token.split(".")
    return ParsedToken(token, _segment(header, "header"), _segment(claims, "claims"))


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


def _number(claims: dict[str, Any], name: str) -> float | None:
    value = claims.get(name)
    if value is None:
        return None
    # bool is an int to Python, but `true` is no time; orjson and json refuse NaN already.
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise TokenTimeNotNumber(f"the token's {name!r} claim is not a number")
    return float(value)


def check_times(claims: dict[str, Any], max_lifetime_s: int, now: float) -> None:
    """`exp`, `iat`, `nbf`: numbers, in order, and now within them (give or take the leeway)."""
    exp, iat, nbf = (_number(claims, name) for name in _TIME_CLAIMS)
    if exp is None or iat is None:  # required: PyJWT has said so already
        raise BadCredentials("the token has no 'exp' or no 'iat' claim")
    if exp <= iat:
        raise TokenExpiresBeforeIssued("the token's 'exp' is not after its 'iat'")
    if iat > now + TOKEN_LEEWAY_S or (nbf is not None and nbf > now + TOKEN_LEEWAY_S):
        raise TokenNotYetValid("the token is not valid yet")
    if exp <= now - TOKEN_LEEWAY_S:
        raise TokenExpired("the token has expired")
    lifetime = int(exp - iat)
    if lifetime > max_lifetime_s:
        raise TokenTooLongLived(
            f"the token lives {lifetime} s, longer than the {max_lifetime_s} s allowed"
        )


def verify(token: ParsedToken, key: Key, policy: TokenPolicy) -> dict[str, Any]:
    """The token's claims once its signature, issuer, audience, times and lifetime pass."""
    required = ["exp", "iat", "iss"] + (["aud"] if policy.audience else [])
    options = _PYJWT_OPTIONS | {"require": required, "verify_aud": policy.audience is not None}
    try:
        claims = jwt.decode(
            token.raw,
            key,
            algorithms=list(policy.algorithms),
            issuer=policy.issuer,
            audience=policy.audience,
            options=options,  # type: ignore[arg-type]
        )
    except jwt.PyJWTError as e:
        raise rejection(e) from e
    if policy.audience is None and "aud" in claims:
        raise TokenAudienceRefused("the token names an audience, and none is expected here")
    check_times(claims, policy.max_lifetime_s, time.time())
    return claims
