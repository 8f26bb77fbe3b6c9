"""The keys valid now: from a file, and from a URL refetched (rate-limited) after a failure.

A fetch that fails, or answers something that holds no usable key (an HTML page, an empty
body, keys of unknown types only), changes nothing: the keys held are kept, and the log says
why. Until the URL's keys have been fetched once, a callback no held key verifies is answered
503 keys_unavailable (receiver/verify.py), so that TuxSuite retries it.
"""

from __future__ import annotations

import asyncio
import time

import aiohttp
import structlog

from shared.errors import ConfigError
from shared.keys import NO_KEYS, KeySet, PublicKey, fetch_keys
from shared.settings import Secret

log = structlog.get_logger("tuxhook.keys")


def log_skipped(skipped: tuple[str, ...], source: str) -> None:
    for why in skipped:
        log.warning("key_skipped", source=source, reason=why)


class KeyRing:
    """The keys valid now: the file's, plus the URL's, refetched at most once per interval."""

    def __init__(
        self,
        file_keys: KeySet = NO_KEYS,
        url: str | None = None,
        token: Secret | None = None,
        min_interval_s: float = 30.0,
        max_age_s: float = 3600.0,
    ) -> None:
        self._file_keys = file_keys.keys
        self._url_keys: tuple[PublicKey, ...] = ()
        self._url_skipped: tuple[str, ...] = ()
        self.url, self._token, self._min_interval = url, token, min_interval_s
        # A revoked key must stop working even if no signature ever fails: refetch when stale.
        self._max_age = max_age_s
        self._last_attempt = self._last_success = float("-inf")
        self._lock = asyncio.Lock()
        self._session: aiohttp.ClientSession | None = None

    @property
    def keys(self) -> tuple[PublicKey, ...]:
        return self._file_keys + self._url_keys

    @property
    def awaiting_url_keys(self) -> bool:
        """A keys URL is set, and no fetch of it has succeeded yet."""
        return self.url is not None and self._last_success == float("-inf")

    async def start(self) -> None:
        if self.url:
            self._session = aiohttp.ClientSession()
            await self.refresh(force=True)
        if not self.keys:
            log.warning("no_tuxsuite_keys_yet", answer="503 keys_unavailable until a fetch works")

    async def close(self) -> None:
        if self._session:
            await self._session.close()

    @property
    def stale(self) -> bool:
        """The URL's keys were last fetched longer ago than the maximum age (a failed fetch
        does not count, so a URL that keeps failing is tried again at each interval)."""
        return self.url is not None and time.monotonic() - self._last_success > self._max_age

    async def refresh(self, *, force: bool = False) -> bool:
        """Refetch the URL's keys unless tried within the interval; True if the keys changed."""
        if not self.url or self._session is None:
            return False
        async with self._lock:
            if not force and time.monotonic() - self._last_attempt < self._min_interval:
                return False
            self._last_attempt = time.monotonic()
            try:
                fetched = await fetch_keys(self._session, self.url, self._token)
            except ConfigError as e:
                log.warning("keys_fetch_failed", reason=e.message, kept=len(self._url_keys))
                return False
            return self._replace(fetched)

    def _replace(self, fetched: KeySet) -> bool:
        self._last_success = time.monotonic()
        if fetched.skipped != self._url_skipped:
            log_skipped(fetched.skipped, "url")
            self._url_skipped = fetched.skipped
        before = {k.fingerprint for k in self._url_keys}
        self._url_keys = fetched.keys
        after = {k.fingerprint for k in self._url_keys}
        log.info("keys_fetched", fingerprints=sorted(after))
        return after != before
