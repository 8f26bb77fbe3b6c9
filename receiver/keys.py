"""The keys valid now: from a file, and from a URL refetched (rate-limited) after a failure."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence

import aiohttp
import structlog

from shared.errors import ConfigError
from shared.keys import PublicKey, fetch_keys_text, parse_keys
from shared.settings import Secret

log = structlog.get_logger("tuxhook.keys")


class KeyRing:
    """The keys valid now: the file's, plus the URL's, refetched at most once per interval."""

    def __init__(
        self,
        file_keys: Sequence[PublicKey] = (),
        url: str | None = None,
        token: Secret | None = None,
        min_interval_s: float = 30.0,
        max_age_s: float = 3600.0,
    ) -> None:
        self._file_keys = tuple(file_keys)
        self._url_keys: tuple[PublicKey, ...] = ()
        self.url, self._token, self._min_interval = url, token, min_interval_s
        # A revoked key must stop working even if no signature ever fails: refetch when stale.
        self._max_age = max_age_s
        self._last_fetch = float("-inf")
        self._lock = asyncio.Lock()
        self._session: aiohttp.ClientSession | None = None

    @property
    def keys(self) -> tuple[PublicKey, ...]:
        return self._file_keys + self._url_keys

    async def start(self) -> None:
        if self.url:
            self._session = aiohttp.ClientSession()
            await self.refresh(force=True)

    async def close(self) -> None:
        if self._session:
            await self._session.close()

    @property
    def stale(self) -> bool:
        return self.url is not None and time.monotonic() - self._last_fetch > self._max_age

    async def refresh(self, *, force: bool = False) -> bool:
        """Refetch the URL's keys unless fetched within the interval; True if the keys changed."""
        if not self.url or self._session is None:
            return False
        async with self._lock:
            if not force and time.monotonic() - self._last_fetch < self._min_interval:
                return False
            self._last_fetch = time.monotonic()
            before = {k.fingerprint for k in self._url_keys}
            try:
                self._url_keys = parse_keys(
                    await fetch_keys_text(self._session, self.url, self._token)
                )
            except ConfigError as e:
                log.warning("keys_fetch_failed", reason=e.message)
                return False
            after = {k.fingerprint for k in self._url_keys}
            log.info("keys_fetched", fingerprints=sorted(after))
            return after != before
