"""The children of `tuxhook dev`, each in a process group of its own, stopped one at a time.

A terminal's Ctrl-C goes to every process of its foreground group. Had the children stayed in
that group, each would have stopped at once and on its own: Redis first, leaving the workers
and their schedulers to die of refused connections, with tracebacks. In groups of their own,
they hear only their supervisor, which stops them in the order that leaves none of them without
what it needs: the receiver, then the workers, then Redis.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Sequence
from types import FrameType
from typing import IO

SUPERVISE_INTERVAL_S = 0.2  # seconds between two looks at the children
# Seconds a child has to stop before its whole group is killed: past the workers' default job
# timeout (30 s), so that a job running when Ctrl-C came is finished, not lost.
STOP_TIMEOUT_S = 45.0
KILL_TIMEOUT_S = 5.0  # seconds for a killed group's leader to be reaped


class Stop(Exception):
    """A stopping signal reached the supervisor."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


class Child:
    """A process in its own process group, which only its supervisor signals."""

    def __init__(
        self,
        name: str,
        args: Sequence[str],
        env: dict[str, str] | None = None,
        output: IO[bytes] | None = None,
    ) -> None:
        self.name = name
        self.popen = subprocess.Popen(
            list(args), env=env, stdout=output, stderr=output, process_group=0
        )

    def stop(self, deadline_s: float, hurry: Hurry) -> None:
        """SIGTERM (each child's orderly stop), a bounded wait, then SIGKILL to its group,
        which also takes any process it leaves behind."""
        with contextlib.suppress(ProcessLookupError):
            self.popen.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + deadline_s
        while self.popen.poll() is None and time.monotonic() < deadline and not hurry.now:
            time.sleep(SUPERVISE_INTERVAL_S / 4)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.popen.pid, signal.SIGKILL)
        self.popen.wait(timeout=KILL_TIMEOUT_S)
        self._wait_group_gone()

    def _wait_group_gone(self) -> None:
        """SIGKILL is not instant: return once no process of the group is left, or after
        KILL_TIMEOUT_S, so that nothing outlives the supervisor."""
        deadline = time.monotonic() + KILL_TIMEOUT_S
        while time.monotonic() < deadline:
            try:
                os.killpg(self.popen.pid, 0)
            except (ProcessLookupError, PermissionError):
                return
            time.sleep(SUPERVISE_INTERVAL_S / 20)


class Hurry:
    """A second Ctrl-C while stopping: kill what is left rather than wait for it."""

    def __init__(self) -> None:
        self.now = False

    def __call__(self, signum: int, frame: FrameType | None) -> None:
        self.now = True


STOPPING_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class Supervisor:
    """Children started in order and stopped in the reverse order, whatever ends the run."""

    def __init__(self) -> None:
        self.children: list[Child] = []
        self._starting = False
        self._deferred: int | None = None
        for sig in STOPPING_SIGNALS:
            signal.signal(sig, self._stop)

    def _stop(self, signum: int, frame: FrameType | None) -> None:
        # Raised inside Popen, after its fork, Stop would leave a child no one knows of.
        if self._starting:
            self._deferred = signum
        else:
            raise Stop(signum)

    def start(
        self,
        name: str,
        args: Sequence[str],
        env: dict[str, str] | None = None,
        output: IO[bytes] | None = None,
    ) -> Child:
        """Start a child, and know of it before a stopping signal is acted on."""
        self._starting = True
        try:
            child = Child(name, args, env, output)
            self.children.append(child)
        finally:
            self._starting = False
        if self._deferred is not None:
            raise Stop(self._deferred)
        return child

    def run(self, name: str, args: Sequence[str], env: dict[str, str] | None = None) -> int:
        """A one-shot child's exit status; stopped with the others if a signal comes first."""
        child = self.start(name, args, env)
        code = child.popen.wait()
        self.children.remove(child)
        return code

    def wait(self) -> Child:
        """Until a signal (Stop) or a child exits: that child."""
        while True:
            for child in self.children:
                if child.popen.poll() is not None:
                    return child
            time.sleep(SUPERVISE_INTERVAL_S)

    def stop_all(self) -> list[str]:
        """Stop every child, the last started first; the names of those that were running."""
        hurry = Hurry()
        for sig in STOPPING_SIGNALS:
            signal.signal(sig, hurry)
        stopped = []
        for child in reversed(self.children):
            if child.popen.poll() is None:
                stopped.append(child.name)
            child.stop(STOP_TIMEOUT_S, hurry)
        return stopped
