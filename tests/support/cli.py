"""Run the real `tuxhook` command line in a child process, as an operator would."""

from __future__ import annotations

import asyncio
import subprocess
from collections.abc import Mapping

from tests.support.processes import child_env, tuxhook_command

CLI_TIMEOUT_S = 30.0  # seconds one command may take

Result = subprocess.CompletedProcess[str]


def run_cli(env: Mapping[str, str], *args: str) -> Result:
    return subprocess.run(
        tuxhook_command(*args),
        env=child_env(env),
        capture_output=True,
        text=True,
        timeout=CLI_TIMEOUT_S,
        check=False,
    )


async def run_cli_async(env: Mapping[str, str], *args: str) -> Result:
    """For tests whose own event loop serves something the command talks to."""
    proc = await asyncio.create_subprocess_exec(
        *tuxhook_command(*args),
        env=child_env(env),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), CLI_TIMEOUT_S)
    assert proc.returncode is not None
    return subprocess.CompletedProcess(args, proc.returncode, out.decode(), err.decode())


def one_line_error(result: Result) -> str:
    """The command's error, checked to be one line on stderr and a non-zero exit."""
    assert result.returncode != 0, result.stdout
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("tuxhook: error: "), lines[0]
    return lines[0]
