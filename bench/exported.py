"""Another version of tuxhook to measure against in the same run: a git ref's files, exported
with `git archive`, and run from there with this interpreter (and its installed packages)."""

from __future__ import annotations

import io
import subprocess
import tarfile
from collections.abc import Mapping
from pathlib import Path

from tests.support.processes import Process, child_env, tuxhook_command, wait_http_ok

ROOT = Path(__file__).resolve().parent.parent


def export(ref: str, into: Path) -> Path:
    """The files of `ref` under `into`."""
    archive = subprocess.run(
        ["git", "archive", "--format=tar", ref], cwd=ROOT, capture_output=True, check=True
    ).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")
    return into


def start_receiver_in(code: Path | None, env: Mapping[str, str], port: int, log: Path) -> Process:
    """`tuxhook receiver` of the code in `code` (None: this checkout) on 127.0.0.1:port.

    `python -m` puts the working directory first on sys.path, so the exported code is imported
    rather than this checkout, which the virtualenv's editable install points at.
    """
    args = tuxhook_command("receiver", "--host", "127.0.0.1", "--port", str(port))
    proc = Process(args, child_env(env), log, cwd=code)
    wait_http_ok(f"http://127.0.0.1:{port}/healthz", proc)
    return proc
