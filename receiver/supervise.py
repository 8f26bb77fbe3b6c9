"""`tuxhook receiver --processes N`: N receivers on one port, the kernel spreading connections.

One receiver process tops out at about one core (verification and RQ's enqueue are Python),
so a busy host runs several. Each child is a plain `tuxhook receiver --reuse-port`, with the
same settings and the same draining stop; bench/receivers.py measured this against gunicorn's
aiohttp worker (docs/operations.md).

The children run in their own process group, so that a terminal's Ctrl-C reaches them once,
through this parent, and not a second time from the terminal (a second signal kills at once).
If a child dies, the others are stopped too and the exit status says so: a supervisor that
respawned children would hide a crash loop, which the container's restart policy surfaces.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from types import FrameType

import structlog

from shared.settings import Settings

log = structlog.get_logger("tuxhook.receiver")


def child_command(settings: Settings) -> list[str]:
    return [
        sys.executable, "-m", "shared.cli", "receiver", "--host", settings.host,
        "--port", str(settings.port), "--reuse-port", "--processes", "1",
    ]  # fmt: skip


class Supervisor:
    def __init__(self, settings: Settings, count: int) -> None:
        self.stopping = False
        self.children = [
            subprocess.Popen(child_command(settings), process_group=0) for _ in range(count)
        ]

    def stop(self, signum: int = signal.SIGTERM, _: FrameType | None = None) -> None:
        """Forward the stop to every child, each of which drains its requests in flight."""
        self.stopping = True
        for child in self.children:
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)

    def run(self) -> int:
        signal.signal(signal.SIGTERM, self.stop)
        signal.signal(signal.SIGINT, self.stop)
        pid, status = os.wait()  # the first child to exit, for whatever reason
        if not self.stopping:
            log.error("receiver_process_died", pid=pid, status=os.waitstatus_to_exitcode(status))
            self.stop()
        codes = [child.wait() for child in self.children if child.pid != pid]
        codes.append(os.waitstatus_to_exitcode(status))
        return 0 if self.stopping and not any(codes) else 1
