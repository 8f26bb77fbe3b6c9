"""What the kernel says about a port and a process tree (Linux /proc)."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable
from pathlib import Path

WAIT_TIMEOUT_S = 20.0  # seconds to wait for a process tree to settle


LISTEN, ESTABLISHED = "0A", "01"  # states in /proc/net/tcp


def _sockets(port: int, state: str) -> list[list[str]]:
    """/proc/net/tcp rows (split) of the sockets whose local port is `port`, in `state`."""
    rows = (r.split() for r in Path("/proc/net/tcp").read_text().splitlines()[1:])
    return [r for r in rows if r[1].endswith(f":{port:04X}") and r[3] == state]


def listening_sockets(port: int) -> int:
    """Sockets listening on `port`: with SO_REUSEPORT, one per receiver process."""
    return len(_sockets(port, LISTEN))


def _socket_inodes(pid: int) -> set[str]:
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[len("socket:[") : -1])
    return inodes


def accepted_connections(pids: Iterable[int], port: int) -> int:
    """Connections to `port` that these processes have accepted (not left in a backlog)."""
    inodes = set().union(*(_socket_inodes(pid) for pid in pids))
    return sum(1 for row in _sockets(port, ESTABLISHED) if row[9] in inodes)


def children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(c) for c in path.read_text().split()] if path.exists() else []


def alive(pid: int) -> bool:
    """Running, and not a zombie waiting for its parent."""
    stat = Path(f"/proc/{pid}/stat")
    try:
        return stat.read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def wait_until(done: Callable[[], bool], what: str, timeout: float = WAIT_TIMEOUT_S) -> None:
    deadline = time.monotonic() + timeout
    while not done():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)
