"""Who sent a request: an access key, a token signed with one, or an OIDC token.

`Basic base64(user:credential)`: the credential is the user's access key, compared in constant
time, or a JWT signed with it. `Bearer <jwt>`: a token of an [oidc] issuer, mapped to a user
by its repository, or a token signed with an access key whose `sub` names the user. An unknown
user is checked against a random decoy key, so that it costs and answers what a wrong key does.
"""

from __future__ import annotations

import asyncio
import hmac
import secrets
from dataclasses import dataclass
from typing import Any

import aiohttp
from multidict import CIMultiDictProxy

from receiver.credentials import (
    BasicCredentials,
    optional_text,
    parse_authorization,
    pull_request,
)
from receiver.jwks import Jwks
from receiver.jwt_verify import ParsedToken, looks_like_jwt, parse, unverified_issuer, verify
from receiver.oidc import verify_oidc
from receiver.users import READ, REPORT, AuthConfig
from shared.errors import BadCredentials, BadIssuer, ForbiddenRole, ForbiddenSlug


@dataclass(frozen=True)
class Identity:
    """A verified sender, and the claims to store with what it sends (`Delivery.auth`)."""

    user: str
    claims: dict[str, Any]

    @property
    def verified_by(self) -> str:
        return f"user:{self.user}"


def _claims(method: str, user: str, **token: Any) -> dict[str, Any]:
    claims = {"method": method, "user": user, "issuer": None, "slug": None, "pull_request": None}
    claims.update(token)
    return claims


class Authenticator:
    """Decides who sent a request, from the users file loaded at start-up."""

    def __init__(self, config: AuthConfig, jwks_refetch_interval_s: float) -> None:
        self.config = config
        self.jwks = {
            iss: Jwks(oidc.jwks_url, oidc.policy.algorithms, jwks_refetch_interval_s)
            for iss, oidc in config.oidc.items()
        }
        # As long as any real key, and matching none.
        self._decoy = secrets.token_urlsafe(64)
        self._session: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        if self.jwks:
            self._session = aiohttp.ClientSession()
            await asyncio.gather(*(jwks.start(self._session) for jwks in self.jwks.values()))

    async def close(self) -> None:
        if self._session:
            await self._session.close()

    async def identify(self, value: str | None, source: str = "Authorization") -> Identity:
        """The user whose credentials `value` holds (the content of header `source`), whatever
        that user may do."""
        credentials = parse_authorization(value, source)
        if isinstance(credentials, BasicCredentials):
            return self._basic(credentials)
        return await self._bearer(credentials.token)

    async def authenticate(self, value: str | None, source: str = "Authorization") -> Identity:
        """The sender of the credentials in `value`, if its user may report (and this slug)."""
        identity = await self.identify(value, source)
        self._check_role(identity, REPORT)
        self._check_slug(identity)
        return identity

    async def reader(self, value: str | None) -> Identity:
        """The user of the `Authorization` value `value`, if that user has the read role."""
        identity = await self.identify(value)
        self._check_role(identity, READ)
        return identity

    async def callback_claims(self, headers: CIMultiDictProxy[str]) -> dict[str, Any] | None:
        """The claims of a TuxSuite callback's required header; None when none is required."""
        name = self.config.callback_header
        if name is None:
            return None
        values = headers.getall(name, [])
        if len(values) > 1:
            raise BadCredentials(f"the {name} header is repeated")
        return (await self.authenticate(values[0] if values else None, name)).claims

    def _key_of(self, user: str) -> bytes:
        known = self.config.users.get(user)
        return (known.access_key.reveal() if known else self._decoy).encode("utf-8")

    def _basic(self, basic: BasicCredentials) -> Identity:
        key = self._key_of(basic.user)
        matches = hmac.compare_digest(basic.credential.encode("utf-8"), key)
        if matches and basic.user in self.config.users:
            return Identity(basic.user, _claims("access_key", basic.user))
        if looks_like_jwt(basic.credential):
            return self._signed_token(parse(basic.credential), basic.user)
        raise BadCredentials()

    async def _bearer(self, raw: str) -> Identity:
        token = parse(raw)
        iss = unverified_issuer(token.claims)
        if iss in self.config.oidc:
            user, stored = await verify_oidc(token, self.config.oidc[iss], self.jwks[iss])
            return Identity(user, stored)
        return self._signed_token(token, None)

    def _signed_token(self, token: ParsedToken, user: str | None) -> Identity:
        policy = self.config.issuers.get(unverified_issuer(token.claims))
        if policy is None:
            raise BadIssuer()
        name = user if user is not None else token.claims.get("sub")
        if not isinstance(name, str):
            raise BadCredentials("a Bearer token signed with an access key names its user in 'sub'")
        claims = verify(token, self._key_of(name), policy)
        if name not in self.config.users or claims.get("sub", name) != name:
            raise BadCredentials()
        return Identity(
            name,
            _claims(
                "jwt",
                name,
                issuer=policy.issuer,
                slug=optional_text(claims, "slug"),
                pull_request=pull_request(claims.get("pull-request")),
            ),
        )

    def _check_role(self, identity: Identity, role: str) -> None:
        if role not in self.config.users[identity.user].roles:
            raise ForbiddenRole(f"user {identity.user!r} does not have the {role!r} role")

    def _check_slug(self, identity: Identity) -> None:
        # The access key itself is the whole credential; the allow-list narrows what tokens,
        # minted for jobs that cannot be trusted with the key, may report.
        allowed = self.config.users[identity.user].slugs
        slug = identity.claims["slug"]
        if allowed and identity.claims["method"] != "access_key" and slug not in allowed:
            listed = ", ".join(sorted(allowed))
            if slug is None:
                raise ForbiddenSlug(
                    f"the token carries no slug, and {identity.user} may only report {listed}"
                    " (tuxhook token --slug)"
                )
            raise ForbiddenSlug(f"{identity.user} may not report {slug!r}, only {listed}")
