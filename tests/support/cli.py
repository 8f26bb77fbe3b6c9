"""Run the real `tuxhook` command line in a child process, as an operator would."""

from __future__ import annotations

import subprocess
from collections.abc import Mapping

from tests.support.processes import child_env, tuxhook_command

CLI_TIMEOUT_S = 30.0  # seconds one command may take


def run_cli(env: Mapping[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        tuxhook_command(*args),
        env=child_env(env),
        capture_output=True,
        text=True,
        timeout=CLI_TIMEOUT_S,
        check=False,
    )


def one_line_error(result: subprocess.CompletedProcess[str]) -> str:
    """The command's error, checked to be one line on stderr and a non-zero exit."""
    assert result.returncode != 0, result.stdout
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("tuxhook: error: "), lines[0]
    return lines[0]
