"""The answers to a request whose credentials fail: 401 with a challenge, or 403."""

from __future__ import annotations

from shared.constants import AUTH_REALM
from shared.errors import Forbidden, Unauthorized

_CHALLENGE = f'Basic realm="{AUTH_REALM}", charset="UTF-8", Bearer realm="{AUTH_REALM}"'

# One message for every failure that involves a secret: an unknown user, a wrong key and a
# bad signature must be indistinguishable.
BAD_CREDENTIALS = "the credentials are not valid"


def unauthorized(message: str, code: str) -> Unauthorized:
    # RFC 6750: no error attribute when the request carried no credentials at all.
    error = "" if code == "missing_credentials" else ', error="invalid_token"'
    return Unauthorized(message, code=code, headers={"WWW-Authenticate": _CHALLENGE + error})


def bad_credentials(message: str = BAD_CREDENTIALS) -> Unauthorized:
    return unauthorized(message, "bad_credentials")


def bad_issuer() -> Unauthorized:
    return unauthorized("the token's issuer is not allowed here", "bad_issuer")


def forbidden_slug(what: str) -> Forbidden:
    return Forbidden(f"{what} may not be reported with these credentials", code="forbidden_slug")
