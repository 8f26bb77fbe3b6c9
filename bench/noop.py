"""The ceiling's job: RQ's own SimpleWorker runs this in place of storing anything."""

from __future__ import annotations

from typing import Any


def noop(delivery: dict[str, Any]) -> None:
    return None
