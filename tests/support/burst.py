"""A burst of distinct signed callbacks POSTed concurrently over loopback, each answer kept.

Every request is bounded in time: a receiver that hangs shows up as a timed-out attempt, not a
hung test. A sender may retry its 503s and connection errors until a deadline, as TuxSuite's
retrying sender would.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import aiohttp

from shared.constants import KINDS
from shared.identity import body_digest, job_id
from tests.support.builders import signed_callback
from tests.support.keys import KeyPair

CALLBACK = "/v1/callbacks/tuxsuite"
REQUEST_TIMEOUT_S = 10.0  # seconds one attempt may take before the sender gives up on it
RETRY_PAUSE_S = 0.2  # seconds a retrying sender waits before its next attempt


@dataclass(frozen=True)
class Attempt:
    started: float  # time.monotonic() when the request was sent
    elapsed_s: float
    status: int | None  # None: refused, reset or timed out
    error: str | None = None


@dataclass
class Sent:
    """One callback and every attempt at delivering it."""

    body: bytes
    headers: dict[str, str]
    attempts: list[Attempt] = field(default_factory=list)

    @property
    def kind(self) -> str:
        kind: str = json.loads(self.body)["kind"]
        return kind

    @property
    def uid(self) -> str:
        uid: str = json.loads(self.body)["status"]["uid"]
        return uid

    @property
    def delivery(self) -> tuple[str, str, str]:
        """(kind, uid, body digest): the delivery's identity in the store's ledger."""
        return self.kind, self.uid, body_digest(self.body)

    @property
    def job_id(self) -> str:
        return job_id(*self.delivery)

    @property
    def accepted(self) -> bool:
        """Answered 2xx at least once: the receiver promised to keep it."""
        return any(a.status is not None and 200 <= a.status < 300 for a in self.attempts)


def callbacks(keys: KeyPair, count: int) -> list[Sent]:
    """`count` distinct signed callbacks, the kinds in turn."""
    return [Sent(*signed_callback(keys, kind=KINDS[i % len(KINDS)])) for i in range(count)]


def should_retry(attempt: Attempt) -> bool:
    return attempt.status is None or attempt.status == 503


@dataclass
class Sender:
    """POSTs callbacks to `base_url`; with `retry_until` (a time.monotonic() deadline) it
    retries each 503 and connection error until it gets another answer or time runs out."""

    base_url: str
    concurrency: int = 8
    retry_until: float | None = None
    pause_s: float = 0.0  # seconds each sender task waits between two callbacks
    request_timeout_s: float = REQUEST_TIMEOUT_S
    on_answer: Callable[[Sent, Attempt], None] | None = None
    stop: asyncio.Event | None = None  # once set, no further callback is started

    async def send_all(self, sent: Iterable[Sent]) -> None:
        todo: asyncio.Queue[Sent] = asyncio.Queue()
        for s in sent:
            todo.put_nowait(s)
        # A fresh connection per request: what a stopping receiver refuses is new connections.
        connector = aiohttp.TCPConnector(force_close=True)
        timeout = aiohttp.ClientTimeout(total=self.request_timeout_s)
        async with aiohttp.ClientSession(connector=connector, timeout=timeout) as http:
            await asyncio.gather(*(self._run(http, todo) for _ in range(self.concurrency)))

    async def _run(self, http: aiohttp.ClientSession, todo: asyncio.Queue[Sent]) -> None:
        while not todo.empty() and not (self.stop and self.stop.is_set()):
            s = todo.get_nowait()
            await self._deliver(http, s)
            await asyncio.sleep(self.pause_s)

    async def _deliver(self, http: aiohttp.ClientSession, s: Sent) -> None:
        while True:
            attempt = await self._post(http, s)
            s.attempts.append(attempt)
            if self.on_answer is not None:
                self.on_answer(s, attempt)
            if not self._again(attempt):
                return
            await asyncio.sleep(RETRY_PAUSE_S)

    def _again(self, attempt: Attempt) -> bool:
        if self.retry_until is None or not should_retry(attempt):
            return False
        return time.monotonic() < self.retry_until

    async def _post(self, http: aiohttp.ClientSession, s: Sent) -> Attempt:
        started = time.monotonic()
        try:
            async with http.post(self.base_url + CALLBACK, data=s.body, headers=s.headers) as resp:
                await resp.read()
                return Attempt(started, time.monotonic() - started, resp.status)
        except (aiohttp.ClientError, TimeoutError) as e:
            return Attempt(started, time.monotonic() - started, None, type(e).__name__)


def deliveries(sent: Iterable[Sent]) -> set[tuple[str, str, str]]:
    """The ledger keys of the callbacks a receiver accepted."""
    return {s.delivery for s in sent if s.accepted}
