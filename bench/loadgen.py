"""A bounded HTTP load generator for loopback: POSTs pre-built requests, measures latency."""

from __future__ import annotations

import asyncio
import statistics
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import aiohttp

Request = tuple[bytes, dict[str, str]]


@dataclass(frozen=True)
class LoadResult:
    label: str
    sent: int
    seconds: float
    statuses: Counter[int]
    latencies_ms: list[float]

    @property
    def rate(self) -> float:
        return self.sent / self.seconds

    def percentile(self, q: float) -> float:
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]

    def line(self) -> str:
        return (
            f"{self.label:<28} {self.rate:8.0f} req/s  p50 {self.percentile(0.5):6.2f} ms"
            f"  p99 {self.percentile(0.99):6.2f} ms  statuses {dict(self.statuses)}"
        )


async def _worker(
    http: aiohttp.ClientSession, url: str, queue: asyncio.Queue[Request], out: LoadResult
) -> None:
    while True:
        try:
            body, headers = queue.get_nowait()
        except asyncio.QueueEmpty:
            return
        started = time.perf_counter()
        async with http.post(url, data=body, headers=headers) as resp:
            await resp.read()
            out.statuses[resp.status] += 1
        out.latencies_ms.append((time.perf_counter() - started) * 1000)


async def run_load(
    label: str, url: str, requests: Sequence[Request], concurrency: int
) -> LoadResult:
    """Send every request once, `concurrency` at a time, over keep-alive connections."""
    queue: asyncio.Queue[Request] = asyncio.Queue()
    for item in requests:
        queue.put_nowait(item)
    connector = aiohttp.TCPConnector(limit=concurrency)
    result = LoadResult(label, len(requests), 0.0, Counter(), [])
    async with aiohttp.ClientSession(connector=connector) as http:
        started = time.perf_counter()
        await asyncio.gather(*(_worker(http, url, queue, result) for _ in range(concurrency)))
        seconds = time.perf_counter() - started
    return LoadResult(label, len(requests), seconds, result.statuses, result.latencies_ms)


def median_of(values: Sequence[float]) -> float:
    return statistics.median(values)
