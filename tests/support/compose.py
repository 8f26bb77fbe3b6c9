"""docker-compose.yml as `docker-compose config` resolves it: anchors merged, defaults filled in.

No Docker engine here; the compose binary only reads and checks the file.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]


def compose(
    *args: str, settings: Mapping[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """`docker-compose ARGS` with only PATH and HOME, so that the defaults in the file must work
    without any setting, and the `settings` given (as a shell or .env would give them)."""
    binary = shutil.which("docker-compose")
    if binary is None:
        pytest.fail("docker-compose is not installed (make system-deps installs it)")
    env = {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/tmp"), **(settings or {})}
    return subprocess.run(
        [binary, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=False
    )


def resolve(*args: str, settings: Mapping[str, str] | None = None) -> dict[str, Any]:
    result = compose(*args, "config", settings=settings)
    assert result.returncode == 0, result.stderr
    doc: dict[str, Any] = yaml.safe_load(result.stdout)
    return doc


@cache
def resolved() -> dict[str, Any]:
    return resolve()


def service(name: str) -> dict[str, Any]:
    svc: dict[str, Any] = resolved()["services"][name]
    return svc
