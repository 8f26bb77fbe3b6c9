"""Real tuxhook processes (`tuxhook receiver`, `tuxhook worker`) started the way operators do."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Mapping, Sequence
from pathlib import Path
from urllib.error import URLError

from tests.support.sockets import alive, children

READY_TIMEOUT_S = 60.0  # seconds for a receiver to answer /healthz (20 s was short at load 10)
RUN_TIMEOUT_S = 60.0  # seconds a one-shot command may take


def tuxhook_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "shared.cli", *args]


class Process:
    """A child process whose output goes to a log file the test can read on failure."""

    def __init__(
        self,
        args: Sequence[str],
        env: Mapping[str, str],
        log_path: Path,
        cwd: Path | None = None,
        *,
        new_group: bool = False,
    ) -> None:
        """`new_group`: lead a process group of its own, as a shell's foreground job does, so
        that a test can signal the whole group as a terminal's Ctrl-C would."""
        self.log_path = log_path
        self._log = log_path.open("ab")
        self.popen = subprocess.Popen(
            list(args),
            env=dict(env),
            stdout=self._log,
            stderr=subprocess.STDOUT,
            cwd=cwd,
            process_group=0 if new_group else None,
        )

    def signal(self, sig: signal.Signals) -> None:
        if self.popen.poll() is None:
            self.popen.send_signal(sig)

    def wait(self, timeout: float) -> int:
        return self.popen.wait(timeout=timeout)

    def stop(self, timeout: float = 15.0) -> int | None:
        """SIGTERM; SIGKILL to the whole tree if it has not exited within `timeout`. No process
        of a test's may outlive it: an orphaned pool member would take the next test's jobs."""
        if self.popen.poll() is None:
            tree = descendants(self.popen.pid)
            self.popen.terminate()
            try:
                self.popen.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.kill_tree()
            for pid in tree:  # any left behind by a parent that exited
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
        self._log.close()
        return self.popen.returncode

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    def kill_tree(self) -> None:
        """SIGKILL the process and every process under it at once, as the OOM killer or a
        lost container would: nothing gets to clean up (RQ's scheduler runs as a child)."""
        pids = descendants(self.popen.pid)
        for pid in [self.popen.pid, *pids]:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        self.popen.wait(timeout=10)


def descendants(pid: int) -> list[int]:
    found: list[int] = []
    todo = [pid]
    while todo:  # bounded: a process tree is finite and /proc lists each child once
        kids = children(todo.pop())
        found.extend(kids)
        todo.extend(kids)
    return found


def processes_in(folder: Path) -> list[int]:
    """Live processes working in `folder` or under it: every child of a `tuxhook dev` run
    there (redis-server moves to var/), whoever its parent is now."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            cwd = Path(os.readlink(entry / "cwd"))
        except (OSError, ValueError):
            continue
        if entry.name.isdigit() and cwd.is_relative_to(folder) and alive(int(entry.name)):
            found.append(int(entry.name))
    return found


def kill_processes_in(folder: Path) -> None:
    """SIGKILL what a failed test may have left behind, found by where it works."""
    for pid in processes_in(folder):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def child_env(settings_env: Mapping[str, str]) -> dict[str, str]:
    """The parent's environment without any TUXHOOK_* of its own, plus the test's settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TUXHOOK_")}
    env.update(settings_env)
    return env


def wait_http_ok(url: str, process: Process, timeout: float = READY_TIMEOUT_S) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.popen.poll() is not None:
            raise RuntimeError(f"process exited early:\n{process.output()}")
        try:
            with urllib.request.urlopen(url, timeout=1) as resp:
                if resp.status == 200:
                    return
        except (URLError, OSError):
            time.sleep(0.05)
    raise RuntimeError(f"{url} not ready after {timeout}s:\n{process.output()}")


def start_receiver(env: Mapping[str, str], port: int, log_path: Path, *extra: str) -> Process:
    args = tuxhook_command("receiver", "--host", "127.0.0.1", "--port", str(port), *extra)
    proc = Process(args, child_env(env), log_path)
    try:
        wait_http_ok(f"http://127.0.0.1:{port}/healthz", proc)
    except BaseException:
        proc.stop()  # else it outlives the test, and fails the next one with a ResourceWarning
        raise
    return proc


def start_worker(env: Mapping[str, str], log_path: Path, *args: str) -> Process:
    return Process(tuxhook_command("worker", *args), child_env(env), log_path)


def run_tuxhook(
    env: Mapping[str, str], *args: str, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """Run a one-shot command (`db upgrade`, `worker --burst`) to completion."""
    return subprocess.run(
        tuxhook_command(*args),
        env=child_env(env),
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_S,
        check=False,
        cwd=cwd,
    )
