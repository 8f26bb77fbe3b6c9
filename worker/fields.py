"""From a payload's `status` to outcome columns: each field typed, or null, never a guess.

A field that is missing, or not of its documented type or set of values, is stored as null;
the raw payload keeps it as it came.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from shared.constants import BUILD_STATUSES, RESULTS, STATES
from shared.timestamps import parse_time

Status = Mapping[str, Any]
Extract = Callable[[Status], Any]


def _is_text(value: Any) -> bool:
    # PostgreSQL text cannot hold NUL; such a value is not a usable name, so it is null here.
    return isinstance(value, str) and "\x00" not in value


def text(name: str) -> Extract:
    return lambda status: status[name] if _is_text(status.get(name)) else None


def choice(name: str, allowed: tuple[str, ...]) -> Extract:
    return lambda status: status[name] if status.get(name) in allowed else None


def integer(name: str) -> Extract:
    def extract(status: Status) -> int | None:
        value = status.get(name)
        return value if isinstance(value, int) and not isinstance(value, bool) else None

    return extract


def number_at(*path: str) -> Extract:
    def extract(status: Status) -> float | None:
        value: Any = status
        for key in path:
            value = value.get(key) if isinstance(value, Mapping) else None
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        return float(value) if ok else None

    return extract


def json_value(name: str, *types: type) -> Extract:
    return lambda status: status[name] if isinstance(status.get(name), types) else None


def build_uid(status: Status) -> str | None:
    """The build a test waited for: `BUILD#uid` or a bare uid. `TEST#uid` names a test."""
    waiting_for = status.get("waiting_for")
    if not _is_text(waiting_for) or not waiting_for:
        return None
    prefix, sep, uid = waiting_for.rpartition("#")
    if sep and prefix.upper() != "BUILD":
        return None
    return uid if uid.isascii() and uid.isalnum() and len(uid) <= 64 else None


def test_verdict(status: Status) -> str | None:
    """A test's result, or null while its boot is `unknown`: TuxSuite retries those."""
    results = status.get("results")
    if isinstance(results, Mapping) and results.get("boot") == "unknown":
        return None
    verdict: str | None = choice("result", RESULTS)(status)
    return verdict


def state_time(status: Status) -> datetime | None:
    """The payload's own time of its state: `running_time` for `running`, and so on."""
    state = status.get("state")
    return parse_time(status.get(f"{state}_time")) if state in STATES else None


COMMON: dict[str, Extract] = {
    "project": text("project"),
    "state": choice("state", STATES),
    "state_time": state_time,
    "result": choice("result", RESULTS),
}

BY_KIND: dict[str, dict[str, Extract]] = {
    "build": {
        "build_name": text("build_name"),
        "build_status": choice("build_status", BUILD_STATUSES),
        "toolchain": text("toolchain"),
        "target_arch": text("target_arch"),
        "kconfig": json_value("kconfig", list, str),
        "git_repo": text("git_repo"),
        "git_ref": text("git_ref"),
        "git_sha": text("git_sha"),
        "git_describe": text("git_describe"),
        "kernel_version": text("kernel_version"),
        "warnings_count": integer("warnings_count"),
        "errors_count": integer("errors_count"),
        "duration": number_at("duration"),
        "build_duration": number_at("tuxmake_metadata", "results", "duration", "build"),
        "download_url": text("download_url"),
    },
    "test": {
        "result": test_verdict,
        "device": text("device"),
        "tests": json_value("tests", list),
        "waiting_for": text("waiting_for"),
        "build_uid": build_uid,
        "retries": integer("retries"),
        "duration": number_at("duration"),
        "download_url": text("download_url"),
    },
    "oebuild": {
        "machine": text("machine"),
        "distro": text("distro"),
        "targets": json_value("targets", list),
        "sources": json_value("sources", dict),
        "download_url": text("download_url"),
    },
    "plan": {
        "name": text("name"),
        "description": text("description"),
    },
}


def columns(kind: str, status: Status) -> dict[str, Any]:
    """Every outcome column the payload of `kind` fills, by column name."""
    extractors = COMMON | BY_KIND[kind]
    return {name: extract(status) for name, extract in extractors.items()}


def per_test_results(status: Status) -> dict[str, str | None] | None:
    """Per-test results, test name to result as given (pass, fail, skip, unknown, ...)."""
    results = status.get("results")
    if not isinstance(results, Mapping):
        return None
    return {
        name: value if _is_text(value) else None
        for name, value in results.items()
        if _is_text(name) and name
    }
