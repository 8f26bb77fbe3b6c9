"""GitHub Actions OIDC tokens: RS256 against the issuer's JWKS, mapped to a user by repository."""

from __future__ import annotations

from typing import Any

from receiver.credentials import optional_text, pull_request_of_ref
from receiver.jwks import Jwks
from receiver.jwt_verify import verify
from receiver.rejections import bad_credentials, forbidden_slug
from receiver.users import OidcIssuer
from shared.constants import RETRY_AFTER_S
from shared.errors import ServiceUnavailable


async def _key(jwks: Jwks, header: dict[str, Any]) -> Any:
    kid = header.get("kid")
    key = await jwks.key(kid) if isinstance(kid, str) else None
    if key is not None:
        return key
    if not jwks.loaded:
        # Not the token's fault: the issuer's keys could not be fetched yet.
        raise ServiceUnavailable(
            "the OIDC issuer's keys could not be loaded yet; retry later",
            code="keys_unavailable",
            headers={"Retry-After": str(RETRY_AFTER_S)},
        )
    raise bad_credentials()


async def verify_oidc(
    token: str, header: dict[str, Any], issuer: OidcIssuer, jwks: Jwks
) -> tuple[str, dict[str, Any]]:
    """The user a valid token's repository maps to, and the claims to store with the event."""
    claims = verify(token, await _key(jwks, header), issuer.policy)
    repository = optional_text(claims, "repository")
    if repository is None:
        raise bad_credentials("the token has no 'repository' claim")
    user = issuer.user_for(repository)
    if user is None:
        raise forbidden_slug(f"repository {repository!r}")
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
