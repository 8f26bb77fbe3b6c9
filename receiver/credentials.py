"""Parse an `Authorization`-style value (`Basic` or `Bearer`) and a token's claims; judge nothing.

Every malformed part is a 401, never a ValueError escaping as a 500.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass, field
from typing import Any

from shared.errors import BadCredentials, MissingCredentials

_PULL_REF = re.compile(r"refs/pull/([0-9]{1,10})/(?:merge|head)")


@dataclass(frozen=True)
class BasicCredentials:
    user: str
    credential: str = field(repr=False)


@dataclass(frozen=True)
class BearerToken:
    token: str = field(repr=False)


def parse_authorization(value: str | None, source: str) -> BasicCredentials | BearerToken:
    """The credentials in `value`, the content of the header named `source`."""
    if value is None or not value.strip():
        raise MissingCredentials(f"no credentials in {source}")
    scheme, _, param = value.strip().partition(" ")
    param = param.strip()
    if scheme.lower() == "basic":
        return _basic(param, source)
    if scheme.lower() == "bearer" and param:
        return BearerToken(param)
    raise BadCredentials(f"{source} must hold 'Basic ...' or 'Bearer ...'")


def _basic(param: str, source: str) -> BasicCredentials:
    try:
        text = base64.b64decode(param.encode("ascii"), validate=True).decode("utf-8")
    except (binascii.Error, ValueError) as e:
        # UnicodeError is a ValueError: non-ASCII base64, or a non-UTF-8 user:credential.
        raise BadCredentials(f"{source}: Basic must hold base64 of 'user:credential'") from e
    user, colon, credential = text.partition(":")
    if not (user and colon and credential):
        raise BadCredentials(f"{source}: Basic must hold base64 of 'user:credential'")
    return BasicCredentials(user, credential)


def optional_text(claims: dict[str, Any], name: str) -> str | None:
    value = claims.get(name)
    if value is None or isinstance(value, str):
        return value
    raise BadCredentials(f"the token's {name!r} claim is not a string")


# Pull request numbers of GitHub, GitLab and Travis fit in 32 bits; a larger "number" is no pull
# request, and could not travel in a job (orjson, like most JSON, stops at 64 bits).
PULL_REQUEST_MAX = 2**31 - 1


def pull_request(value: Any) -> int | None:
    """The addon's `pull-request` claim (a number, or "false" outside pull requests) as int."""
    if value is None or value is False or value in ("", "false"):
        return None
    number = None
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 10:
        number = int(value)
    if number is None or not 0 < number <= PULL_REQUEST_MAX:
        raise BadCredentials("the token's 'pull-request' claim is not a pull request number")
    return number


def pull_request_of_ref(ref: str | None) -> int | None:
    """The pull request a GitHub ref such as `refs/pull/42/merge` belongs to."""
    match = _PULL_REF.fullmatch(ref or "")
    number = int(match.group(1)) if match else None
    return number if number is not None and number <= PULL_REQUEST_MAX else None
