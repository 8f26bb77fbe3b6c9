"""What an anonymous client does to a receiver in bench/exposure.py: gzip bombs, uploads held
open, idle connections and oversized heads, each over raw loopback sockets; and how the
receiver process is watched meanwhile (CPU, memory)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
import zlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import aiohttp

from shared.constants import SIGNATURE_HEADER

CHUNK = 1 << 20  # bytes
SEND_TIMEOUT_S = 120.0  # seconds one attack may take at most, whatever the receiver does
IDLE_CPU_S = 0.01  # CPU seconds per quarter second below which a receiver is idle again
GARBAGE_SIGNATURE = "garbage"


def rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


def cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


async def until_idle(pid: int, limit_s: float = 60.0) -> None:
    """Wait until the process spends (almost) no CPU for a quarter of a second."""
    deadline = time.monotonic() + limit_s
    before = cpu_s(pid)
    while time.monotonic() < deadline:
        await asyncio.sleep(0.25)
        now = cpu_s(pid)
        if now - before < IDLE_CPU_S:
            return
        before = now


def gzip_bomb(inflated_mib: int, cache: Path) -> bytes:
    """`inflated_mib` MiB of zeros, gzip level 9 (about 1/1030 of it), cached in `cache`."""
    path = cache / f"bomb-{inflated_mib}m.gz"
    if path.exists():
        return path.read_bytes()
    compressor = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    zeros = bytes(CHUNK)
    bomb = b"".join(compressor.compress(zeros) for _ in range(inflated_mib)) + compressor.flush()
    cache.mkdir(parents=True, exist_ok=True)
    path.write_bytes(bomb)
    return bomb


def head(method: str, path: str, headers: dict[str, str]) -> bytes:
    lines = [
        f"{method} {path} HTTP/1.1",
        "Host: tuxhook",
        *(f"{k}: {v}" for k, v in headers.items()),
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


async def _send_quietly(writer: asyncio.StreamWriter, data: bytes) -> None:
    with contextlib.suppress(ConnectionError):
        for start in range(0, len(data), CHUNK):
            writer.write(data[start : start + CHUNK])
            await writer.drain()


async def post_raw(port: int, path: str, headers: dict[str, str], body: bytes) -> float:
    """POST `body` whole (however early the answer comes); seconds until the answer began."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    started = time.perf_counter()
    headers = {**headers, "Content-Length": str(len(body))}
    sender = asyncio.create_task(_send_quietly(writer, head("POST", path, headers) + body))
    try:
        async with asyncio.timeout(SEND_TIMEOUT_S):
            await reader.read(1)
            answered = time.perf_counter() - started
            await sender
            with contextlib.suppress(ConnectionError):
                while await reader.read(CHUNK):  # until the receiver closes, or is done
                    pass
    finally:
        sender.cancel()
        writer.close()
    return answered


async def bomb(port: int, payload: bytes) -> float:
    headers = {"Content-Type": "application/json", "Content-Encoding": "gzip"}
    return await post_raw(port, "/nope", headers, payload)


@dataclass
class Latencies:
    seconds: list[float]

    @property
    def median_ms(self) -> float:
        ordered = sorted(self.seconds)
        return ordered[len(ordered) // 2] * 1000 if ordered else float("nan")

    @property
    def max_ms(self) -> float:
        return max(self.seconds, default=float("nan")) * 1000


async def poll(
    request: Callable[[aiohttp.ClientSession], Awaitable[None]], stop: asyncio.Event
) -> Latencies:
    """Time `request` again and again, one at a time, until `stop` is set."""
    times: list[float] = []
    async with aiohttp.ClientSession() as http:
        while not stop.is_set():
            started = time.perf_counter()
            await request(http)
            times.append(time.perf_counter() - started)
            await asyncio.sleep(0.01)
    return Latencies(times)


async def hold_uploads(
    port: int, count: int, signature: str, size: int, hold_s: float, pid: int
) -> tuple[int, int]:
    """`count` uploads of `size` bytes, all but the last byte sent, held `hold_s` seconds:
    (peak RSS while held, RSS once they are closed and the receiver idle)."""
    headers = {"Content-Type": "application/json", "Content-Length": str(size)}
    headers[SIGNATURE_HEADER] = signature
    opened = [await asyncio.open_connection("127.0.0.1", port) for _ in range(count)]
    data = head("POST", "/v1/callbacks/tuxsuite", headers) + b"{" + b" " * (size - 2)
    await asyncio.gather(*(_send_quietly(w, data) for _, w in opened))
    peak = await peak_rss(pid, hold_s)
    for _, writer in opened:
        writer.close()
    await asyncio.sleep(1.0)
    await until_idle(pid)
    return peak, rss_bytes(pid)


async def peak_rss(pid: int, seconds: float) -> int:
    peak = rss_bytes(pid)
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        await asyncio.sleep(0.1)
        peak = max(peak, rss_bytes(pid))
    return peak


async def hold_heads(port: int, count: int, partial: bytes, hold_s: float, pid: int) -> int:
    """`count` connections that each sent `partial`, an unfinished head: peak RSS while held."""
    opened = [await asyncio.open_connection("127.0.0.1", port) for _ in range(count)]
    await asyncio.gather(*(_send_quietly(w, partial) for _, w in opened))
    peak = await peak_rss(pid, hold_s)
    for _, writer in opened:
        writer.close()
    return peak
