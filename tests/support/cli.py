"""Run the real `tuxhook` command line as a child process."""

from __future__ import annotations

import asyncio
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass

from tests.support.processes import child_env, tuxhook_command

CLI_TIMEOUT_S = 60  # seconds for one CLI call


@dataclass(frozen=True)
class CliResult:
    code: int
    stdout: str
    stderr: str

    def one_line_error(self) -> str:
        """The error a failed command printed, checked to be exactly one line, no traceback."""
        assert self.code != 0
        lines = self.stderr.strip().splitlines()
        assert len(lines) == 1, self.stderr
        assert lines[0].startswith("tuxhook: error: "), self.stderr
        return lines[0]


def run_cli(*args: str, env: Mapping[str, str] | None = None) -> CliResult:
    out = subprocess.run(
        tuxhook_command(*args),
        env=child_env(env or {}),
        capture_output=True,
        text=True,
        timeout=CLI_TIMEOUT_S,
        check=False,
    )
    return CliResult(out.returncode, out.stdout, out.stderr)


async def run_cli_async(*args: str, env: Mapping[str, str] | None = None) -> CliResult:
    """For tests whose event loop serves something the command talks to."""
    proc = await asyncio.create_subprocess_exec(
        *tuxhook_command(*args),
        env=child_env(env or {}),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), CLI_TIMEOUT_S)
    assert proc.returncode is not None
    return CliResult(proc.returncode, out.decode(), err.decode())
