"""`tuxhook token`: mint an HS256 JWT from an access key, as the Travis CI JWT addon did."""

from __future__ import annotations

import argparse
import sys
import time

import jwt

from shared.constants import DEFAULT_ISSUER, DEFAULT_TOKEN_MAX_LIFETIME_S, MIN_ACCESS_KEY_BYTES
from shared.errors import ConfigError
from shared.settings import Secret, Settings

# Not an error (many users may report any slug), but the refusal it leads to is far away.
NO_SLUG = (
    "tuxhook: note: this token carries no slug, so a user with a slugs list in the users file"
    " cannot report with it (--slug)"
)


def mint_token(
    access_key: Secret,
    user: str,
    *,
    slug: str | None = None,
    pull_request: int | None = None,
    ttl_s: int = DEFAULT_TOKEN_MAX_LIFETIME_S,
    issuer: str = DEFAULT_ISSUER,
    now: int | None = None,
) -> str:
    """A token the receiver accepts as `user` while it lives; `sub` names the user for Bearer."""
    iat = int(time.time()) if now is None else now
    claims: dict[str, object] = {"iss": issuer, "sub": user, "iat": iat, "exp": iat + ttl_s}
    if slug is not None:
        claims["slug"] = slug
    if pull_request is not None:
        claims["pull-request"] = pull_request
    return jwt.encode(claims, access_key.reveal().encode("utf-8"), algorithm="HS256")


def checked_access_key(settings: Settings) -> Secret:
    key = settings.access_key
    if key is None:
        raise ConfigError("TUXHOOK_ACCESS_KEY is not set: it holds the access key to sign with")
    if len(key.reveal().encode("utf-8")) < MIN_ACCESS_KEY_BYTES:
        raise ConfigError(f"TUXHOOK_ACCESS_KEY is shorter than {MIN_ACCESS_KEY_BYTES} bytes")
    return key


def check_lifetime(ttl: int, max_ttl: int) -> None:
    """Refuse, here and now, a token the receiver would refuse as token_too_long_lived."""
    if ttl <= 0:
        raise ConfigError("--ttl must be a positive number of seconds")
    if ttl > max_ttl != DEFAULT_TOKEN_MAX_LIFETIME_S:
        raise ConfigError(f"--ttl {ttl} is over --max-ttl {max_ttl}")
    if ttl > max_ttl:
        raise ConfigError(
            f"--ttl {ttl} is over {max_ttl} s, the longest lifetime a receiver accepts by"
            " default: if its users file allows longer (the issuer's max_lifetime), pass that"
            " as --max-ttl"
        )


def token_command(args: argparse.Namespace, settings: Settings) -> int:
    key = checked_access_key(settings)
    check_lifetime(args.ttl, args.max_ttl)
    if args.pull_request is not None and args.pull_request <= 0:
        raise ConfigError("--pull-request must be a positive number")
    if args.slug is None:
        print(NO_SLUG, file=sys.stderr)
    print(
        mint_token(
            key,
            args.user,
            slug=args.slug,
            pull_request=args.pull_request,
            ttl_s=args.ttl,
            issuer=args.issuer,
        )
    )
    return 0
