"""Read a child process's JSON log lines."""

from __future__ import annotations

import json
from typing import Any

from tests.support.processes import Process


def log_events(process: Process, event: str) -> list[dict[str, Any]]:
    lines = (json.loads(line) for line in process.output().splitlines() if line.startswith("{"))
    return [doc for doc in lines if doc.get("event") == event]
