"""An OIDC issuer's signing keys from its JWKS URL: cached, refetched on an unknown `kid`.

Fetched with aiohttp, so a refetch never blocks the event loop, and at most once per interval
(like KeyRing), so tokens with made-up kids cannot turn the receiver into a fetch amplifier.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Collection
from typing import Any

import aiohttp
import jwt
import structlog

from shared.constants import JWKS_FETCH_TIMEOUT_S
from shared.settings import mask_url, scrub_url_secrets

log = structlog.get_logger("tuxhook.jwks")

# Only public-key types: a symmetric ("oct") key published at a URL would let anyone sign.
_ASYMMETRIC_KTY = frozenset({"RSA", "EC", "OKP"})


class JwksError(Exception):
    """The JWKS URL could not be fetched or did not hold a key set."""


def _usable(jwk: Any, algorithms: Collection[str]) -> jwt.PyJWK | None:
    if not isinstance(jwk, dict) or not isinstance(jwk.get("kid"), str):
        return None
    if jwk.get("kty") not in _ASYMMETRIC_KTY or jwk.get("use", "sig") != "sig":
        return None
    try:
        key = jwt.PyJWK(jwk)
    except jwt.PyJWTError:
        return None
    return key if key.algorithm_name in algorithms else None


def parse_jwks(text: str, algorithms: Collection[str]) -> dict[str, jwt.PyJWK]:
    """The usable keys of a JWKS document, by kid; keys of other types or algorithms are skipped."""
    try:
        jwks = json.loads(text)
    except ValueError as e:
        raise JwksError("the JWKS is not JSON") from e
    if not isinstance(jwks, dict) or not isinstance(jwks.get("keys"), list):
        raise JwksError("the JWKS has no 'keys' list")
    keys = {}
    for jwk in jwks["keys"]:
        key = _usable(jwk, algorithms)
        if key is not None:
            keys[jwk["kid"]] = key
    return keys


async def fetch_jwks_text(session: aiohttp.ClientSession, url: str) -> str:
    timeout = aiohttp.ClientTimeout(total=JWKS_FETCH_TIMEOUT_S)
    try:
        async with session.get(url, timeout=timeout) as resp:
            if resp.status != 200:
                raise JwksError(f"the JWKS URL answered HTTP {resp.status}")
            return await resp.text()
    except (aiohttp.ClientError, TimeoutError) as e:
        raise JwksError(f"cannot fetch the JWKS: {type(e).__name__}") from e


class Jwks:
    """One issuer's keys by kid, refetched at most once per `min_interval_s`."""

    def __init__(self, url: str, algorithms: Collection[str], min_interval_s: float) -> None:
        self.url, self._algorithms, self._min_interval = url, tuple(algorithms), min_interval_s
        self._keys: dict[str, jwt.PyJWK] = {}
        self._last_fetch = float("-inf")
        self._lock = asyncio.Lock()
        self._session: aiohttp.ClientSession | None = None

    @property
    def loaded(self) -> bool:
        return bool(self._keys)

    async def start(self, session: aiohttp.ClientSession) -> None:
        self._session = session
        await self.refresh(force=True)

    async def key(self, kid: str) -> jwt.PyJWK | None:
        """The key named `kid`; an unknown kid may mean the issuer rotated, so refetch first."""
        if kid not in self._keys:
            await self.refresh()
        return self._keys.get(kid)

    async def refresh(self, *, force: bool = False) -> None:
        if self._session is None:
            return
        async with self._lock:
            # Requests that queued on the lock find the keys the first one fetched.
            if not force and time.monotonic() - self._last_fetch < self._min_interval:
                return
            self._last_fetch = time.monotonic()
            try:
                keys = parse_jwks(await fetch_jwks_text(self._session, self.url), self._algorithms)
            except JwksError as e:
                log.warning(
                    "jwks_fetch_failed",
                    url=mask_url(self.url),
                    reason=scrub_url_secrets(str(e), self.url),
                )
                return
            self._keys = keys
            log.info("jwks_fetched", url=mask_url(self.url), kids=sorted(keys))
