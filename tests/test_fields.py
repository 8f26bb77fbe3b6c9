"""From payload to columns: each field typed, or null with the reason. Pure functions, no store."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from shared.constants import INDEXED_TEXT_MAX, RESULTS
from shared.field_values import FieldErrors
from shared.outcome_fields import columns, links, per_test_results
from shared.timestamps import parse_time
from tests.support.builders import callback, tuxsuite_doc

UID = "2QpE0aJbVn6S1rKx9WmT3yZcH4u"


def read(kind: str, **status: Any) -> tuple[dict[str, Any], FieldErrors]:
    errors: FieldErrors = []
    return columns(kind, callback(kind, **status)["status"], errors), errors


@pytest.mark.parametrize(
    ("waiting_for", "column"),
    [
        (f"BUILD#{UID}", "build_uid"),
        (f"build#{UID}", "build_uid"),
        (UID, "build_uid"),
        (f"OEBUILD#{UID}", "oebuild_uid"),
        (f"TEST#{UID}", "waiting_for_test"),
        ("BUILD#../etc", None),
        ("BUILD#", None),
        ("PLAN#abc", None),
        ("", None),
        (None, None),
        (["BUILD#abc"], None),
    ],
)
def test_waiting_for_names_a_build_an_oebuild_or_a_test(waiting_for: Any, column: str) -> None:
    found = links(waiting_for)
    assert found == {
        name: UID if name == column else None
        for name in ("build_uid", "oebuild_uid", "waiting_for_test")
    }


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("warnings_count", "two", "not a whole number"),
        ("warnings_count", True, "not a whole number"),
        ("warnings_count", 2.5, "not a whole number"),
        ("warnings_count", 10**30, "out of range"),
        ("warnings_count", 2**31, "out of range"),
        ("errors_count", -(2**31) - 1, "out of range"),
        ("retry", "10000000000000000000", "out of range"),
        ("retry", "1" * 400, "out of range"),
        ("toolchain", 13, "not a string"),
        ("toolchain", {"name": "gcc"}, "not a string"),
        ("toolchain", "gcc\x00-13", "holds a NUL character"),
        ("project", "p" * (INDEXED_TEXT_MAX + 1), "longer than 512 characters"),
        ("build_status", "building", "not one of pass, fail, error, canceled, unknown"),
        ("result", "passed", "not one of pass, fail, error, canceled, unknown"),
        ("duration", "412s", "not a number"),
        ("duration", "nan", "not a number"),
        ("duration", 10**400, "out of range"),
        ("duration", "9" * 401, "out of range"),
        ("duration", "1e400", "out of range"),
        ("kconfig", 7, "not a list or a string"),
        ("waited_by", "TEST#x", "not a list"),
        ("plan", "not/a/uid", "not a uid"),
    ],
)
def test_a_value_the_column_cannot_hold_is_null_with_its_reason(
    field: str, value: Any, reason: str
) -> None:
    stored, errors = read("build", **{field: value})
    column = {"plan": "plan_uid"}.get(field, field)
    assert stored[column] is None
    [error] = errors
    assert error["field"] == column
    assert error["reason"].startswith(reason)


@pytest.mark.parametrize("path", [("duration",), ("tuxmake_metadata", "results", "duration")])
def test_a_duration_of_401_digits_is_out_of_range(path: tuple[str, ...]) -> None:
    status = callback("build")["status"]
    if path == ("duration",):
        status["duration"] = int("9" * 401)
    else:
        status["tuxmake_metadata"]["results"]["duration"]["build"] = int("9" * 401)
    errors: FieldErrors = []
    stored = columns("build", status, errors)
    column = "duration" if path == ("duration",) else "build_duration"
    assert stored[column] is None
    assert errors == [{"field": column, "reason": "out of range"}]


@pytest.mark.parametrize(
    ("field", "value", "stored"),
    [
        ("warnings_count", "2", 2),
        ("errors_count", "0", 0),
        ("retry", "1", 1),
        ("warnings_count", 3.0, 3),
        ("duration", "42", 42.0),
        ("duration", "42.5", 42.5),
        ("duration", 258, 258.0),
    ],
)
def test_numbers_sent_as_strings_are_numbers(field: str, value: Any, stored: Any) -> None:
    found, errors = read("build", **{field: value})
    assert (found[field], errors) == (stored, [])


def test_a_build_duration_sent_as_a_string_is_a_number() -> None:
    status = tuxsuite_doc("build")["status"]
    status["tuxmake_metadata"]["results"]["duration"]["build"] = "42"
    errors: FieldErrors = []
    assert columns("build", status, errors)["build_duration"] == 42.0
    assert errors == []


@pytest.mark.parametrize("value", RESULTS)
@pytest.mark.parametrize(
    ("kind", "field"),
    [("build", "build_status"), ("build", "result"), ("test", "result"), ("oebuild", "result")],
)
def test_every_value_of_tuxsuites_set_is_kept(kind: str, field: str, value: str) -> None:
    found, errors = read(kind, **{field: value})
    assert (found[field], errors) == (value, [])


@pytest.mark.parametrize("boot", ["unknown", "pass", "fail"])
def test_an_infrastructure_error_is_stored_as_error_whatever_the_boot(boot: str) -> None:
    found, _ = read("test", result="error", results={"boot": boot})
    assert found["result"] == "error"


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("0001-01-01T00:00:00+01:00", "out of range"),
        ("9999-12-31T23:59:59-01:00", "out of range"),
        ("yesterday", "not an ISO 8601 time"),
        (1699000000, "not an ISO 8601 time"),
    ],
)
def test_a_time_the_store_cannot_hold_is_null_with_its_reason(value: Any, reason: str) -> None:
    found, errors = read("test", state="finished", finished_time=value)
    assert (found["state"], found["state_time"]) == ("finished", None)
    assert errors == [{"field": "state_time", "reason": reason}]


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ({"state": "running", "running_time": "2024-05-01T10:00:00"}, ("running", True)),
        ({"state": "running", "finished_time": "2024-05-01T10:00:00"}, ("running", False)),
        ({"state": "waiting", "waiting_time": "2024-05-01T10:00:00"}, (None, False)),
        ({}, (None, False)),
    ],
)
def test_the_state_time_is_the_payloads_own_time_of_its_state(
    status: dict[str, str], expected: tuple[str | None, bool]
) -> None:
    errors: FieldErrors = []
    stored = columns("plan", status, errors)
    assert (stored["state"], stored["state_time"] is not None) == expected


def test_every_field_of_the_documented_build_is_kept() -> None:
    doc = tuxsuite_doc("build", plan="2ZISTKlXYwYx1k5K4p8HIEKu7kn", waited_by=["TEST#abc"])
    status, errors = doc["status"], FieldErrors()
    stored = columns("build", status, errors)
    assert errors == []
    for name in ("git_short_log", "retry", "status_message", "waited_by", "kconfig", "toolchain"):
        assert stored[name] == status[name], name
    assert (stored["duration"], stored["plan_uid"], stored["final"]) == (
        258.0,
        status["plan"],
        True,
    )


def test_every_field_of_the_documented_test_is_kept() -> None:
    status, errors = (
        tuxsuite_doc("test", retries=1, retries_messages=["boot timeout"])["status"],
        FieldErrors(),
    )
    stored = columns("test", status, errors)
    assert errors == []
    assert (stored["retries"], stored["retries_messages"]) == (1, ["boot timeout"])
    assert (stored["device"], stored["result"], stored["final"]) == ("qemu-arm64", "pass", True)


def test_fields_of_the_right_type_are_kept() -> None:
    stored, errors = read("build")
    assert stored["kconfig"] == callback("build")["status"]["kconfig"]
    assert (stored["duration"], stored["build_duration"], errors) == (412.0, 352.7, [])
    assert read("build", kconfig="tinyconfig")[0]["kconfig"] == "tinyconfig"


def test_per_test_results_keep_names_and_drop_what_cannot_be_stored() -> None:
    long_name = "t" * (INDEXED_TEXT_MAX + 1)
    payload = {"boot": "pass", "ltp": None, "": "pass", "nul\x00": "fail", "kunit": ["x"]}
    errors: FieldErrors = []
    got = per_test_results({"results": {**payload, long_name: "pass"}}, errors)
    assert got == {"boot": "pass", "ltp": None, "kunit": None}
    assert {e["reason"] for e in errors} == {
        "holds a NUL character",
        "not a string",
        "longer than 512 characters, the most an index holds",
    }
    assert per_test_results({}, []) is None
    assert per_test_results({"results": ["boot"]}, errors) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2023-11-02T09:21:55.104212", datetime(2023, 11, 2, 9, 21, 55, 104212, UTC)),
        ("2023-11-02T11:21:55+02:00", datetime(2023, 11, 2, 9, 21, 55, tzinfo=UTC)),
        ("0001-01-01T00:00:00+01:00", None),
        ("9999-12-31T23:59:59-01:00", None),
        ("yesterday", None),
        (1699000000, None),
    ],
)
def test_payload_times_are_read_as_utc(text: Any, expected: datetime | None) -> None:
    assert parse_time(text) == expected
