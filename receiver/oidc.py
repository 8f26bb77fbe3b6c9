"""GitHub Actions OIDC tokens: RS256 against the issuer's JWKS, mapped to a user by repository."""

from __future__ import annotations

from typing import Any

from receiver.credentials import optional_text, pull_request_of_ref
from receiver.jwks import Jwks
from receiver.jwt_verify import ParsedToken, verify
from receiver.users import OidcIssuer
from shared.errors import BadCredentials, ForbiddenSlug, KeysUnavailable


async def _key(jwks: Jwks, header: dict[str, Any]) -> Any:
    kid = header.get("kid")
    key = await jwks.key(kid) if isinstance(kid, str) else None
    if key is not None:
        return key
    if not jwks.loaded:
        # Not the token's fault: the issuer's keys could not be fetched yet.
        raise KeysUnavailable("the OIDC issuer's keys could not be loaded yet; retry later")
    raise BadCredentials()


async def verify_oidc(
    token: ParsedToken, issuer: OidcIssuer, jwks: Jwks
) -> tuple[str, dict[str, Any]]:
    """The user a valid token's repository maps to, and the claims to store with the event."""
    claims = verify(token, await _key(jwks, token.header), issuer.policy)
    repository = optional_text(claims, "repository")
    if repository is None:
        raise BadCredentials("the token has no 'repository' claim")
    user = issuer.user_for(repository)
    if user is None:
        raise ForbiddenSlug(f"repository {repository!r} may not be reported with these credentials")
    ref = optional_text(claims, "ref")
    return user, {
        "method": "oidc",
        "user": user,
        "issuer": issuer.policy.issuer,
        "slug": repository,
        "pull_request": pull_request_of_ref(ref),
        "repository": repository,
        "ref": ref,
        "sha": optional_text(claims, "sha"),
    }
