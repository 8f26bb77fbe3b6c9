"""A real redis-server on a free loopback port, which tests may stop, kill and restart."""

from __future__ import annotations

import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from redis import Redis
from redis.exceptions import RedisError

START_TIMEOUT_S = 10.0  # seconds for redis-server to answer
START_ATTEMPTS = 3  # ports tried before giving up


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class RedisServer:
    """`appendfsync` only matters with `appendonly`: "everysec" (Redis's default) or "always"."""

    def __init__(
        self,
        directory: Path,
        *,
        appendonly: bool = False,
        appendfsync: str = "everysec",
        port: int = 0,
    ) -> None:
        self.directory = directory
        self.appendonly = appendonly
        self.appendfsync = appendfsync
        self.port = port or free_port()
        # A given port, or one this server ran on, is kept: its clients know it.
        self.port_kept = bool(port)
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def command(self) -> list[str]:
        binary = shutil.which("redis-server") or "/usr/bin/redis-server"
        aof = ["--appendonly", "yes", "--appendfsync", self.appendfsync] if self.appendonly else []
        return [
            binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
            "--dir", str(self.directory), "--appendonly", "no", *aof,
        ]  # fmt: skip

    def start(self) -> None:
        """Start redis-server; on a port of its own choosing, another if that one was taken
        meanwhile (by a test run beside this one). A restart keeps the port its clients use."""
        self.directory.mkdir(parents=True, exist_ok=True)
        for _ in range(START_ATTEMPTS):
            with (self.directory / "redis.log").open("ab") as log:
                self.process = subprocess.Popen(
                    self.command(), stdout=log, stderr=subprocess.STDOUT
                )
            if self.wait_ready():
                self.port_kept = True
                return
            if self.port_kept:
                break
            self.port = free_port()
        raise RuntimeError(f"redis-server did not start: {self.directory / 'redis.log'}")

    def wait_ready(self) -> bool:
        """True once this process answers PING on the port: a server of another process
        there (the port was taken) must not pass for it. False if this one exited."""
        assert self.process is not None
        client = Redis(port=self.port, socket_connect_timeout=0.2)
        try:
            deadline = time.monotonic() + START_TIMEOUT_S
            while time.monotonic() < deadline and self.process.poll() is None:
                try:
                    if client.info("server")["process_id"] == self.process.pid:
                        return True
                except RedisError:
                    pass
                time.sleep(0.05)
        finally:
            client.close()
        if self.process.poll() is None:
            raise RuntimeError(f"redis-server on port {self.port} did not answer")
        return False

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        self.process = None

    def kill(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)
        self.process = None

    @contextmanager
    def stalled(self) -> Iterator[None]:
        """Redis stopped (SIGSTOP), not dead, for the block: its port still accepts connections,
        which the kernel queues, but nothing answers, as in a swap storm or a frozen VM."""
        assert self.process is not None, "redis-server is not running"
        self.process.send_signal(signal.SIGSTOP)
        try:
            yield
        finally:
            self.process.send_signal(signal.SIGCONT)

    def client(self) -> Redis:
        return Redis(port=self.port, socket_connect_timeout=1, socket_timeout=5)
