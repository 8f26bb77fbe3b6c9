"""From a payload's `status` to outcome columns: each field typed, or null, never a guess.

A field that is missing is null. A value its column cannot hold is null too, and the outcome's
`field_errors` says why (shared/field_values.py); the raw payload keeps it as it came. The
worker stores these columns, and revision 0002 fills them for outcomes stored before it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from shared.constants import BUILD_STATUSES, INDEXED_TEXT_MAX, RESULTS, STATES
from shared.field_values import (
    FieldErrors,
    Reader,
    Status,
    choice,
    count,
    is_uid,
    json_value,
    number_at,
    refuse,
    text,
    text_value,
    time_value,
    uid,
)
from shared.outcome_rules import Facts, is_final


def state_time(status: Status, errors: FieldErrors) -> Any:
    """The payload's own time of its state: `running_time` for `running`, and so on."""
    state = status.get("state")
    if state not in STATES:
        return None
    return time_value("state_time", status.get(f"{state}_time"), errors)


# waiting_for's prefix -> the link column it fills. A bare uid names a build.
_LINKS = {
    "BUILD": "build_uid",
    "": "build_uid",
    "OEBUILD": "oebuild_uid",
    "TEST": "waiting_for_test",
}
LINK_COLUMNS = ("build_uid", "oebuild_uid", "waiting_for_test")


def links(waiting_for: Any) -> dict[str, str | None]:
    """What a test's `waiting_for` names: `BUILD#uid` or a bare uid, `OEBUILD#uid`, `TEST#uid`.
    A `TEST#` link is followed to that test's build by the store, as the chain's tests arrive."""
    found: dict[str, str | None] = dict.fromkeys(LINK_COLUMNS)
    if not isinstance(waiting_for, str):
        return found
    prefix, _, named = waiting_for.rpartition("#")
    column = _LINKS.get(prefix.upper())
    if column is not None and is_uid(named):
        found[column] = named
    return found


COMMON: dict[str, Reader] = {
    "project": text("project", indexed=True),
    "state": choice("state", STATES),
    "state_time": state_time,
    "result": choice("result", RESULTS),
}
_PLAN = {"plan_uid": uid("plan", "plan_uid")}

BY_KIND: dict[str, dict[str, Reader]] = {
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
        "git_short_log": text("git_short_log"),
        "kernel_version": text("kernel_version"),
        "warnings_count": count("warnings_count"),
        "errors_count": count("errors_count"),
        "duration": number_at("duration", "duration"),
        "build_duration": number_at(
            "build_duration", "tuxmake_metadata", "results", "duration", "build"
        ),
        "retry": count("retry"),
        "status_message": text("status_message"),
        "waited_by": json_value("waited_by", list),
        "download_url": text("download_url"),
        **_PLAN,
    },
    "test": {
        "device": text("device", indexed=True),
        "tests": json_value("tests", list),
        "waiting_for": text("waiting_for"),
        "retries": count("retries"),
        "retries_messages": json_value("retries_messages", list),
        "duration": number_at("duration", "duration"),
        "download_url": text("download_url"),
        **_PLAN,
    },
    "oebuild": {
        "machine": text("machine"),
        "distro": text("distro"),
        "targets": json_value("targets", list),
        "sources": json_value("sources", dict),
        "waited_by": json_value("waited_by", list),
        "download_url": text("download_url"),
        **_PLAN,
    },
    "plan": {
        "name": text("name"),
        "description": text("description"),
    },
}


def _boot(status: Status) -> Any:
    results = status.get("results")
    return results.get("boot") if isinstance(results, Mapping) else None


def final(kind: str, row: Mapping[str, Any], status: Status) -> bool:
    """The outcome's `final`, by shared/outcome_rules.py's table."""
    return is_final(
        Facts(
            kind=kind,
            state=row.get("state"),
            result=row.get("result"),
            build_status=row.get("build_status"),
            retry=row.get("retry"),
            auto_retry=status.get("auto_retry"),
            boot=_boot(status),
        )
    )


def columns(kind: str, status: Status, errors: FieldErrors) -> dict[str, Any]:
    """Every outcome column the payload of `kind` fills, by column name; why a value was not
    kept goes into `errors`."""
    readers = COMMON | BY_KIND[kind]
    row = {name: read(status, errors) for name, read in readers.items()}
    if kind == "test":
        row.update(links(row["waiting_for"]))
    row["final"] = final(kind, row, status)
    return row


def notes(errors: FieldErrors, repairs: list[str]) -> dict[str, Any] | None:
    """The `notes` column: `field_errors` and `repairs`, each null when empty."""
    if not errors and not repairs:
        return None
    return {"field_errors": errors or None, "repairs": repairs or None}


def _result_name(name: Any, errors: FieldErrors) -> bool:
    """A test name the store can key a row by (test_results' primary key is indexed)."""
    return bool(name) and text_value("results", name, errors, INDEXED_TEXT_MAX) is not None


def is_result_name(name: Any) -> bool:
    """Whether the store keeps a result under `name` (the comparison asks: a regression is
    keyed by its test's name too)."""
    return _result_name(name, [])


def per_test_results(status: Status, errors: FieldErrors) -> dict[str, str | None] | None:
    """Per-test results, test name to result as given (pass, fail, skip, unknown, ...)."""
    results = status.get("results")
    if results is None:
        return None
    if not isinstance(results, Mapping):
        refuse(errors, "results", "not an object")
        return None
    kept = {
        name: text_value("results", value, errors, None)
        for name, value in results.items()
        if _result_name(name, errors)
    }
    return kept
